"""Heat meters reproduce the pipe flow in their registers; heat VEE validates and estimates consistently (the
motivation tariff against published examples: test_heat_tariff.py)."""

from __future__ import annotations

import numpy as np
import pytest

from contracts.eip712 import QUALITY_ESTIMATED, QUALITY_MEASURED, key_for
from grid_models.heat_network import HeatNetwork
from sim.capabilities.heat.meters import HeatMeter, HeatRawReading
from sim.capabilities.heat.vee import WH_PER_L_K, HeatVee, check_registers
from sim.measurement.meters import corrupt

DT_S = 900


def test_meter_registers_reproduce_the_pipe_flow():
    design = np.array([10e3, 30e3, 12e3])
    network = HeatNetwork(design, branches=1, segment_length_m=80.0)
    meters = [HeatMeter(f"heatmeter/{i}", key_for(0, f"m{i}"), "0x" + "11" * 20, w, 3600)
              for i, w in enumerate(design)]
    heat_wh, volume_ml, vdt = np.zeros(3), np.zeros(3), np.zeros(3)
    for _k, (ts, load, tr) in enumerate([(82.0, 0.6, 38.0), (80.0, 0.5, 45.0), (79.0, 0.55, 36.0), (78.0, 0.4, 35.0)]):
        flow = network.solve(ts, design * load * np.array([1.0, 0.9, 1.1]), np.array([tr, tr + 3, tr - 2]))
        for j, m in enumerate(meters):
            m.record(flow.consumer_heat_w[j], flow.vdot_m3_per_s[j], flow.t_supply_c[j], flow.t_return_c[j], DT_S)
        v = flow.vdot_m3_per_s * DT_S * 1e6
        heat_wh += flow.consumer_heat_w * DT_S / 3600
        volume_ml += v
        vdt += v * (flow.t_supply_c - flow.t_return_c)
    for j, m in enumerate(meters):
        r = m.close_period(0)
        assert r.energy_wh == np.floor(heat_wh[j])  # whole-Wh register, nothing lost but the fraction
        assert r.volume_ml == np.floor(volume_ml[j])
        delta_t_from_registers = (r.vt_supply_mlmc - r.vt_return_mlmc) / r.volume_ml / 1000
        assert delta_t_from_registers == pytest.approx(vdt[j] / volume_ml[j], abs=2e-3)  # flow-weighted ΔT
        # the energy calculator's check holds on real flows: heat ≈ ρ·c_p·Σ V·ΔT
        assert check_registers(r) is None
        assert r.energy_wh == pytest.approx(WH_PER_L_K * r.volume_ml / 1000 * delta_t_from_registers, rel=0.01)
        assert m.close_period(1).energy_wh == 0.0


def _reading(period: int, volume_l: float = 200.0, ts: float = 78.0, tr: float = 38.0, heat_wh=None):
    heat_wh = WH_PER_L_K * volume_l * (ts - tr) if heat_wh is None else heat_wh
    ml = volume_l * 1000
    return HeatRawReading("m", period, heat_wh, ml, ml * ts * 1000, ml * tr * 1000)


def test_heat_vee_rejects_inconsistent_registers_and_estimates_consistent_ones():
    vee = HeatVee("m", max_wh=50_000, period_s=3600)
    spiked = corrupt(_reading(1), np.random.default_rng(0), drop_p=0.0, spike_p=1.0)
    vee.receive(_reading(0))
    vee.receive(spiked)
    vee.receive(_reading(2, volume_l=300.0, ts=76.0, tr=36.0))
    vee.receive(_reading(3, tr=80.0, heat_wh=1000.0))  # return warmer than supply
    out = vee.finalise_through(3)
    assert [v.quality for v in out] == [QUALITY_MEASURED, QUALITY_ESTIMATED, QUALITY_MEASURED, QUALITY_ESTIMATED]
    assert [r.rule for r in vee.rejected] == ["heat_consistency", "heat_temperature"]
    est = out[1]
    assert est.rule == "interpolated"
    assert est.heat_wh == pytest.approx((out[0].heat_wh + out[2].heat_wh) / 2, abs=1)
    delta_t = (est.vt_supply_mlmc - est.vt_return_mlmc) / est.volume_ml / 1000
    assert delta_t == pytest.approx(40.0, abs=0.01)  # temperatures of the last measured period
    assert est.heat_wh == pytest.approx(WH_PER_L_K * est.volume_ml / 1000 * delta_t, rel=0.01)
    c = vee.counts()
    assert c["received"] == 4 == c["accepted"] + c["rejected"]
    assert c["periods"] == 4 == c["accepted"] + c["estimated"]
