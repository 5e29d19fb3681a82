"""End to end, on the real chain, with the device simulator on loopback: a device meter settles its prosumer,
a relay follows the VPP declaration, injected faults leave the run alive with gaps flagged estimated, a short
soak at real time reports its latencies, and a strict run stops with a clear error."""

from __future__ import annotations

import json

import pytest

from sim.hil.bridge import hil_summary
from sim.hil.pacing import DeadlineMissed
from sim.hil.simulator import DeviceSimulator
from sim.hil.table import DeviceTable
from sim.results.summary import event_args, ledger_frame
from sim.runner import run_scenario
from sim.scenario import load_scenario
from sim.twin import Twin
from tests.conftest import ROOT
from tests.sim.hil.conftest import MEMBER, bound, hil_scenario, meter, relay
from tests.sim.test_report_browser import CHROMIUM, REQUIRED
from tests.sim.test_report_browser import _check_run as check_report

pytestmark = pytest.mark.slow


def _simulator(devices, factor):
    table = DeviceTable.model_validate({"simulator": {"time_factor": factor}, "devices": devices})
    return DeviceSimulator(table).start()


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory):
    """06:50-07:20, 5-minute periods at 300x: the VPP declares nothing for MEMBER until 07:10, then > 0."""
    # a generous request timeout: on a loaded machine a 0.2 s one turned a late reply into a gap once
    devices = [meter(poll_s=5.0, timeout_s=1.0), relay(poll_s=5.0, watchdog_s=60.0, timeout_s=1.0)]
    sim = _simulator(devices, 300.0)
    try:
        scenario = hil_scenario([bound(sim, d) for d in devices], factor=300.0, duration_s=1800, step_s=60,
                                settlement_s=300, start="2025-06-02T06:50:00")
        result = run_scenario(scenario, out=tmp_path_factory.mktemp("hil") / "clean")
    finally:
        sim.stop()
    assert not sim.running
    return result, sim


@pytest.mark.skipif(CHROMIUM is None and not REQUIRED, reason="Debian's chromium is not installed")
def test_the_hil_runs_report_reads_in_chromium(clean_run):
    """The report of a run with a device meter and a relay, checked as every shipped scenario's is."""
    check_report(clean_run[0].folder, "hil")


def test_device_meter_settles_its_prosumer_on_chain_with_the_devices_values(clean_run):
    result, sim = clean_run
    twin = result.twin
    m = twin.hil.meters["meter-a"]
    member = twin.accounts[MEMBER]
    registered = twin.capability("vpp").vpp.call("member_of_meter", m.address)
    assert registered.lower() == member.lower()  # the device's key is the member's registered meter
    accepted = event_args(result.ledger, "VppSettlement", "ReadingAccepted")
    mine = accepted[accepted.member == member].sort_values("period")
    assert list(mine.period) == list(range(6)) and set(mine.meter) == {m.address} and set(mine.quality) == {0}
    boundary = [m.boundary_wh[b] for b in range(7)]
    served = {v for _, v in sim.devices["meter-a"].served_energy_wh}
    assert all(v in served for v in boundary)  # every boundary value is one the device served
    assert list(mine.energy_wh) == [b - a for a, b in zip(boundary, boundary[1:])]  # the ledger shows the device
    assert mine.energy_wh.sum() > 0 and m.gaps == []
    readings = result.readings[result.readings.meter == "hil/meter-a"]
    assert len(readings) == 6 and set(readings.status) == {"accepted"}
    assert result.summary["vpp"]["readings"]["accepted_on_chain"] == 3 * 6


