"""A relay's confirmed state drives the modelled appliance, end to end on loopback: scenarios/hil_mqtt.toml with its
two Tasmota-style plugs on the embedded amqtt broker, and a third MQTT client (paho) as each plug's owner, who
switches it from the owner's side (``cmnd/<plug>/POWER``, Tasmota's own command topic), after which the plug keeps
its state whatever the twin commands (the simulator's ``stuck`` fault: a plug in manual override).

- home-17's charger is charging, outside any DR event, when its owner switches the plug OFF for N_OFF minutes:
  the modelled charger draws nothing in exactly those minutes, its job resumes where it stopped (the charge's energy
  is conserved, sample for sample), and nothing about those minutes is on chain.
- home-43's charger is held in a DR event when its owner switches the plug ON: the delay on chain ends before that
  minute (the existing rule) and the modelled charger draws from that minute on.

The plugs' clock is slaved to the twin's simulated clock: the plugs' own histories are in the run's seconds and
are the reference the model is compared with."""

from __future__ import annotations

import json
import threading
import time

import numpy as np
import paho.mqtt.client as mqtt
import pandas as pd
import pytest

from sim.hil.mqtt_simulator import MqttDeviceSimulator
from sim.hil.table import DeviceTable, load_device_table
from sim.results.folder import write_json
from sim.results.summary import event_args
from sim.runner import base_manifest, collect, run_id_for
from sim.scenario import load_scenario
from sim.twin import Twin
from tests.conftest import ROOT

pytestmark = pytest.mark.slow
FACTOR = 100_000.0  # in effect as fast as the twin runs (not strict)
TIMEOUT_S = 1.0  # wall seconds for a reply: a reply late because the machine is busy must not look lost
# home-17's charger charges 11 kW from minute 45; the first DR event starts at minute 59 (explored with this seed)
OFF_PLUG, OFF_OUTLET, OFF_FROM, N_OFF = "ev-plug-17", "home-17/ev_charger", 48, 4
# home-43's charger is held from minute 62 in the first DR event; its owner switches it on in minute ON_AT
ON_PLUG, ON_OUTLET, ON_AT, N_ON = "ev-plug-43", "home-43/ev_charger", 65, 3


class Owner:
    """The plugs' owner: a paho client publishing on Tasmota's command topic, as the owner's app would."""

    def __init__(self, port: int):
        self.connected = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="owner")
        self.client.on_connect = lambda *a: self.connected.set()
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self.connected.wait(5.0)

    def switch(self, sim, plug: str, on: bool) -> None:
        """Switch ``plug`` and return once the plug has taken it (bounded)."""
        self.client.publish(f"cmnd/{plug}/POWER", "ON" if on else "OFF", qos=1).wait_for_publish(5.0)
        deadline = time.monotonic() + 5.0
        while sim.devices[plug].value != float(on) and time.monotonic() < deadline:
            time.sleep(0.005)
        assert sim.devices[plug].value == float(on)

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _override(env, sim, owner, plug, on, from_min, n_min):
    """Half a minute before ``from_min`` (between the twin's polls): the owner switches ``plug`` and it keeps that
    state for ``n_min`` minutes (so every poll of minutes ``from_min .. from_min + n_min - 1`` reads it back)."""
    yield env.timeout(from_min * 60 - 30 - env.now)
    owner.switch(sim, plug, on)
    sim.inject("stuck", duration_s=n_min * 60.0, device=plug)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """(twin, simulator, ledger, results folder with the run's timeseries.parquet and summary.json, written as
    ``gridledger run`` writes them, without plots and report); the simulator and the owner's client are stopped."""
    table = load_device_table(ROOT / "scenarios" / "hil_mqtt_devices.toml")
    devices = [d.model_dump(mode="python") | {"port": 0, "timeout_s": TIMEOUT_S} for d in table.devices]
    clock = {"env": None}
    now = lambda: clock["env"].now if clock["env"] is not None else 0.0  # noqa: E731
    sim = MqttDeviceSimulator(DeviceTable.model_validate({"devices": devices}), clock=now).start()
    owner = None
    try:
        owner = Owner(sim.brokers[0].port)
        bound = [d | {"port": sim.ports[d["name"]]} for d in devices]
        scenario = load_scenario(ROOT / "scenarios" / "hil_mqtt.toml").with_overrides({
            "hil.devices_file": None, "devices": bound,
            "realtime": {"factor": FACTOR, "strict": False, "slack_s": 0.25}})
        twin = Twin(scenario)
        clock["env"] = twin.env
        twin.env.process(_override(twin.env, sim, owner, OFF_PLUG, False, OFF_FROM, N_OFF))
        twin.env.process(_override(twin.env, sim, owner, ON_PLUG, True, ON_AT, N_ON))
        twin.run()
    finally:
        if owner is not None:
            owner.stop()
        sim.stop()
    folder = tmp_path_factory.mktemp("relaystate")
    result = collect(twin, scenario, base_manifest(scenario, None, run_id_for(scenario)))
    result.timeseries.to_parquet(folder / "timeseries.parquet", index=False)
    write_json(folder / "summary.json", result.summary)
    return twin, sim, result.ledger, folder


def _outlet(twin, ledger, name):
    cap = twin.capability("dsr")
    n, outlet = next((n, o) for n, o in enumerate(cap.outlets) if o.name == name)
    logged = event_args(ledger, "FlexDelays", "DelayLogged")
    return n, outlet, cap.relays[n], logged[logged.outlet == outlet.address].sort_values("start_min")


