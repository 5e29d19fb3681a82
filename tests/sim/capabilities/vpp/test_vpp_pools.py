"""A VPP in pools (``vpp.pool_members``; how a community beyond one contract's 256 members settles): each pool is
its own VppSettlement with its own members and shares; the prosumers' physics and every member's declared,
delivered and penalised energy are exactly those of the same VPP in one contract, and each pool pays out
exactly its own revenue plus penalties. Both settlement paths; one pool's refused day leaves the others'
settled."""

from __future__ import annotations

import pytest

from contracts.eip712 import key_for, sign_reading_batch
from sim.capabilities.vpp.ledger import member_flows
from sim.capabilities.vpp.spec import member_ids
from sim.measurement.meters import VirtualMeter
from sim.results.summary import event_args
from sim.runner import run_scenario

pytestmark = pytest.mark.slow

ZERO = "0x0000000000000000000000000000000000000000"
POOLED = {"vpp.pool_members": 4}  # the small scenario's 6 members: pools of 3 and 3


def _per_member(summary: dict, key: str) -> dict:
    return {m: d[key] for m, d in summary["vpp"]["member_detail"].items()}


def _pool_flows(result) -> list[tuple[int, int]]:
    """Per pool (by contract address, in deployment order): (revenue + penalties, payouts) [ueur] from the
    ledger alone."""
    ledger = result.ledger
    settled = event_args(ledger, "VppSettlement", "PeriodSettled")
    settled["address"] = ledger.loc[settled.index, "address"]
    payouts, _, _ = member_flows(ledger)
    pool_of = {result.twin.accounts[m]: d["pool"] for m, d in result.summary["vpp"]["member_detail"].items()}
    out = []
    for i, pool in enumerate(result.summary["vpp"]["pools"]):
        mine = settled[settled.address == pool["address"]]
        out.append((int((mine.revenue_ueur + mine.penalties_ueur).sum()),
                    int(payouts[payouts.member.map(pool_of) == i].amount_ueur.sum())))
    return out


@pytest.mark.parametrize("settlement", ["period", "day"])
def test_pools_settle_each_member_as_one_contract_does(small_scenario, settlement):
    # seed 1: a day whose PV falls short of the day-ahead declarations, so that penalties are split too (seed 0's
    # day exceeds its day-ahead declarations since issue 20's weather: Ineichen's beam under clear skies, a cooler June)
    base = {"chain.backend": "revm", "vpp.settlement": settlement, "run.seed": 1}
    one = run_scenario(small_scenario.with_overrides(base))
    pooled = run_scenario(small_scenario.with_overrides({**base, **POOLED}))
    vpp1, vpp2 = one.summary["vpp"], pooled.summary["vpp"]

    assert [p["members"] for p in vpp2["pools"]] == [3, 3] and len(vpp1["pools"]) == 1
    assert len({p["address"] for p in vpp2["pools"]}) == 2
    assert pooled.timeseries.equals(one.timeseries)  # same declarations per member: same battery and feeder
    for key in ("delivered_kwh", "penalties_eur"):
        assert _per_member(pooled.summary, key) == _per_member(one.summary, key)
    for key in ("periods_settled", "declared_kwh", "delivered_kwh", "revenue_eur", "penalties_eur", "paid_eur",
                "periods_with_penalty"):
        assert vpp2[key] == pytest.approx(vpp1[key], abs=1e-9), key
    assert vpp2["periods_settled"] == 24 and not vpp2["unsettled_periods"]
    assert vpp2["penalties_eur"] > 0 and vpp2["money_conserved_every_period"]
    assert vpp2["on_chain_totals_eur"] == pytest.approx(vpp1["on_chain_totals_eur"], abs=1e-9)
    assert vpp2["readings"]["accepted_on_chain"] == vpp1["readings"]["accepted_on_chain"] == 6 * 24

    flows = _pool_flows(pooled)
    assert all(owed == paid > 0 for owed, paid in flows)  # each pool pays exactly its own money
    shares = _per_member(pooled.summary, "share_bps")
    pools = _per_member(pooled.summary, "pool")
    for i in range(2):
        assert sum(s for m, s in shares.items() if pools[m] == i) == 10_000
    # a member is registered in its own pool's contract only
    cap = pooled.twin.capability("vpp")
    for i, pool in enumerate(cap.pools):
        other = cap.pools[1 - i].vpp
        for j in pool.member_cols:
            meter = pooled.twin.prosumer_meters[j].address
            member = pooled.twin.accounts[pooled.twin.prosumer_ids[j]]
            assert pool.vpp.call("member_of_meter", meter).lower() == member.lower()
            assert other.call("member_of_meter", meter) == ZERO
    with pytest.raises(AttributeError, match="2 pools"):
        cap.vpp


