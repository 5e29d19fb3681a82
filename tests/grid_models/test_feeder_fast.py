"""The direct lightsim2grid path (``GridModel.ac_pf``) against ``pp.runpp`` on the same feeders and injections."""

import dataclasses

import numpy as np
import pytest

from grid_models.feeder import Feeder, PowerFlowError


@pytest.mark.parametrize("network,n_prosumers", [("kerber_dorfnetz", 24), ("kerber_vorstadtnetz_kabel_1", 100)])
def test_direct_gridmodel_matches_runpp(network, n_prosumers):
    fast = Feeder(network, n_prosumers, "lightsim2grid")
    ref = Feeder(network, n_prosumers, "runpp-lightsim2grid")
    rng = np.random.default_rng(7)
    for _ in range(12):  # exports, imports, and steps where only some injections change
        load = rng.uniform(0, 3, fast.n_households)
        pv, bat = rng.uniform(0, 8, n_prosumers), rng.uniform(-4, 4, n_prosumers)
        bat[: n_prosumers // 2] = 0.0
        for f in (fast, ref):
            f.set_injections(load, pv, bat)
        a, b = fast.solve(), ref.solve()
        assert fast._fast is not None  # after the first step the direct path is in use
        for field in dataclasses.fields(a):
            x, y = getattr(a, field.name), getattr(b, field.name)
            tol = 1e-6 if field.name.endswith("_pu") else 1e-3  # pu; kW and percent
            assert x == pytest.approx(y, abs=tol), field.name
        np.testing.assert_allclose(fast.prosumer_net_export_kw(), ref.prosumer_net_export_kw(), atol=1e-6)
        assert abs(a.slack_p_kw - (a.load_p_kw - a.sgen_p_kw + a.storage_p_kw + a.losses_kw)) < 1e-3  # balance


def test_direct_gridmodel_reports_divergence():
    f = Feeder("kerber_landnetz_kabel_1", 4, "lightsim2grid")
    f.set_injections(np.full(f.n_households, 1.0), np.zeros(4), np.zeros(4))
    f.solve()
    f.set_injections(np.full(f.n_households, 5e4), np.zeros(4), np.zeros(4))  # 50 MW per house: no solution
    with pytest.raises(PowerFlowError):
        f.solve()


def test_unknown_solver_is_named():
    with pytest.raises(ValueError, match="solver 'fast'"):
        Feeder("kerber_landnetz_kabel_1", 2, "fast")
