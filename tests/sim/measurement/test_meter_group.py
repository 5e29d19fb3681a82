"""MeterGroup: the vectorised registers give bit for bit what each VirtualMeter gives on its own; the fault
draws of a period in one call are the draws of one ``corrupt`` call per reading."""

from __future__ import annotations

import numpy as np

from contracts.eip712 import key_for
from sim.measurement.meters import (
    MeterGroup,
    RawReading,
    VirtualMeter,
    corrupt,
    fault_draws,
    fault_masks,
    spiked,
)

PERIOD_S, STEP_S = 3600, 900


def _meters(n: int) -> list[VirtualMeter]:
    return [VirtualMeter(f"m{i}", key_for(0, f"m{i}"), 12.0, PERIOD_S, register="import" if i % 3 == 0 else "export")
            for i in range(n)]


def test_group_records_and_closes_as_each_meter_does():
    rng = np.random.default_rng(7)
    single, grouped = _meters(9), _meters(9)
    group = MeterGroup(grouped)
    for k in range(4 * 48):
        p_kw = rng.normal(0.0, 4.0, size=9)
        p_kw[k % 9] = 0.0 if k % 2 else -0.0
        for m, p in zip(single, p_kw):
            m.record(p, STEP_S)
        group.record(p_kw, STEP_S)
        if (k + 1) % 4 == 0:
            period = k // 4
            expected = [m.close_period(period) for m in single]
            assert group.close_period(period) == expected
            for a, b in zip(single, grouped):  # written back to the meters at the period's close
                assert (a.export_register_wh, a.import_register_wh) == (b.export_register_wh, b.import_register_wh)
    assert any(r.energy_wh > 0 for r in expected)


def test_fault_draws_of_a_period_are_those_of_one_corrupt_call_per_reading():
    readings = [RawReading(f"m{i}", 3, 100.0 + i) for i in range(200)]
    drop_p, spike_p = 0.1, 0.1
    one_by_one = [corrupt(r, rng, drop_p, spike_p) for rng in [np.random.default_rng(11)] for r in readings]
    dropped, spikes = fault_masks(fault_draws(np.random.default_rng(11), len(readings)), drop_p, spike_p)
    at_once = [None if d else spiked(r) if s else r for r, d, s in zip(readings, dropped, spikes)]
    assert at_once == one_by_one
    assert any(r is None for r in at_once) and any(r is not None and r.energy_wh > 1000 for r in at_once)
