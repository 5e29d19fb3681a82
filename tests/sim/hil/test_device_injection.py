"""Devices in the physics: a metering plug (MQTT, Tasmota's ``Status 8`` answer) with ``inject = true`` stands in the
power flow for its prosumer. Checked against the power-flow libraries' own results at the prosumer's bus: with
``solver = "pandapower"`` pandapower's ``res_bus.p_mw`` (its own bus power balance), with the default direct
lightsim2grid path the prosumer's net export it computes. Each step the bus carries exactly the power the plug
published at its last poll (SimulatedDevice's profile, the reference we compare with), the feeder's power balance
holds (pandapower: import = loads - generation + storage + losses), and over the run the energy the bus injected
matches the plug's own energy register to within the sample-and-hold bound."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.hil.mqtt_simulator import MqttDeviceSimulator
from sim.hil.mqtt_table import tasmota_points
from sim.hil.table import DeviceTable
from sim.twin import Twin
from tests.sim.hil.conftest import MEMBER, hil_scenario

pytestmark = pytest.mark.slow
STEP_S, N_STEPS = 60, 30
POWER_W, AMPLITUDE_W, CYCLE_S = 3000.0, 1000.0, 3600.0
PLUG = {"name": "pv-plug", "kind": "meter", "protocol": "mqtt", "port": 0, "entity": f"meter/{MEMBER}",
        "poll_s": 60.0, "timeout_s": 1.0, "backoff_max_s": 120.0, "inject": True,
        "mqtt": {"points": tasmota_points("pv-plug", "meter")},
        "simulate": {"power_w": POWER_W, "amplitude_w": AMPLITUDE_W, "cycle_s": CYCLE_S, "energy_wh": 5000.0}}


@pytest.fixture(scope="module", params=["pandapower", "lightsim2grid"])
def run(request):
    """(twin, simulator, per-step results at MEMBER's bus); the plug's clock is the twin's simulated clock."""
    clock = {"env": None}
    sim = MqttDeviceSimulator(DeviceTable.model_validate({"devices": [PLUG]}),
                              clock=lambda: clock["env"].now if clock["env"] is not None else 0.0).start()
    try:
        scenario = hil_scenario([PLUG | {"port": sim.ports["pv-plug"]}], factor=100_000.0,
                                duration_s=N_STEPS * STEP_S, step_s=STEP_S, settlement_s=300,
                                **{"feeder.solver": request.param})
        twin = Twin(scenario)
        clock["env"] = twin.env
        feeder = twin.feeder
        j = twin.prosumer_ids.index(MEMBER)
        bus = int(feeder.net.load.bus.iloc[feeder.prosumer_pos[j]])
        steps = []
        solve = feeder.solve

        def solve_and_look():
            flow = solve()
            net = feeder.net
            steps.append({"t_s": twin.env.now, "export_kw": float(feeder.prosumer_net_export_kw()[j]),
                          "bus_p_mw": float(net.res_bus.p_mw.at[bus]) if request.param == "pandapower" else None,
                          "balance_mw": (float(net.res_ext_grid.p_mw.sum() - net.res_load.p_mw.sum()
                                               + net.res_sgen.p_mw.sum() - net.res_storage.p_mw.sum()
                                               - net.res_line.pl_mw.sum() - net.res_trafo.pl_mw.sum())
                                         if request.param == "pandapower" else None),
                          "flow": flow})
            return flow

        feeder.solve = solve_and_look
        twin.run()
    finally:
        sim.stop()
    return twin, sim, steps, bus, request.param


def _published_kw(t_s: float) -> float:
    """The plug's power at device time ``t_s`` [kW] (the profile of SimulateSpec)."""
    return (POWER_W + AMPLITUDE_W * math.sin(2 * math.pi * t_s / CYCLE_S)) / 1000.0


def test_the_bus_carries_the_plugs_power_each_step(run):
    twin, sim, steps, bus, solver = run
    assert len(steps) == N_STEPS
    # the prosumer is alone at its bus (so the bus's power is the prosumer's)
    net = twin.feeder.net
    assert (net.load.bus == bus).sum() == 1 and (net.sgen.bus == bus).sum() == 1 and (net.storage.bus == bus).sum() == 1
    # at t = 0 nothing was read yet: the model's injection stays, counted; from then on the last poll's power
    assert twin.hil.injection_fallback_steps == {"pv-plug": 1}
    for k, s in enumerate(steps[1:], start=1):
        expected_kw = _published_kw((k - 1) * STEP_S)  # the step at k * 60 s sees the poll at (k - 1) * 60 s
        assert s["export_kw"] == pytest.approx(expected_kw, abs=1e-5)  # (the payload carries 6 decimals of W)
        if solver == "pandapower":
            assert -s["bus_p_mw"] * 1000.0 == pytest.approx(expected_kw, abs=1e-5)  # res_bus: demand positive
    report = twin.hil.report()["devices"]["pv-plug"]
    assert report["injected_steps"] == N_STEPS - 1 and report["injection_fallback_steps"] == 1
    exported = twin.recorder.prosumer["export_kw"][:, twin.prosumer_ids.index(MEMBER)]
    assert np.allclose(exported, [s["export_kw"] for s in steps])


def test_energy_balance_holds_with_the_device_in_the_flow(run):
    twin, sim, steps, bus, solver = run
    for s in steps:
        f = s["flow"]  # the feeder's summary, from either solver
        assert f.slack_p_kw == pytest.approx(f.load_p_kw - f.sgen_p_kw + f.storage_p_kw + f.losses_kw, abs=1e-3)
        if solver == "pandapower":
            assert abs(s["balance_mw"]) < 1e-7  # pp.runpp converges to tolerance_mva = 1e-8 per bus (~20 buses)
    # the energy the bus injected (held for each step) against the plug's own register over the same time: they
    # differ only by sampling, at most max|dP/dt| x (one poll of lag + one step of hold) x the time
    t0, t1 = STEP_S, N_STEPS * STEP_S
    injected_wh = sum(s["export_kw"] for s in steps[1:]) * STEP_S / 3.6
    dev = sim.devices["pv-plug"]
    register_wh = dev.energy_wh(t1 - STEP_S) - dev.energy_wh(t0 - STEP_S)  # the same samples, one poll earlier
    bound_wh = AMPLITUDE_W * 2 * math.pi / CYCLE_S * STEP_S * (t1 - t0) / 3600.0
    assert abs(injected_wh - register_wh) <= bound_wh
    assert injected_wh == pytest.approx(register_wh, rel=0.01)
