"""The 1022-household district (7 Kerber Vorstadtnetze on one 10 kV feeder): topology, solvers, energy balance."""

import numpy as np
import pandapower.topology as top
import pytest
from numpy.testing import assert_allclose

from grid_models.district import MV_KV, substation_zone
from grid_models.feeder import SOLVERS, Feeder, build_network

DISTRICT = "kerber_vorstadtnetz_district_7"
N_SUBSTATIONS, HOUSEHOLDS_PER_SUBSTATION = 7, 146


def test_district_is_seven_substations_on_one_mv_feeder():
    net = build_network(DISTRICT)
    assert len(net.load) == N_SUBSTATIONS * HOUSEHOLDS_PER_SUBSTATION == 1022
    assert len(net.trafo) == N_SUBSTATIONS and len(net.ext_grid) == 1
    (slack_bus,) = net.ext_grid.bus
    assert net.bus.zone[slack_bus] == "mv" and net.bus.vn_kv[slack_bus] == MV_KV
    assert (net.bus.vn_kv[net.trafo.hv_bus] == MV_KV).all() and (net.bus.vn_kv[net.trafo.lv_bus] == 0.4).all()
    mv_lines = net.line[net.line.std_type.str.contains("kV")]
    assert len(mv_lines) == N_SUBSTATIONS  # one cable section into each substation, a radial chain
    assert list(mv_lines.to_bus) == list(net.trafo.hv_bus) and mv_lines.from_bus.iloc[0] == slack_bus
    line_zone = net.bus.zone[net.line.from_bus].to_numpy()
    first, second = (net.line.std_type[line_zone == substation_zone(k)].to_numpy() for k in (1, 2))
    assert (first != second).any()  # each copy draws its own house-connection cables (seeded)


def test_each_copys_households_are_fed_through_its_own_transformer():
    net = build_network(DISTRICT)
    load_zone = net.bus.zone[net.load.bus].to_numpy()
    for t in net.trafo.index:
        zone = net.trafo.name[t]
        assert net.bus.zone[net.trafo.lv_bus[t]] == zone
        net.trafo.loc[t, "in_service"] = False
        dark = top.unsupplied_buses(net)
        net.trafo.loc[t, "in_service"] = True
        own_lv = set(net.bus.index[(net.bus.zone == zone) & (net.bus.vn_kv < 1.0)])
        assert dark == own_lv  # this transformer, and only it, feeds its copy
        assert net.load.bus.isin(dark).sum() == (load_zone == zone).sum() == HOUSEHOLDS_PER_SUBSTATION


@pytest.fixture(scope="module")
def district_feeders():
    return {solver: Feeder(DISTRICT, 1000, solver) for solver in SOLVERS}


def test_district_solvers_agree_and_energy_balance_closes(district_feeders):
    """lightsim2grid (GridModel directly, and through runpp) against pandapower's Newton-Raphson, 1000 prosumers;
    sum of injections = losses + external grid [kW], also from pandapower's own result tables."""
    ref = district_feeders["pandapower"]
    assert ref.n_households == 1022 and len(ref.pv_idx) == 1000
    rng = np.random.default_rng(11)
    for _ in range(4):  # imports and exports across the MV feeder
        inj = rng.uniform(0, 3, ref.n_households), rng.uniform(0, 6, 1000), rng.uniform(-3, 3, 1000)
        flows = {}
        for solver, f in district_feeders.items():
            f.set_injections(*inj)
            flows[solver] = f.solve()
        for solver, f in district_feeders.items():
            r = flows[solver]
            assert_allclose(f.bus_vm_pu(), ref.bus_vm_pu(), atol=1e-7, err_msg=solver)
            assert_allclose(r.slack_p_kw, flows["pandapower"].slack_p_kw, atol=1e-3)
            assert_allclose(r.losses_kw, flows["pandapower"].losses_kw, atol=1e-3)
            assert_allclose(r.trafo_loading_percent, flows["pandapower"].trafo_loading_percent, atol=1e-4)
            assert_allclose(r.load_p_kw - r.sgen_p_kw + r.storage_p_kw + r.losses_kw, r.slack_p_kw, atol=1e-3)
        assert district_feeders["lightsim2grid"]._fast is not None  # the direct path is in use from step 2
        net = ref.net
        injected_mw = net.res_sgen.p_mw.sum() - net.res_load.p_mw.sum() - net.res_storage.p_mw.sum()
        losses_mw = net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum()
        assert_allclose(injected_mw + net.res_ext_grid.p_mw.sum(), losses_mw, atol=1e-6)  # 1 W: NR's tolerance
        assert net.res_trafo.p_hv_mw.abs().min() > 0.01  # every substation carries its own copy's power


def test_transformer_option_replaces_every_substations_transformer():
    f = Feeder(DISTRICT, 10, "pandapower", transformer="0.25 MVA 10/0.4 kV")
    assert (f.net.trafo.std_type == "0.25 MVA 10/0.4 kV").all() and (f.net.trafo.sn_mva == 0.25).all()
    assert len(f.net.trafo) == N_SUBSTATIONS
    f.set_injections(np.full(f.n_households, 1.0), np.zeros(10), np.zeros(10))  # 146 kW per 250 kVA
    assert 146 / 250 * 100 < f.solve().trafo_loading_percent < 65.0
