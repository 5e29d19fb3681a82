"""End to end, on the real chain, with the device simulator on loopback: a relay switching a smart outlet follows
the micro-DSR dispatch of scenarios/hil_dsr.toml (the relay's coil goes off at each delay's first minute and on
again when it ends, on the simulator's side), each delay is logged on chain by FlexDelays; and a delay whose
relay stops answering is claimed on chain only for the minutes the relay was read back off.

The simulator runs in-process with its clock slaved to the twin's simulated clock, so that the device's own
history is in the run's seconds and can be compared with the chain exactly (no wall-clock timing asserted)."""

from __future__ import annotations

import pytest

from sim.hil.simulator import DeviceSimulator
from sim.hil.table import DeviceTable, load_device_table
from sim.results.summary import event_args, ledger_frame
from sim.scenario import ScenarioError, load_scenario
from sim.twin import Twin
from tests.conftest import ROOT

pytestmark = pytest.mark.slow
OUTLET, RELAY = "home-43/ev_charger", "ev-relay"  # the scenario's relay: a clean link
# a second relay, added here, on another car charger that the run holds from minute 62 on: its requests go
# unanswered from half a minute before LOST_MIN, so the minutes from LOST_MIN on cannot be confirmed
CUT_OUTLET, CUT_RELAY, LOST_MIN = "home-17/ev_charger", "cut-relay", 64
FACTOR = 100_000.0  # simulated seconds per wall second: in effect as fast as the twin runs (not strict)
TIMEOUT_S = 1.0  # wall seconds per request


def _drop(env, sim):
    yield env.timeout(LOST_MIN * 60 - 30 - env.now)
    sim.inject("drop", duration_s=600.0, device=CUT_RELAY)


@pytest.fixture(scope="module")
def run():
    """scenarios/hil_dsr.toml against its device table (plus CUT_RELAY) served on a free loopback port.
    Returns (twin, simulator, ledger); the simulator is stopped."""
    table = load_device_table(ROOT / "scenarios" / "hil_dsr_devices.toml")
    # a generous timeout: a reply late because the machine is busy must not look like lost communication
    devices = [d.model_dump(mode="python") | {"port": 0, "timeout_s": TIMEOUT_S} for d in table.devices]
    devices.append(devices[0] | {"name": CUT_RELAY, "unit_id": 2, "entity": f"outlet/{CUT_OUTLET}"})
    clock = {"env": None}
    sim = DeviceSimulator(DeviceTable.model_validate({"devices": devices}),
                          clock=lambda: clock["env"].now if clock["env"] is not None else 0.0).start()
    try:
        bound = [d | {"port": sim.ports[d["name"]]} for d in devices]
        scenario = load_scenario(ROOT / "scenarios" / "hil_dsr.toml").with_overrides({
            "hil.devices_file": None, "devices": bound,
            "realtime": {"factor": FACTOR, "strict": False, "slack_s": 0.25}})
        twin = Twin(scenario)
        clock["env"] = twin.env
        twin.env.process(_drop(twin.env, sim))
        twin.run()
    finally:
        sim.stop()
    assert not sim.running
    return twin, sim, ledger_frame(twin.chain.events)


def _delays_of(twin, ledger, outlet_name):
    cap = twin.capability("dsr")
    n, outlet = next((n, o) for n, o in enumerate(cap.outlets) if o.name == outlet_name)
    logged = event_args(ledger, "FlexDelays", "DelayLogged")
    return outlet, cap.relays[n], logged[logged.outlet == outlet.address].sort_values("start_min")


def test_relay_switches_off_and_on_with_each_dsr_delay_and_the_delay_is_on_chain(run):
    twin, sim, ledger = run
    cap = twin.capability("dsr")
    outlet, rec, mine = _delays_of(twin, ledger, OUTLET)
    assert len(mine) >= 1 and mine.delay_min.min() >= 2  # the scenario holds this charger for minutes
    events = event_args(ledger, "FlexDelays", "DrEventCreated").set_index("event_id")
    expected = [(0.0, 1.0)]  # the relay starts in its safe state: on
    for d in mine.itertuples():
        ev = events.loc[d.event_id]
        assert ev.start_min <= d.start_min and d.start_min + d.delay_min <= ev.start_min + ev.duration_min
        expected += [(d.start_min * 60.0, 0.0), ((d.start_min + d.delay_min) * 60.0, 1.0)]
    # on the simulator's side: the coil went off at each delay's first minute and on when it ended, nothing else
    assert sim.devices[RELAY].history == expected
    # on chain: the customer's, tokens minted per Wh shifted, within the contract's counter for the customer
    assert set(mine.customer.str.lower()) == {outlet.customer.lower()}
    assert (mine.tokens == mine.shifted_wh * twin.scenario.dsr.tokens_per_kwh).all() and mine.shifted_wh.min() > 0
    assert cap.flex.call("delay_min_of", outlet.customer) >= int(mine.delay_min.sum())
    assert rec["held_min"] == rec["held_min_confirmed_off"] == int(mine.delay_min.sum())
    assert rec["delays_cut"] == 0 and rec["free_min_not_confirmed_on"] == 0
    assert rec["free_min"] + rec["held_min"] == twin.n_steps
    summary = cap.summary(ledger)
    assert summary["hil_outlets"]["relays"][OUTLET]["entity"] == f"outlet/{OUTLET}"
    assert summary["reports_refused"] == 0 and summary["limit_violations_in_ledger"] == 0
    act = twin.hil.actuators[RELAY]
    assert act.link.faults["readback_mismatch"] == act.link.faults["timeout"] == 0 and act.safe_on_close is True


