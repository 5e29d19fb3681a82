"""The certificate consumers' demand, before the clock starts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from grid_models.loads import household_loads_kw, slp_profile_kw
from sim.capabilities.certificates.spec import CertificatesSpec

METER_HEADROOM = 3.0  # a consumer's meter is rated at 3x its profile's peak (VEE range rule)


@dataclass(frozen=True)
class ConsumerSeries:
    ids: list[str]
    load_kw: np.ndarray  # (steps, consumers)
    rated_kw: np.ndarray  # meter rating per consumer


def consumer_series(spec: CertificatesSpec, times: pd.DatetimeIndex, rng: np.random.Generator) -> ConsumerSeries:
    """Each consumer's demand: its group's BDEW profile scaled to ``annual_kwh`` times an individual factor."""
    loads, rated = [], []
    for g in spec.consumers:
        loads.append(household_loads_kw(times, np.full(g.count, g.annual_kwh), rng, profile=g.profile))
        rated += [METER_HEADROOM * float(slp_profile_kw(times, g.profile, g.annual_kwh).max())] * g.count
    return ConsumerSeries(spec.consumer_ids(), np.hstack(loads), np.array(rated))
