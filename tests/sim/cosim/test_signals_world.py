"""DR signals into the grid operator and power into certificate sites, fed by mosaik-csv 2.0.1 (a simulator
gridledger did not write) under mosaik 3.6.

* Fed exactly the DR requests the native run's operator made (per minute the power it asked its outlets to hold,
  and the requested reduction of each event it opened on chain), the operator following the mosaik signal gives the
  identical ledger: the same DR events, delays, FLEX tokens, blocks and transaction hashes.
* A request far beyond what the outlets may give is held only within the limits registered on chain
  (``OutletRegistered``: per event, per day, no-delay hours), and no delay report is refused.
* Fed each site's own generation of the native run, the certificates settle identically; fed a power above the
  weather oracle's cap, a site is minted only up to the cap (``CapPosted``/``Issued``, the readings log's metered Wh).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from agents.dsr.grid_operator import GridOperator
from sim.cosim.world import run_world
from sim.inputs import run_times
from sim.results.summary import event_args
from sim.runner import run_scenario
from sim.scenario import load_scenario
from tests.conftest import CERTS_SMALL, ROOT

DSR = ROOT / "scenarios" / "micro_dsr.toml"
CERTS = ROOT / "scenarios" / "certificates.toml"
EVENING = {"run.start": dt.datetime(2025, 1, 13, 15, 0), "run.duration_s": 10_800}  # as test_models_world
OPERATOR_ATTRS = ("event_id", "requested_w", "held_kw", "outlets_holding")
SIGNAL = {"GridOperator": {None: {"dr_request_kw": "dr_request_kw", "dr_event_w": "dr_event_w"}}}


def _ledger(folder):
    return pd.read_parquet(folder / "ledger.parquet")


def _write_csv(path, scenario_file, overrides, columns: dict[str, np.ndarray]):
    """A mosaik-csv data file: the run's step starts (ISO 8601 with offset) and ``columns``, one row a step."""
    scenario = load_scenario(scenario_file).with_overrides(overrides)
    n = scenario.run.duration_s // scenario.run.step_s
    times = run_times(scenario.run, scenario.site)[:n]
    pd.DataFrame({"time": [t.isoformat() for t in times], **columns}).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def dr_runs(tmp_path_factory):
    """The evening natively, the operator's requests recorded (its ``need_kw``, called each minute of an event),
    then the same evening under mosaik with mosaik-csv feeding those requests to the GridOperator entity."""
    root = tmp_path_factory.mktemp("cosim-dr")
    needs: dict[int, float] = {}
    need_kw = GridOperator.need_kw

    def recorded(self, requested_kw):
        needs[self.model.k] = value = need_kw(self, requested_kw)
        return value

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(GridOperator, "need_kw", recorded)
        native = run_scenario(DSR, overrides=EVENING, out=root / "native")
    events = event_args(native.ledger, "FlexDelays", "DrEventCreated")
    n = EVENING["run.duration_s"] // 60
    request_kw, event_w = np.zeros(n), np.zeros(n, dtype=int)
    for k, kw in needs.items():
        request_kw[k] = max(kw, 0.0)  # a need below 0 (headroom): nothing to hold
    event_w[events.start_min.to_numpy(int)] = events.requested_w.to_numpy(int)
    csv = _write_csv(root / "dr.csv", DSR, EVENING, {"dr_request_kw": request_kw, "dr_event_w": event_w})
    co = run_world(DSR, {"GridOperator": {None: OPERATOR_ATTRS}, "Ledger": {None: ("flex_tokens",)}},
                   overrides=EVENING, out=root / "mosaik", csv_file=csv, feed=SIGNAL)
    return native, co, root / "mosaik", request_kw, events


@pytest.mark.slow
def test_the_native_operators_requests_fed_through_mosaik_give_the_identical_ledger(dr_runs):
    native, co, out, request_kw, events = dr_runs
    assert len(events) >= 2 and (request_kw > 0).sum() > 30  # something was asked and held
    pd.testing.assert_frame_equal(_ledger(out), native.ledger)  # event for event: block, tx hash, args
    op = co["outputs"]["grid-operator"]
    # what the operator entity gave each minute is the native run's: the events on chain, what the outlets held
    ts = native.timeseries
    held = ts[(ts.entity == "dsr") & (ts.quantity == "held_kw")].value.to_numpy()
    holding = ts[(ts.entity == "dsr") & (ts.quantity == "outlets_holding")].value.to_numpy()
    assert [op[k * 60]["held_kw"] for k in range(len(held))] == held.tolist()
    assert [op[k * 60]["outlets_holding"] for k in range(len(held))] == holding.astype(int).tolist()
    for e in events.itertuples():
        for k in range(e.start_min, min(e.start_min + e.duration_min, len(held))):
            assert (op[k * 60]["event_id"], op[k * 60]["requested_w"]) == (e.event_id, e.requested_w)
    tokens = co["outputs"]["ledger"]
    assert tokens[max(tokens)]["flex_tokens"] == native.summary["dsr"]["tokens_total"] > 0


