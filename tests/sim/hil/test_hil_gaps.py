"""HIL gaps: with the link dropped over one or two period boundaries, what VEE settles for the device meter
(accepted + estimated) adds up to the device's own register over the run, to the Wh. The devices run on the
twin's simulated clock (a plain simpy environment), so the reference is the simulated device's register at the
run's first and last boundary, computed from its power profile, not from anything the bridge read."""

from __future__ import annotations

import contextlib
import math

import pytest
import simpy

from contracts.eip712 import key_for
from sim.hil.bridge import HilBridge
from sim.hil.simulator import DeviceSimulator
from sim.hil.table import DeviceSpec, DeviceTable
from sim.measurement.meters import VirtualMeter
from sim.measurement.vee import MeterVee
from tests.sim.hil.conftest import MEMBER, bound, meter

PERIOD_S, N_PERIODS = 60, 8


def _drop(env, sim, start_s: float, end_s: float):
    """Requests reach nothing from ``start_s`` to ``end_s`` (simulated s; ended here, on the twin's clock)."""
    yield env.timeout(start_s - env.now)
    sim.inject("drop", duration_s=1e9)
    yield env.timeout(end_s - env.now)
    sim.active.clear()


def _run(drops):
    env = simpy.Environment()
    device = meter(poll_s=2.0, timeout_s=0.05)
    sim = DeviceSimulator(DeviceTable.model_validate({"devices": [device]}), clock=lambda: env.now).start()
    bridge = None
    try:
        spec = DeviceSpec.model_validate(bound(sim, device))
        bridge = HilBridge([spec], seed=0, settlement_s=PERIOD_S, duration_s=N_PERIODS * PERIOD_S)
        [m] = bridge.replace_meters([VirtualMeter(f"meter/{MEMBER}", key_for(0, "v"), 12.0, PERIOD_S)],
                                    {MEMBER: 12.0})
        vee = MeterVee(m.meter_id, m.max_wh_per_period, PERIOD_S)
        bridge.start(env, {m.meter_id: vee}, [], lambda concern: contextlib.nullcontext())
        for start_s, end_s in drops:
            env.process(_drop(env, sim, start_s, end_s))
        env.run()
        settled = vee.finalise_through(N_PERIODS - 1)
    finally:
        if bridge is not None:
            bridge.close(env.now)
        sim.stop()
    return sim.devices["meter-a"], m, vee, settled


@pytest.mark.parametrize(("drops", "gaps"), [
    ([(170, 200)], {2, 3}),  # over the boundary at 180 s
    ([(290, 370)], {4, 5, 6}),  # over the boundaries at 300 and 360 s
    ([(50, 70), (290, 370)], {0, 1, 4, 5, 6}),  # and one before any period was read
], ids=["one-boundary", "two-boundaries", "at-the-start-and-two"])
def test_gap_estimates_add_up_to_the_device_register(drops, gaps):
    device, m, vee, settled = _run(drops)
    assert set(m.gaps) == gaps
    assert [v.period for v in settled] == list(range(N_PERIODS))
    estimated = [v for v in settled if v.quality == 1]
    assert {v.period for v in estimated} == gaps and {v.rule for v in estimated} == {"register"}
    register_wh = [math.floor(device.energy_wh(t)) for t in (0.0, N_PERIODS * PERIOD_S)]  # the device's counter
    assert m.boundary_wh[0] == register_wh[0] and m.boundary_wh[N_PERIODS] == register_wh[1]
    assert sum(v.energy_wh for v in settled) == register_wh[1] - register_wh[0]
    for v in settled:  # each measured period is the device's own register difference
        if v.quality == 0:
            assert v.energy_wh == (math.floor(device.energy_wh((v.period + 1) * PERIOD_S))
                                   - math.floor(device.energy_wh(v.period * PERIOD_S)))
    c = vee.counts()
    assert c["received"] == c["accepted"] + c["rejected"] + c["pending"] and not vee.rejected
    assert c["periods"] == c["accepted"] + c["estimated"] == N_PERIODS and c["estimated"] == len(gaps)
