"""The MQTT DR demo end to end, on the real chain, on loopback: scenarios/hil_mqtt.toml with its two Tasmota-style
smart plugs (hil_mqtt_devices.toml) served by the embedded amqtt broker. A third MQTT client, paho's, listens to
the plugs' state topics as any Tasmota user would (``stat/+/POWER``): it is the witness that the plug said OFF in
every minute the chain logs as delayed. Mid-event the broker goes down for five minutes: both delays under way
end on chain at the last minute read back off, as the Modbus rule does (tests/sim/hil/test_hil_dsr.py).

The plugs' clock is slaved to the twin's simulated clock, so the plugs' histories and the witness's messages are
in the run's seconds and compare with the chain exactly."""

from __future__ import annotations

import threading
import time

import paho.mqtt.client as mqtt
import pytest

from sim.hil.mqtt_simulator import MqttDeviceSimulator
from sim.hil.table import DeviceTable, load_device_table
from sim.results.summary import event_args, ledger_frame
from sim.scenario import load_scenario
from sim.twin import Twin
from tests.conftest import ROOT

pytestmark = pytest.mark.slow
PLUGS = {"ev-plug-43": "home-43/ev_charger", "ev-plug-17": "home-17/ev_charger"}
LOST_MIN = 67  # the broker is down from half a minute before this minute, for OUTAGE_S device seconds
OUTAGE_S = 300.0
FACTOR = 100_000.0  # in effect as fast as the twin runs (not strict)
TIMEOUT_S = 1.0  # wall seconds for a reply: a reply late because the machine is busy must not look lost


class Witness:
    """paho client on ``stat/+/POWER``: every state message as (simulated s when heard, plug, payload)."""

    def __init__(self, port: int, clock):
        self.messages: list[tuple[float, str, str]] = []
        self.connected = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="witness")
        self.client.reconnect_delay_set(0.02, 0.1)  # back before the twin after the outage: it hears everything
        self.client.on_connect = lambda c, *a: c.subscribe("stat/+/POWER")
        self.client.on_subscribe = lambda *a: self.connected.set()
        self.client.on_message = lambda c, u, m: None if m.retain else self.messages.append(
            (clock(), m.topic.split("/")[1], m.payload.decode()))
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self.connected.wait(5.0)

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _outage(env, sim, links):
    """The broker down for OUTAGE_S simulated seconds; back, with the plugs and the twin's clients connected again
    before the clock goes on (the run is not paced: without this a loaded machine would stretch the outage)."""
    yield env.timeout(LOST_MIN * 60 - 30 - env.now)
    sim.inject("restart", duration_s=1e9)
    yield env.timeout(OUTAGE_S)
    sim.end("restart")
    deadline = time.monotonic() + 10.0
    while any(link.connections < 2 for link in links) and time.monotonic() < deadline:
        time.sleep(0.01)


@pytest.fixture(scope="module")
def run():
    """(twin, simulator, ledger, witness messages); the simulator and the witness are stopped."""
    table = load_device_table(ROOT / "scenarios" / "hil_mqtt_devices.toml")
    devices = [d.model_dump(mode="python") | {"port": 0, "timeout_s": TIMEOUT_S} for d in table.devices]
    clock = {"env": None}
    now = lambda: clock["env"].now if clock["env"] is not None else 0.0  # noqa: E731
    sim = MqttDeviceSimulator(DeviceTable.model_validate({"devices": devices}), clock=now).start()
    witness = None
    try:
        witness = Witness(sim.brokers[0].port, now)
        bound = [d | {"port": sim.ports[d["name"]]} for d in devices]
        scenario = load_scenario(ROOT / "scenarios" / "hil_mqtt.toml").with_overrides({
            "hil.devices_file": None, "devices": bound,
            "realtime": {"factor": FACTOR, "strict": False, "slack_s": 0.25}})
        twin = Twin(scenario)
        clock["env"] = twin.env
        twin.env.process(_outage(twin.env, sim, [twin.hil.links[p] for p in PLUGS]))
        twin.run()
    finally:
        if witness is not None:
            witness.stop()
        sim.stop()
    assert not sim.running and sim.outages == 1
    return twin, sim, ledger_frame(twin.chain.events), witness.messages


