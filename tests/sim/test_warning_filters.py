"""A run leaves the process-wide warning filters as it found them (demandlib 0.2.2 calls
``warnings.simplefilter("error")`` inside ``ElecSlp``; leaked, it turns the next pandas FutureWarning or pandapower
DeprecationWarning of the process into an exception)."""

from __future__ import annotations

import warnings

from grid_models import loads
from tests.conftest import ROOT, SMALL


def test_a_short_run_leaves_the_warning_filters_unchanged():
    from sim.runner import run_scenario

    loads._slp_kw_per_mwh.cache_clear()  # so that demandlib is really called in this run
    before = list(warnings.filters)
    run_scenario(ROOT / "scenarios" / "vpp.toml", overrides=SMALL)
    assert warnings.filters == before