def test_a_refused_day_in_one_pool_leaves_the_other_settled(small_scenario, monkeypatch):
    horizon = {"run.duration_s": 2 * 86_400, "chain.backend": "revm", "vpp.settlement": "day", **POOLED}
    scenario = small_scenario.with_overrides(horizon)
    forged_id = "meter/" + member_ids(scenario)[4]  # in the second pool
    honest = VirtualMeter.sign_batch

    def sign_batch(self, domain_separator, first_period, energy_wh, quality):
        if self.meter_id == forged_id and first_period == 24:
            return sign_reading_batch(key_for(99, "intruder"), domain_separator, first_period, energy_wh, quality,
                                      meter=self.address)
        return honest(self, domain_separator, first_period, energy_wh, quality)

    monkeypatch.setattr(VirtualMeter, "sign_batch", sign_batch)
    result = run_scenario(scenario)
    vpp = result.summary["vpp"]
    assert sorted(map(int, vpp["unsettled_periods"])) == list(range(24, 48))
    assert {r.split(":")[0] for r in vpp["unsettled_periods"].values()} == {"pool 1"}
    assert vpp["periods_settled"] == 24  # the second day settled in pool 0 only: not a settled period
    settled = event_args(result.ledger, "VppSettlement", "PeriodSettled")
    assert len(settled) == 24 * 2 + 24  # day 1 in both pools, day 2 in pool 0
    log = result.readings[result.readings.meter.str.startswith("meter/")]
    refused = log[log.status == "refused"]
    pool_1 = {f"meter/{m}" for m, d in vpp["member_detail"].items() if d["pool"] == 1}
    assert set(refused.meter) == pool_1 and set(refused.period) == set(range(24, 48))
    assert vpp["readings"]["accepted_on_chain"] == 6 * 24 + 3 * 24
    assert vpp["money_conserved_every_period"]
    assert all(owed == paid for owed, paid in _pool_flows(result))


def test_a_period_no_pool_could_settle_keeps_every_pools_reason(small_scenario, monkeypatch):
    from contracts.chain import ChainRevert
    from contracts.vpp import VppSettlement

    honest = VppSettlement.settle

    def settle(self, period, *, sender):
        if period == 5:
            raise ChainRevert("VppSettlement", "settle", f"refused at {self.address[:8]}")
        return honest(self, period, sender=sender)

    monkeypatch.setattr(VppSettlement, "settle", settle)
    result = run_scenario(small_scenario.with_overrides({"chain.backend": "revm", **POOLED}))
    vpp = result.summary["vpp"]
    addresses = [p["address"][:8] for p in vpp["pools"]]
    assert vpp["unsettled_periods"] == {"5": f"pool 0: refused at {addresses[0]}; pool 1: refused at {addresses[1]}"}
    assert vpp["periods_settled"] == 23 and vpp["money_conserved_every_period"]


def test_a_community_of_1000_settles_a_day_in_four_pools():
    """The scaling benchmark's largest size, one day on revm: 1000 prosumers on the district feeder, 4 pools of
    250, every member's every hourly value verified and every period settled in every pool."""
    from pathlib import Path

    from sim.scenario import load_scenario

    root = Path(__file__).resolve().parents[4]
    scenario = load_scenario(root / "scenarios" / "vpp_year_100_prosumers.toml").with_overrides({
        "chain.backend": "revm", "run.duration_s": 86_400, "feeder.network": "kerber_vorstadtnetz_district_7",
        "population.0.count": 640, "population.1.count": 360})
    result = run_scenario(scenario)
    vpp = result.summary["vpp"]
    assert vpp["members"] == 1000 and [p["members"] for p in vpp["pools"]] == [250] * 4
    assert vpp["periods_settled"] == 24 and not vpp["unsettled_periods"]
    assert result.summary["chain"]["readings_verified"] == vpp["readings"]["accepted_on_chain"] == 1000 * 24
    assert vpp["money_conserved_every_period"] and all(owed == paid for owed, paid in _pool_flows(result))