def _delays(twin, ledger, outlet_name):
    cap = twin.capability("dsr")
    n, outlet = next((n, o) for n, o in enumerate(cap.outlets) if o.name == outlet_name)
    logged = event_args(ledger, "FlexDelays", "DelayLogged")
    return outlet, cap.relays[n], logged[logged.outlet == outlet.address].sort_values("start_min")


def test_the_state_topic_says_off_in_every_minute_the_chain_logs(run):
    twin, sim, ledger, messages = run
    for plug, outlet_name in PLUGS.items():
        _, rec, mine = _delays(twin, ledger, outlet_name)
        assert len(mine) >= 1 and int(mine.delay_min.sum()) >= 5
        held = {m for d in mine.itertuples() for m in range(d.start_min, d.start_min + d.delay_min)}
        # what the witness heard on the state topic is exactly what the plug published, in order; the plug's log
        # says when (device time = the run's simulated time): the witness's own clock lags under load
        published = sim.plugs[plug].published
        assert [p for _, name, p in messages if name == plug] == [p for _, _, p in published]
        said: dict[int, list[str]] = {}
        for t_s, _, payload in published:
            said.setdefault(int(t_s // 60), []).append(payload)
        starts = {d.start_min for d in mine.itertuples()}
        for m in held:  # the minute's poll ended on OFF; only at a delay's first minute was ON heard (before the
            # switch: read ON, command OFF, the plug's answer OFF, read back OFF)
            assert said.get(m, [])[-1:] == ["OFF"], (plug, m, said.get(m))
            assert said[m] == (["ON", "OFF", "OFF"] if m in starts and m - 1 not in held else ["OFF"]), (plug, m)
        # the chain logs exactly the minutes read back off: the relay's count of confirmed minutes
        assert rec["held_min_confirmed_off"] == len(held) == int(mine.delay_min.sum())
        # the plug's own history: off exactly over the logged delays (joined where two delays touch), until the
        # outage, where its watchdog (300 s without a request) put it back on
        offs = [(t, v) for t, v in sim.devices[plug].history if v == 0.0]
        assert [int(t // 60) for t, _ in offs] == sorted({d.start_min for d in mine.itertuples()
                                                          if d.start_min - 1 not in held})


def test_a_broker_outage_cuts_each_delay_under_way_at_the_last_confirmed_minute(run):
    twin, sim, ledger, messages = run
    cap = twin.capability("dsr")
    cuts = {c["outlet"]: c for c in cap.summary(ledger)["hil_outlets"]["delays_cut"]}
    assert set(cuts) == set(PLUGS.values())  # both plugs were held when the broker went down
    for plug, outlet_name in PLUGS.items():
        _, rec, mine = _delays(twin, ledger, outlet_name)
        d = mine[(mine.start_min < LOST_MIN) & (mine.start_min + mine.delay_min >= LOST_MIN - 1)].iloc[0]
        assert d.start_min + d.delay_min == LOST_MIN  # nothing claimed from the first unconfirmed minute on
        assert cuts[outlet_name] == {"outlet": outlet_name, "event_id": int(d.event_id), "start_min": int(d.start_min),
                                     "minute_not_confirmed": LOST_MIN,
                                     "delay_min_reported": LOST_MIN - int(d.start_min), "reported": True}
        assert rec["held_min"] == rec["held_min_confirmed_off"] + 1 and rec["delays_cut"] == 1
        assert not [t for t, _, _ in sim.plugs[plug].published if LOST_MIN * 60 - 30 <= t < LOST_MIN * 60 + 60]
        link = twin.hil.links[plug].report()
        assert link["faults"].get("connection", 0) >= 1 and link["reconnects"] >= 1
        # left without requests, the plug went back on by its watchdog, 300 s after the last one it heard
        history = sim.devices[plug].history
        back_on = next(t for t, v in history if v == 1.0 and t > d.start_min * 60)
        assert back_on == pytest.approx((LOST_MIN - 1) * 60 + 300, abs=1e-3)
        assert sim.devices[plug].watchdog_trips == 1
    report = twin.hil.report()
    assert report["faults_total"] >= 2 and report["silent_devices"] == []
    summary = cap.summary(ledger)
    assert summary["reports_refused"] == 0 and summary["limit_violations_in_ledger"] == 0
    assert all(a.safe_on_close is True for a in twin.hil.actuators.values())