def _draw_kw(folder, entity) -> np.ndarray:
    """The outlet's modelled draw per minute, from the run's timeseries.parquet [kW]."""
    ts = pd.read_parquet(folder / "timeseries.parquet")
    mine = ts[(ts.entity == entity) & (ts.quantity == "p_kw")].sort_values("time")
    assert set(mine.unit) == {"kW"}
    return mine.value.to_numpy()


def _relay_summary(folder, outlet_name) -> dict:
    return json.loads((folder / "summary.json").read_text())["dsr"]["hil_outlets"]["relays"][outlet_name]


def _minutes(history, value, n_steps) -> set[int]:
    """Minutes the device's own history has it at ``value`` from the minute's start (state changes in between
    come from the owner, half a minute before a poll, or from the twin's write at the minute's start)."""
    state, out = history[0][1], set()
    changes = iter(history[1:])
    nxt = next(changes, None)
    for m in range(n_steps):
        while nxt is not None and nxt[0] <= m * 60:
            state, nxt = nxt[1], next(changes, None)
        if state == value:
            out.add(m)
    return out


def test_a_plug_switched_off_outside_dr_stops_the_modelled_appliance_and_resumes_its_charge(run):
    twin, sim, ledger, folder = run
    cap = twin.capability("dsr")
    n, outlet, _, mine = _outlet(twin, ledger, OFF_OUTLET)
    rec = _relay_summary(folder, OFF_OUTLET)
    off = set(range(OFF_FROM, OFF_FROM + N_OFF))
    held = {m for d in mine.itertuples() for m in range(d.start_min, d.start_min + d.delay_min)}
    # the reference: the plug's own history (the owner's OFF, the twin's ON once the override was over)
    assert _minutes(sim.devices[OFF_PLUG].history, 0.0, twin.n_steps) == off | held
    events = event_args(ledger, "FlexDelays", "DrEventCreated")
    assert all(m < events.start_min.min() for m in off)  # outside any DR event
    draw = _draw_kw(folder, f"outlet/{OFF_OUTLET}")
    assert (draw[sorted(off)] == 0.0).all() and draw[OFF_FROM - 1] == pytest.approx(11.0)
    # the charge resumes where it stopped: its samples skip exactly the off minutes and the delays on chain
    plan = cap.fleets.plans[n]
    (job,) = [j for j in cap.fleets.deferrable.by_outlet[plan.column] if j.release <= OFF_FROM < j.end]
    gaps = set(range(job.release, job.end)) - set(job.minutes.tolist())
    assert gaps == off | (held & set(range(job.release, job.end))) and len(job.minutes) == len(job.profile_kw)
    # energy conserved: every kWh of the charge is drawn in the model, minute by minute as the series shows
    col, standby_kw = cap.fleets.deferrable.power_kw[:, plan.column], cap.fleets.deferrable.standby_kw[plan.column]
    assert col.sum() / 60.0 == pytest.approx(job.energy_kwh + standby_kw * (len(col) - len(off)) / 60.0)
    now = job.minutes < twin.n_steps
    assert draw[job.minutes[now]] == pytest.approx(job.profile_kw[now] + standby_kw)
    # the twin's count, and nothing on chain for those minutes
    assert rec["off_min_not_held"] == N_OFF and rec["off_kwh_not_held"] == pytest.approx(N_OFF * 11.0 / 60.0)
    assert rec["free_min_not_confirmed_on"] == N_OFF and rec["delays_cut"] == 0
    assert not held & off and all(d.start_min >= events.start_min.min() for d in mine.itertuples())
    # the power flow of each off minute had run before the read-back: it carried the charger, corrected afterwards
    assert rec["kwh_corrected_after_power_flow"] == pytest.approx(N_OFF * 11.0 / 60.0)


def test_a_plug_switched_on_while_held_cuts_the_delay_and_the_model_draws_from_that_minute(run):
    twin, sim, ledger, folder = run
    cap = twin.capability("dsr")
    n, outlet, _, mine = _outlet(twin, ledger, ON_OUTLET)
    rec = _relay_summary(folder, ON_OUTLET)
    cut = [c for c in cap.relay_cuts if c["outlet"] == ON_OUTLET]
    assert len(cut) == 1 and cut[0]["minute_not_confirmed"] == ON_AT
    d = mine[mine.event_id == cut[0]["event_id"]].iloc[0]
    assert d.start_min < ON_AT and d.start_min + d.delay_min == ON_AT  # the chain claims the minutes before it
    assert rec["held_min_read_back_on"] == 1 and rec["delays_cut"] == 1
    on = _minutes(sim.devices[ON_PLUG].history, 1.0, twin.n_steps)
    assert set(range(ON_AT, ON_AT + N_ON)) <= on
    draw = _draw_kw(folder, f"outlet/{ON_OUTLET}")
    assert (draw[d.start_min:ON_AT] == 0.0).all()
    # from the minute read back on, the model's charger draws (11 kW while the plug is on and the charge lasts)
    assert draw[ON_AT:ON_AT + N_ON] == pytest.approx(11.0)
    held = {m for x in mine.itertuples() for m in range(x.start_min, x.start_min + x.delay_min)}
    plan = cap.fleets.plans[n]
    (job,) = [j for j in cap.fleets.deferrable.by_outlet[plan.column] if j.release <= ON_AT < j.end]
    assert set(range(job.release, job.end)) - set(job.minutes.tolist()) == held & set(range(job.release, job.end))
    # every minute the plug was on in its own history, the model draws what the charge asks (or nothing left)
    assert all(draw[m] > 0.0 for m in on if job.release <= m < job.end)
    assert cap.summary(ledger)["reports_refused"] == 0
