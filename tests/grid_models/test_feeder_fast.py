"""The direct lightsim2grid path (``GridModel.ac_pf``) against ``pp.runpp`` on the same feeders and injections."""

import dataclasses

import numpy as np
import pandapower as pp
import pytest

from grid_models.feeder import TRIPPED, Feeder


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


@pytest.mark.parametrize("solver", ["lightsim2grid", "runpp-lightsim2grid", "pandapower"])
def test_a_step_without_solution_trips_the_feeder_and_the_next_solves_as_pandapower(solver):
    """50 MW per house on the smallest feeder has no power-flow solution: the step is de-energised (every power,
    voltage and export 0), and the step after it is solved as ``pp.runpp`` solves it on a fresh net."""
    f = Feeder("kerber_landnetz_kabel_1", 4, solver)
    f.set_injections(np.full(f.n_households, 1.0), np.zeros(4), np.zeros(4))
    assert f.solve().vm_min_pu > 0.9
    f.set_injections(np.full(f.n_households, 5e4), np.zeros(4), np.zeros(4))
    assert f.solve() == TRIPPED and f.tripped
    assert not f.prosumer_net_export_kw().any() and not f.bus_vm_pu().any()
    load, pv, bat = np.full(f.n_households, 2.0), np.array([3.0, 0.0, 5.0, 1.0]), np.array([1.0, 0.0, -2.0, 0.0])
    f.set_injections(load, pv, bat)
    after = f.solve()
    ref = Feeder("kerber_landnetz_kabel_1", 4, "pandapower")
    ref.set_injections(load, pv, bat)
    pp.runpp(ref.net, numba=False)
    assert not f.tripped
    assert after.slack_p_kw == pytest.approx(ref.net.res_ext_grid.p_mw.sum() * 1e3, abs=1e-3)
    assert after.vm_min_pu == pytest.approx(ref.net.res_bus.vm_pu.min(), abs=1e-6)
    np.testing.assert_allclose(f.bus_vm_pu(), ref.net.res_bus.vm_pu.to_numpy(), atol=1e-6)
    np.testing.assert_allclose(f.prosumer_net_export_kw(), pv - 2.0 - bat, atol=1e-9)


def test_unknown_solver_is_named():
    with pytest.raises(ValueError, match="solver 'fast'"):
        Feeder("kerber_landnetz_kabel_1", 2, "fast")