def test_relay_switches_with_the_vpp_declaration_read_back_and_ends_safe(clean_run):
    result, sim = clean_run
    twin = result.twin
    vpp, member = twin.capability("vpp").vpp, twin.accounts[MEMBER]
    declared = [vpp.declared_wh(p, member) for p in range(twin.n_periods)]
    assert 0 in declared and any(declared)  # the run crosses from no declaration to one
    act = twin.hil.actuators["relay-a"]
    confirmed = [(t, state) for t, _, state, q in act.samples if q == 0 and t < twin.scenario.run.duration_s]
    assert len(confirmed) >= 0.9 * len(act.samples) - 1
    for t, state in confirmed:
        assert state == float(declared[int(t // 300)] > 0)
    history = [v for _, v in sim.devices["relay-a"].history]
    assert history[:3] == [0.0, 1.0, 0.0]  # its register switched on with the declaration, off when the bridge left
    assert act.confirmations >= 2 and act.link.faults["readback_mismatch"] == 0
    assert result.summary["hil"]["devices"]["relay-a"]["safe_state_written_on_close"] is True


def test_summary_and_manifest_report_the_hil_section(clean_run):
    result, _ = clean_run
    summary = json.loads((result.folder / "summary.json").read_text())
    hil = summary["hil"]
    assert set(hil["devices"]) == {"meter-a", "relay-a"}
    assert hil["polls"] == 2 * (1800 // 5 + 1)
    assert set(hil["faults"]) == {"timeout", "connection", "exception_reply", "garbage", "readback_mismatch"}
    assert isinstance(hil["deadlines_missed"], int) and hil["realtime"]["factor"] == 300.0
    assert hil["step_latency_s"]["n"] == 30 and hil["step_latency_s"]["p50"] <= hil["step_latency_s"]["p99"]
    manifest = json.loads((result.folder / "manifest.json").read_text())
    assert [d["name"] for d in manifest["devices"]["table"]] == ["meter-a", "relay-a"]
    assert manifest["devices"]["table"][0]["registers"][0]["type"] == "uint32"
    ts = result.timeseries
    assert (ts[(ts.entity == "meter-a") & (ts.quantity == "energy_register_wh")].value.notna().sum() >= 300)


def _inject(env, sim, schedule):
    for t_s, kind, duration_s, options in schedule:
        yield env.timeout(t_s - env.now)
        sim.inject(kind, duration_s=duration_s, **options)


FAULTS = [  # simulated seconds; device seconds run at the same speed (time factor = realtime factor)
    (50, "drop", 5.0, {}),
    (150, "drop", 60.0, {}),  # over the boundary at 180 s: periods 2 and 3 cannot be closed
    (250, "slow", 20.0, {"reply_delay_s": 0.2}),  # wall seconds, longer than the 0.05 s timeout
    (300, "exception", 20.0, {"exception_code": 6}),
    (350, "garbage", 10.0, {}),
    (400, "restart", 20.0, {}),
]


def test_injected_faults_leave_the_run_alive_gaps_estimated_and_counted():
    """At 60x a timeout of 0.05 wall s stalls the clock 3 simulated s; the drops are long against that."""
    devices = [meter(poll_s=2.0, timeout_s=0.05), relay(poll_s=2.0, timeout_s=0.05, watchdog_s=20.0)]
    sim = _simulator(devices, 60.0)
    try:
        scenario = hil_scenario([bound(sim, d) for d in devices], factor=60.0, duration_s=480, step_s=60,
                                settlement_s=60)
        twin = Twin(scenario)
        twin.env.process(_inject(twin.env, sim, FAULTS))
        twin.run()
    finally:
        sim.stop()
    ledger = ledger_frame(twin.chain.events)
    assert len(event_args(ledger, "VppSettlement", "PeriodSettled")) == 8  # alive to the end, every period settled
    m = twin.hil.meters["meter-a"]
    assert {2, 3} <= set(m.gaps)
    accepted = event_args(ledger, "VppSettlement", "ReadingAccepted")
    mine = accepted[accepted.meter == m.address].set_index("period")
    assert sorted(mine.index) == list(range(8))  # a reading for every period: measured or estimated
    assert set(mine[mine.quality == 1].index) == set(m.gaps)  # exactly the gaps are flagged estimated on chain
    # nothing lost or invented across the gaps: what settled is the device's register difference over the run
    assert mine.energy_wh.sum() == m.boundary_wh[8] - m.boundary_wh[0]
    hil = hil_summary(twin)
    for kind in ("timeout", "connection", "exception_reply", "garbage"):
        assert hil["faults"][kind] >= 1, kind
    assert hil["reconnects"] >= 4 and hil["devices"]["meter-a"]["link"]["reconnects"] >= 4
    assert hil["polls"] == 2 * (480 // 2 + 1)
    relay_history = [v for _, v in sim.devices["relay-a"].history]
    assert relay_history[:4] == [0.0, 1.0, 0.0, 1.0]  # on; safe (watchdog) during the 60 s drop; on again
    act = twin.hil.actuators["relay-a"]
    assert act.assumed_safe_polls >= 1 and act.samples[-1][3] == 0


def test_short_soak_at_real_time_reports_latencies():
    devices = [meter(poll_s=1.0)]
    sim = _simulator(devices, 1.0)
    try:
        scenario = hil_scenario([bound(sim, d) for d in devices], factor=1.0, duration_s=20, step_s=10,
                                settlement_s=10)
        result = run_scenario(scenario)
    finally:
        sim.stop()
    hil = result.summary["hil"]
    assert hil["polls"] == 21 and hil["devices"]["meter-a"]["polls_ok"] + hil["faults_total"] >= 21
    assert hil["step_latency_s"]["n"] == 2 and hil["step_latency_s"]["p99"] is not None
    assert hil["deadlines_missed"] == hil["realtime"]["deadlines_missed"] >= 0
    assert result.summary["vpp"]["periods_settled"] == 2


def test_strict_run_stops_with_a_clear_error_and_leaves_the_relay_safe(tmp_path):
    devices = [relay(poll_s=10.0)]
    sim = _simulator(devices, 1.0)
    try:
        scenario = hil_scenario([bound(sim, d) for d in devices], factor=1.0, duration_s=600, step_s=60,
                                settlement_s=300, realtime={"factor": 1.0, "strict": True, "slack_s": 0.0})
        with pytest.raises(DeadlineMissed, match="lower realtime.factor, raise realtime.slack_s"):
            run_scenario(scenario, out=tmp_path / "strict")
        assert sim.devices["relay-a"].value == 0.0
    finally:
        sim.stop()
    manifest = json.loads((tmp_path / "strict" / "manifest.json").read_text())
    assert manifest["status"] == "incomplete" and "DeadlineMissed" in manifest["error"]


@pytest.mark.skipif(CHROMIUM is None and not REQUIRED, reason="Debian's chromium is not installed")
@pytest.mark.parametrize("name, table", [("hil_demo", "hil_devices"), ("hil_dsr", "hil_dsr_devices")])
def test_the_shipped_hil_scenarios_run_and_their_reports_read_in_chromium(tmp_path, name, table):
    """The shipped HIL scenarios on their shipped device tables, simulated on loopback (free ports, 600 simulated
    seconds per wall second), then each report checked as every shipped scenario's is."""
    from sim.schema import read_toml

    data = read_toml(ROOT / "scenarios" / f"{table}.toml", "device table")
    sim = _simulator([{**d, "port": 0} for d in data["devices"]], 600.0)
    try:
        scenario = load_scenario(ROOT / "scenarios" / f"{name}.toml").with_overrides({
            "realtime.factor": 600.0, "hil.devices_file": None,
            "devices": [bound(sim, {**d, "port": 0}) for d in data["devices"]]})
        result = run_scenario(scenario, out=tmp_path / "run")
    finally:
        sim.stop()
    assert result.manifest["status"] == "complete" and result.summary["hil"]
    check_report(result.folder, name)