@pytest.mark.slow
def test_a_request_beyond_the_outlets_limits_is_held_within_them(tmp_path):
    overrides = {**EVENING, "run.duration_s": 5400}  # 90 minutes, 2000 kW asked throughout
    n = 90
    csv = _write_csv(tmp_path / "dr.csv", DSR, overrides,
                     {"dr_request_kw": np.full(n, 2000.0), "dr_event_w": np.zeros(n, dtype=int)})
    co = run_world(DSR, {"GridOperator": {None: OPERATOR_ATTRS}}, overrides=overrides, out=tmp_path / "mosaik",
                   csv_file=csv, feed=SIGNAL)
    ledger = _ledger(tmp_path / "mosaik")
    events = event_args(ledger, "FlexDelays", "DrEventCreated")
    assert events[["start_min", "duration_min", "requested_w"]].values.tolist() == [[0, 60, 2_000_000],
                                                                                    [60, 60, 2_000_000]]
    delays = event_args(ledger, "FlexDelays", "DelayLogged")
    limits = event_args(ledger, "FlexDelays", "OutletRegistered").set_index("outlet")
    assert len(delays) > 0
    per_event = delays.join(limits[["max_delay_per_event_min", "max_delay_per_day_min"]], on="outlet")
    assert (per_event.delay_min <= per_event.max_delay_per_event_min).all()
    per_day = per_event.groupby("outlet").agg(used=("delay_min", "sum"), limit=("max_delay_per_day_min", "first"))
    assert (per_day.used <= per_day.limit).all()
    assert (per_event.delay_min == per_event.max_delay_per_event_min).any()  # limits were what stopped holds
    summary = co["summary"]["dsr"]
    assert summary["reports_refused"] == 0 and summary["limit_violations_in_ledger"] == 0
    op = co["outputs"]["grid-operator"]
    held = [op[k * 60]["held_kw"] for k in range(n)]
    assert 0 < max(held) < 2000.0  # far less than asked: all the outlets could give
    assert max(op[k * 60]["outlets_holding"] for k in range(n)) <= summary["outlets"]


SITE_ATTRS = ("interval", "cap_wh", "minted_wh", "p_kw")


def _site_feed(sites: list[str]) -> dict:
    return {"Site": {name: {f"{name}_p_kw": "p_kw"} for name in sites}}


@pytest.mark.slow
def test_sites_fed_their_own_generation_settle_as_the_native_run(certs_run, tmp_path):
    ts = certs_run.timeseries
    gen = ts[ts.quantity == "generation_kw"].pivot(index="time", columns="entity", values="value")
    sites = list(gen.columns)
    assert len(sites) == 5
    csv = _write_csv(tmp_path / "sites.csv", CERTS, CERTS_SMALL,
                     {f"{name}_p_kw": gen[name].to_numpy() for name in sites})
    co = run_world(CERTS, {"Site": {name: ("p_kw",) for name in sites}}, overrides=CERTS_SMALL,
                   out=tmp_path / "mosaik", csv_file=csv, feed=_site_feed(sites))
    pd.testing.assert_frame_equal(_ledger(tmp_path / "mosaik"), _ledger(certs_run.folder))
    for name in sites:  # the power each site's meter integrated is the one fed (read back after each step); the
        # CSV's text comes back through pandas' default float parser (mosaik-csv's) within an ulp of what was written
        given = [v["p_kw"] for _, v in sorted(co["outputs"][name].items())]
        np.testing.assert_allclose(given, gen[name].to_numpy(), rtol=1e-14, atol=0)
    assert co["summary"]["certificates"]["minted_kwh"] == certs_run.summary["certificates"]["minted_kwh"] > 0


@pytest.mark.slow
def test_a_site_fed_above_the_weathers_cap_is_minted_only_up_to_the_cap(certs_run, tmp_path):
    """pv-stade fed its nameplate 2500 kW all day and night: its meter measures it, the oracle's caps stay the
    weather's, and every interval minted is min(metered, cap) — the cap wherever the weather allowed less."""
    n = CERTS_SMALL["run.duration_s"] // 900
    csv = _write_csv(tmp_path / "stade.csv", CERTS, CERTS_SMALL, {"pv-stade_p_kw": np.full(n, 2500.0)})
    run_world(CERTS, {"Site": {"pv-stade": SITE_ATTRS}}, overrides=CERTS_SMALL, out=tmp_path / "mosaik",
              csv_file=csv, feed=_site_feed(["pv-stade"]))
    ledger = _ledger(tmp_path / "mosaik")
    device = event_args(ledger, "Certificates", "DeviceRegistered").set_index("name").device_id["pv-stade"]

    def of_stade(frame, event):
        rows = event_args(frame, "Certificates", event)
        return rows[rows.device_id == device].set_index("period")

    caps, issued = of_stade(ledger, "CapPosted").cap_wh, of_stade(ledger, "Issued").amount_wh
    assert caps.equals(of_stade(_ledger(certs_run.folder), "CapPosted").cap_wh)  # the weather's, whatever was fed
    readings = pd.read_parquet(tmp_path / "mosaik" / "readings.parquet")
    metered = readings[(readings.meter == "meter/pv-stade") & (readings.status == "accepted")].set_index("period")
    assert len(metered) > 0 and (metered.energy_wh == 2_500_000).all()  # 2500 kW over each hour, measured
    for period, amount in issued.items():
        assert amount == min(metered.energy_wh[period], caps[period])
    clipped = [p for p in issued.index if caps[p] < metered.energy_wh[p]]
    assert clipped and all(issued[p] == caps[p] for p in clipped)
    assert set(issued.index) == set(metered.index[caps[metered.index] > 0])  # no cap, no certificate
    assert issued.sum() == caps[metered.index].sum() < metered.energy_wh.sum()
