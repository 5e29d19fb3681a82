"""The certificate consumers' demand, before the clock starts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from grid_models.loads import household_loads_kw, slp_profile_kw
from sim.capabilities.certificates.spec import CertificatesSpec
from sim.files.profiles import profiles_kw

METER_HEADROOM = 3.0  # a consumer's meter is rated at 3x its profile's peak (VEE range rule)


@dataclass(frozen=True)
class ConsumerSeries:
    ids: list[str]
    load_kw: np.ndarray  # (steps, consumers)
    rated_kw: np.ndarray  # meter rating per consumer


def consumer_series(spec: CertificatesSpec, times: pd.DatetimeIndex, rng: np.random.Generator, *, step_s: int,
                    tz: str) -> ConsumerSeries:
    """Each consumer's demand: its group's BDEW profile scaled to ``annual_kwh`` times an individual factor, or
    its measured load (``load_file``; the draws are made either way, so that the other groups stay as they were).
    A meter is rated at ``METER_HEADROOM`` times the larger of its profile's peak and its measured peak."""
    loads, rated = [], []
    for g in spec.consumers:
        annual = g.annual_kwh if g.annual_kwh is not None else 1.0
        kw = household_loads_kw(times, np.full(g.count, annual), rng, profile=g.profile)
        peak = np.full(g.count, float(slp_profile_kw(times, g.profile, annual).max()) if g.annual_kwh else 0.0)
        if g.load_file is not None:
            kw = profiles_kw(g.load_file, g.ids(), what="consumer load", times=times, step_s=step_s, tz=tz,
                             scale=g.load_scale, per=g.annual_kwh)
            peak = np.maximum(peak, kw.max(axis=0))
        loads.append(kw)
        rated += list(METER_HEADROOM * peak)
    return ConsumerSeries(spec.consumer_ids(), np.hstack(loads), np.array(rated))
