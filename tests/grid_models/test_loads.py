"""demandlib calls leave the process-wide warning filters as they found them."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from grid_models import loads
from grid_models.heat_demand import bdew_heat_kw
from grid_models.loads import household_loads_kw, slp_profile_kw


def test_demandlib_calls_leave_the_warning_filters_unchanged():
    """demandlib 0.2.2 calls ``warnings.simplefilter("error")`` inside ``ElecSlp``; loads and heat demand must
    not leak it into the process."""
    loads._slp_kw_per_mwh.cache_clear()
    times = pd.date_range("2025-01-06", periods=96 * 2, freq="15min", tz="Europe/Berlin")
    before = list(warnings.filters)
    household_loads_kw(times, np.array([3500.0, 4200.0]), np.random.default_rng(0))
    slp_profile_kw(times, "g0", 1000.0)
    assert warnings.filters == before
    bdew_heat_kw(times, np.full(len(times), 2.0), profile="EFH", building_class=3, annual_kwh=20_000.0)
    assert warnings.filters == before
