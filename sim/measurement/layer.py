"""The measurement layer: every meter of a run, of every capability, in one place.

At each period end it closes every virtual meter's reading (HIL meters are closed by the bridge's polls),
injects the scenario's faults (a pair of seeded draws per reading, in meter order, from the fault stream of the
meter's group), and hands the readings to each meter's VEE. When settlement asks, it finalises every VEE through
a period and returns the validated readings by meter id. It keeps one readings log per capability, all with the
schema of ``sim.measurement.readings_log``; the run's ``vee`` KPI and the rejected rows of ``readings.parquet``
come from here, so they cover every capability.

Every validated reading gets a row. A capability's own meters are logged by that capability; the kernel's
prosumer meters join the layer unclaimed (``claimed=False``) and a capability that settles them claims them
(``log(claim=...)``, the VPP its members'); the layer itself logs each validated reading of a meter nobody
claimed as ``not_posted`` (``NO_CAPABILITY``). So ``readings.parquet`` has one row per meter and VEE period plus
one per rejected raw reading, and reconciles with ``summary.vee`` (``periods`` + ``rejected``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.measurement.meters import MeterGroup, fault_draws, fault_masks, spiked
from sim.measurement.readings_log import NO_CAPABILITY, ReadingsLog, reading_row, rejected_row
from sim.measurement.vee import MeterVee
from sim.results.spill import SpillDir


@dataclass
class _FaultGroup:
    """Meters whose fault draws come from one seeded stream, in their order."""

    rng: np.random.Generator
    meters: list = field(default_factory=list)
    vee: list = field(default_factory=list)
    fast: MeterGroup | None = None  # the group's leading virtual meters, recorded in arrays


class MeasurementLayer:
    """Meters, their VEE and the readings logs of a run. ``drop_p``/``spike_p``: fault probabilities per reading."""

    def __init__(self, settlement_s: int, rng_faults: np.random.Generator, drop_p: float, spike_p: float,
                 spill: SpillDir | None = None):
        self.settlement_s = settlement_s
        self.drop_p, self.spike_p = drop_p, spike_p
        self._spill = spill
        self._groups = [_FaultGroup(rng_faults)]
        self.meters: list = []
        self.vee: list = []
        self._logs: list[ReadingsLog] = []
        self._unclaimed: dict[str, None] = {}  # meter ids no capability logs, in the order they joined
        self._unsettled = ReadingsLog(spill)  # the layer's own rows for them (``not_posted``, ``NO_CAPABILITY``)

    def add_meter(self, meter, vee=None, *, rng: np.random.Generator | None = None, claimed: bool = True):
        """Join ``meter`` (with its VEE; a ``MeterVee`` by default) to the layer and return its VEE. ``rng``: a
        fault stream of the capability's own (meters sharing one stream draw in the order they were added);
        default: the run's ``meters`` stream. ``claimed``: whoever adds the meter logs every validated reading
        of it (a capability's own meters); the kernel adds the prosumers' meters unclaimed (see ``log``)."""
        vee = vee if vee is not None else MeterVee(meter.meter_id, meter.max_wh_per_period, self.settlement_s)
        group = self._groups[0] if rng is None else next((g for g in self._groups if g.rng is rng), None)
        if group is None:
            group = _FaultGroup(rng)
            self._groups.append(group)
        group.meters.append(meter)
        group.vee.append(vee)
        self.meters.append(meter)
        self.vee.append(vee)
        if not claimed:
            self._unclaimed[meter.meter_id] = None
        return vee

    def record_in_arrays(self, n_first: int) -> MeterGroup:
        """Record the first ``n_first`` meters of the run's stream (the prosumers'), those that read the physics,
        in one vectorised group; returns it (the step process records into it)."""
        group = self._groups[0]
        group.fast = MeterGroup([m for m in group.meters[:n_first] if m.source == "virtual"])
        return group.fast

    def log(self, claim=()) -> ReadingsLog:
        """A new readings log (one per capability, in the order capabilities are built). ``claim``: ids of meters
        that joined unclaimed (the prosumers') whose every validated reading the capability logs in it; the
        layer logs the readings of the meters nobody claims itself, as ``not_posted``."""
        for meter_id in claim:
            if meter_id not in self._unclaimed:
                raise ValueError(f"measurement: meter {meter_id!r} is not an unclaimed meter of the run")
            del self._unclaimed[meter_id]
        log = ReadingsLog(self._spill)
        self._logs.append(log)
        return log

    @property
    def lag_periods(self) -> int:
        """Periods settlement waits behind the clock: the largest lag of any VEE."""
        return max((v.lag_periods for v in self.vee), default=0)

    def close_period(self, period: int) -> None:
        """Close every virtual meter's reading of ``period``, inject faults, hand the readings to VEE."""
        for group in self._groups:
            fast = group.fast
            closed = iter(fast.close_period(period)) if fast is not None else iter(())
            grouped = set(map(id, fast.meters)) if fast is not None else set()
            pairs = [(next(closed) if id(meter) in grouped else meter.close_period(period), vee)
                     for meter, vee in zip(group.meters, group.vee) if meter.source == "virtual"]
            if not pairs:
                continue
            dropped, spikes = fault_masks(fault_draws(group.rng, len(pairs)), self.drop_p, self.spike_p)
            for (raw, vee), drop, spike in zip(pairs, dropped, spikes):
                if not drop:
                    vee.receive(spiked(raw) if spike else raw)

    def finalise_through(self, last_period: int) -> dict[str, list]:
        """Every meter's validated readings up to ``last_period`` not handed out before, by meter id; those of
        meters no capability claimed are logged here, ``not_posted``."""
        out = {m.meter_id: v.finalise_through(last_period) for m, v in zip(self.meters, self.vee)}
        for meter_id in self._unclaimed:
            self._unsettled.extend(reading_row(meter_id, v, "not_posted", NO_CAPABILITY) for v in out[meter_id])
        return out

    def counts(self) -> dict:
        """VEE counts over every meter: received = accepted + rejected (+ pending); periods = accepted +
        estimated; and rejections by rule."""
        out = {"received": 0, "accepted": 0, "rejected": 0, "estimated": 0, "periods": 0, "pending": 0}
        rules: dict[str, int] = {}
        for v in self.vee:
            for k, n in v.counts().items():
                out[k] += n
            for r in v.rejected:
                rules[r.rule] = rules.get(r.rule, 0) + 1
        return {**out, "rejected_by_rule": rules}

    def readings(self) -> pd.DataFrame:
        """``readings.parquet``: every capability's log in order, the validated readings of meters no capability
        settles, then every reading VEE rejected."""
        logs = [f for log in (*self._logs, self._unsettled) if len(f := log.frame())]
        rejected = pd.DataFrame([rejected_row(r) for v in self.vee for r in v.rejected])
        if len(rejected):
            logs.append(rejected)
        return pd.concat(logs, ignore_index=True) if logs else pd.DataFrame()