def test_a_delay_the_relay_cannot_confirm_is_cut_where_confirmation_stopped(run):
    """Communication with CUT_RELAY is lost in the middle of its charger's delay: the delay on chain ends at the
    last minute the relay was read back off, and the charger takes no further part in that event."""
    twin, sim, ledger = run
    cap = twin.capability("dsr")
    _, rec, mine = _delays_of(twin, ledger, CUT_OUTLET)
    cut = mine[(mine.start_min < LOST_MIN) & (mine.start_min + mine.delay_min >= LOST_MIN - 1)]
    assert len(cut) == 1, mine
    d = cut.iloc[0]
    assert d.start_min + d.delay_min == LOST_MIN  # nothing claimed from the first unconfirmed minute on
    later = mine[mine.start_min >= LOST_MIN]
    assert d.event_id not in set(later.event_id)  # no second delay in the same event
    assert cap.summary(ledger)["hil_outlets"]["delays_cut"] == [
        {"outlet": CUT_OUTLET, "event_id": int(d.event_id), "start_min": int(d.start_min),
         "minute_not_confirmed": LOST_MIN, "delay_min_reported": LOST_MIN - int(d.start_min), "reported": True}]
    assert rec["delays_cut"] == 1 and rec["held_min_confirmed_off"] == int(mine.delay_min.sum())
    assert rec["held_min"] == rec["held_min_confirmed_off"] + 1  # the one minute held by the twin, not confirmed
    assert twin.hil.actuators[CUT_RELAY].link.faults["timeout"] >= 1
    # the device, left without requests, fell to its safe state (on) by its watchdog, as its history shows
    history = sim.devices[CUT_RELAY].history
    assert history[:2] == [(0.0, 1.0), (d.start_min * 60.0, 0.0)] and history[2][1] == 1.0
    assert history[2][0] > (LOST_MIN - 1) * 60 + 300 and sim.devices[CUT_RELAY].watchdog_trips >= 1



def test_the_dsr_answers_for_its_outlets_only_and_names_a_missing_one(run):
    twin, _, _ = run
    cap = twin.capability("dsr")
    assert cap.command_source("prosumer/home-43/battery") is None and cap.command_source("meter/home-43") is None
    without = next(p for p in twin.prosumer_ids if not any(o.name == f"{p}/ev_charger" for o in cap.outlets))
    with pytest.raises(ValueError, match=rf"names no smart outlet of this run; outlets of '{without}': \['{without}/"):
        cap.command_source(f"outlet/{without}/ev_charger")

@pytest.mark.parametrize(("change", "match"), [
    ({"kind": "setpoint", "safe_state": 0.0}, "kind must be 'relay'"),
    ({"entity": "outlet/home-99/ev_charger"}, "expected 'outlet/<prosumer id>/<appliance>'"),
    ({"entity": "outlet/home-43/sauna"}, "expected 'outlet/<prosumer id>/<appliance>'"),
    ({"poll_s": 45.0}, "must divide run.step_s"),
])
def test_outlet_relays_are_validated_with_the_scenario(change, match):
    table = load_device_table(ROOT / "scenarios" / "hil_dsr_devices.toml")
    device = table.devices[0].model_dump(mode="python") | change
    if device["kind"] == "setpoint":
        device["registers"] = [{"point": "setpoint", "address": 0, "type": "float32", "unit": "W"}]
    with pytest.raises(ScenarioError, match=match):
        load_scenario(ROOT / "scenarios" / "hil_dsr.toml").with_overrides({"hil.devices_file": None,
                                                                            "devices": [device]})


def test_one_relay_per_outlet():
    device = load_device_table(ROOT / "scenarios" / "hil_dsr_devices.toml").devices[0].model_dump(mode="python")
    with pytest.raises(ScenarioError, match="two devices switch the same smart outlet"):
        load_scenario(ROOT / "scenarios" / "hil_dsr.toml").with_overrides({
            "hil.devices_file": None, "devices": [device, device | {"name": "twin-relay", "unit_id": 2}]})


def test_an_outlet_relay_needs_the_dsr_capability():
    device = load_device_table(ROOT / "scenarios" / "hil_dsr_devices.toml").devices[0].model_dump(mode="python")
    with pytest.raises(ScenarioError, match=r"needs a \[dsr\] section"):
        load_scenario(ROOT / "scenarios" / "hil_demo.toml").with_overrides({
            "hil.devices_file": None, "devices": [device | {"entity": "outlet/pv-battery-01/ev_charger"}]})
