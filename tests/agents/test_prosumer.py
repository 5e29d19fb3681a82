"""Prosumer battery rule and operator forecast, on a real chain through the Twin of the small scenario."""

from __future__ import annotations

import numpy as np

from sim.capabilities.vpp.spec import member_ids


def test_battery_follows_the_declaration(small_run):
    """When the household exports above its declaration the battery charges; below it, it discharges."""
    twin = small_run.twin
    rec = twin.recorder.prosumer
    for agent in twin.prosumers:
        if float(agent.limits.capacity_kwh) == 0:
            assert np.all(rec["battery_kw"][:, agent.index] == 0)
            continue
        j = agent.index
        declared_kw = np.repeat(
            [twin.capability("vpp").vpp.declared_wh(p, agent.account) / 1000 for p in range(twin.n_periods)],  # flat tariff
            twin.steps_per_period,
        )
        surplus = rec["pv_kw"][:, j] - rec["load_kw"][:, j] - declared_kw
        battery = rec["battery_kw"][:, j]
        assert np.all(np.sign(battery[np.abs(battery) > 1e-9]) == np.sign(surplus[np.abs(battery) > 1e-9]))
        assert np.all(np.abs(battery) <= np.abs(surplus) + 1e-9)
        assert battery.max() > 0 and battery.min() < 0


def test_declarations_are_on_chain_before_their_period(small_run):
    ledger = small_run.ledger
    declared = ledger[ledger.event == "Declared"]
    n_members = len(member_ids(small_run.scenario))
    assert len(declared) == small_run.scenario.n_periods * n_members
    blocks = small_run.twin.chain
    t0 = small_run.twin.inputs.t0_s
    for row in declared.drop_duplicates("block").itertuples():
        period = int(__import__("json").loads(row.args)["period"])
        ts = blocks._backend.chain.get_canonical_block_header_by_number(int(row.block)).timestamp  # pruned: headers
        assert ts < t0 + period * small_run.scenario.run.settlement_s


def test_fleet_step_equals_each_prosumers_step(small_run):
    """ProsumerFleet (what the Twin runs) gives bit for bit what each Prosumer.step gives."""
    from agents.prosumer import ProsumerFleet

    twin = small_run.twin
    start_soc = [0.5 * float(p.limits.capacity_kwh) for p in twin.prosumers]
    for p, soc in zip(twin.prosumers, start_soc):
        p.soc_kwh = soc
    fleet = ProsumerFleet(twin.prosumers)
    scalar_soc = list(start_soc)
    for k in range(0, twin.n_steps, 3):
        twin.k = k
        fleet_kw = fleet.step(twin).copy()
        for j, p in enumerate(twin.prosumers):
            p.soc_kwh = scalar_soc[j]
            p.step()
            scalar_soc[j] = p.soc_kwh
            assert p.battery_kw == fleet_kw[j]
            assert p.soc_kwh == fleet.soc_kwh[j]
    assert np.any(fleet_kw != 0)
