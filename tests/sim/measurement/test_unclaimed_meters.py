"""The measurement layer logs the validated readings of meters no capability claims (``not_posted``, reason
``NO_CAPABILITY``), and none of a claimed meter's (its capability logs them)."""

from __future__ import annotations

import numpy as np
import pytest

from contracts.eip712 import key_for
from sim.measurement.layer import MeasurementLayer
from sim.measurement.meters import VirtualMeter
from sim.measurement.readings_log import NO_CAPABILITY

PERIOD_S, STEP_S = 3600, 900


def _layer():
    layer = MeasurementLayer(PERIOD_S, np.random.default_rng(1), drop_p=0.0, spike_p=0.0)
    meters = [VirtualMeter(f"meter/p{i}", key_for(0, f"meter/p{i}"), 5.0, PERIOD_S) for i in range(3)]
    for m in meters:
        layer.add_meter(m, claimed=False)
    own = VirtualMeter("meter/own", key_for(0, "meter/own"), 5.0, PERIOD_S)
    layer.add_meter(own)
    return layer, [*meters, own]


def test_unclaimed_meters_are_logged_not_posted_and_claimed_ones_are_not():
    layer, meters = _layer()
    log = layer.log(claim=["meter/p1"])
    for period in range(3):
        for m in meters:
            for _ in range(PERIOD_S // STEP_S):
                m.record(1.0, STEP_S)  # 1 kW exported for an hour: 1000 Wh a period
        layer.close_period(period)
        layer.finalise_through(period - layer.lag_periods)
    layer.finalise_through(2)
    assert len(log) == 0  # the claiming capability logs its meter itself (here: nothing)
    table = layer.readings()
    assert len(table) == 2 * 3
    assert sorted(set(table.meter)) == ["meter/p0", "meter/p2"]
    assert set(table.status) == {"not_posted"} and set(table.reason) == {NO_CAPABILITY}
    assert table.groupby("meter").period.apply(list).to_dict() == {"meter/p0": [0, 1, 2], "meter/p2": [0, 1, 2]}
    assert (table.energy_wh == 1000).all()


def test_a_claim_must_name_an_unclaimed_meter():
    layer, _ = _layer()
    layer.log(claim=["meter/p0"])
    for meter_id in ("meter/p0", "meter/own", "meter/nobody"):
        with pytest.raises(ValueError, match="not an unclaimed meter"):
            layer.log(claim=[meter_id])
