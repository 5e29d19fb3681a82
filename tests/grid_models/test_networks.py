"""Networks from outside: a SimBench grid and pandapower JSON files, checked, normalised and solved by the direct
lightsim2grid path as ``pp.runpp`` solves them; several external grids and transformers; the network's own load
profiles, resampled without creating or losing energy."""

from __future__ import annotations

import copy
import dataclasses
import logging
import warnings

import numpy as np
import pandapower as pp
import pandas as pd
import pytest

from grid_models.feeder import Feeder, NetworkError, network_data
from grid_models.loads import profile_offset_s, resample_profile_kw, slp_of_profile
from grid_models.networks import network_load_profiles, network_problems
from tests.conftest import SIMBENCH


def quiet_runpp(net, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.disable(logging.WARNING)
        try:
            pp.runpp(net, numba=False, **kw)
        finally:
            logging.disable(logging.NOTSET)


def assert_flows_agree(fast: Feeder, ref: Feeder, n_steps: int = 12, seed: int = 7) -> float:
    """Drive both feeders with the same random injections; return the largest bus voltage difference [pu]."""
    rng = np.random.default_rng(seed)
    n = len(fast.prosumer_pos)
    worst = 0.0
    for _ in range(n_steps):
        load = rng.uniform(0, 6, fast.n_households)
        pv, bat = rng.uniform(0, 10, n), rng.uniform(-4, 4, n)
        bat[: n // 2] = 0.0
        for f in (fast, ref):
            f.set_injections(load, pv, bat)
        a, b = fast.solve(), ref.solve()
        for field in dataclasses.fields(a):
            tol = 1e-6 if field.name.endswith("_pu") else 1e-3  # pu; kW and percent
            assert getattr(a, field.name) == pytest.approx(getattr(b, field.name), abs=tol), field.name
        worst = max(worst, float(np.abs(fast.bus_vm_pu() - ref.bus_vm_pu()).max()))
        np.testing.assert_allclose(fast.prosumer_net_export_kw(), ref.prosumer_net_export_kw(), atol=1e-6)
    assert fast._fast is not None  # the direct path was in use
    assert worst < 1e-6
    return worst


@pytest.mark.parametrize("solver", ["runpp-lightsim2grid", "pandapower"])
def test_simbench_direct_path_matches_runpp(solver):
    data = network_data(SIMBENCH)
    assert data.problems == () and data.direct_problem is None and data.left_out == {"sgen": 4}
    n = data.households  # one prosumer on every load
    assert_flows_agree(Feeder(SIMBENCH, n, "lightsim2grid"), Feeder(SIMBENCH, n, solver))


def test_simbench_profiles_are_simbench_absolute_values(simbench_raw):
    import simbench

    profiles, problem = network_load_profiles(simbench_raw)
    assert problem is None and profiles.step_s == 900 and profiles.start == pd.Timestamp("2016-01-01")
    absolute = simbench.get_absolute_values(copy.deepcopy(simbench_raw), profiles_instead_of_study_cases=True)
    expected = absolute[("load", "p_mw")].to_numpy() * 1000.0
    np.testing.assert_allclose(profiles.kw, expected, rtol=1e-12)
    assert profiles.kw.shape == (366 * 96, 13) and profiles.names[0] == "L2-A"
    assert network_data(SIMBENCH).profiles.load_index == tuple(network_data(SIMBENCH).net.load.index)


def test_a_saved_json_is_the_same_network(simbench_raw, tmp_path):
    path = tmp_path / "rural1.json"
    pp.to_json(simbench_raw, str(path))
    a, b = network_data(SIMBENCH), network_data(str(path))
    for table in ("bus", "line", "trafo", "load", "ext_grid"):
        pd.testing.assert_frame_equal(a.net[table], b.net[table][a.net[table].columns], check_exact=True)
    np.testing.assert_array_equal(a.profiles.kw, b.profiles.kw)


def two_infeeds(raw):
    """The SimBench grid with a second 20 kV infeed (its own transformer) at the far end of a branch, meshed."""
    net = copy.deepcopy(raw)
    net.sgen = net.sgen.iloc[0:0]
    mv = pp.create_bus(net, 20.0, name="second MV bus")
    far = int(net.load.bus.loc[net.load.name == "LV1.101 Load 9"].iloc[0])
    pp.create_transformer(net, mv, far, "0.25 MVA 20/0.4 kV", name="second transformer")
    pp.create_ext_grid(net, mv, vm_pu=float(net.ext_grid.vm_pu.iloc[0]), name="second infeed")
    return net


def test_several_external_grids_and_transformers(simbench_raw, tmp_path):
    """Two infeeds, two transformers: the direct path agrees with pp.runpp on the twin's net, and the twin's net
    (one joined upstream bus) with pandapower's Newton-Raphson on the net as saved (two external grids)."""
    raw = two_infeeds(simbench_raw)
    path = tmp_path / "two_infeeds.json"
    pp.to_json(raw, str(path))
    net = network_data(str(path)).net
    assert len(net.ext_grid) == 1 and len(net.trafo) == 2
    n = len(net.load)
    assert_flows_agree(Feeder(str(path), n, "lightsim2grid"), Feeder(str(path), n, "pandapower"))

    fast = Feeder(str(path), 0, "lightsim2grid")
    original = copy.deepcopy(raw)
    zip_cols = [c for c in original.load.columns if c.startswith(("const_z", "const_i"))]
    original.load[zip_cols] = 0.0
    original.load["q_mvar"] = 0.0
    for p in (0.5, 1.0, 1.5):  # study-case loads scaled: import through both transformers
        load_kw = original.load.p_mw.to_numpy() * 1000 * p
        fast.set_injections(load_kw, np.zeros(0), np.zeros(0))
        flow = fast.solve()
        ref = copy.deepcopy(original)
        ref.load["p_mw"] = load_kw / 1000
        quiet_runpp(ref)
        assert len(ref.res_ext_grid) == 2 and (ref.res_ext_grid.p_mw > 0).all()  # both infeeds supply
        assert flow.slack_p_kw == pytest.approx(ref.res_ext_grid.p_mw.sum() * 1000, abs=1e-3)
        assert flow.trafo_loading_percent == pytest.approx(ref.res_trafo.loading_percent.max(), abs=1e-4)
        vm = pd.Series(fast.bus_vm_pu(), index=fast.net.bus.name.to_numpy())
        np.testing.assert_allclose(vm.to_numpy(), ref.res_bus.set_index(ref.bus.name).vm_pu[vm.index], atol=1e-6)


def small_net():
    """20 kV infeed, one transformer, a 0.4 kV branch of three houses."""
    net = pp.create_empty_network()
    mv = pp.create_bus(net, 20.0, name="MV")
    lv = [pp.create_bus(net, 0.4, name=f"LV{i}") for i in range(4)]
    pp.create_ext_grid(net, mv, vm_pu=1.02)
    pp.create_transformer(net, mv, lv[0], "0.25 MVA 20/0.4 kV")
    for i in range(3):
        pp.create_line(net, lv[i], lv[i + 1], 0.08, "NAYY 4x150 SE")
    for i in (1, 2, 3):
        pp.create_load(net, lv[i], p_mw=0.004, name=f"house {i}")
    return net


def test_open_switches_resolved_as_pandapower_does(tmp_path):
    """A ring opened by a switch (and a branch hanging behind an open line-end switch) solves as pandapower solves
    the net as saved; lightsim2grid alone would ignore the switches."""
    net = small_net()
    tie = pp.create_line(net, 3, 1, 0.05, "NAYY 4x150 SE", name="tie")
    pp.create_switch(net, 1, tie, et="l", closed=False, name="open tie")
    stub = pp.create_bus(net, 0.4, name="stub")
    pp.create_switch(net, 4, stub, et="b", closed=True, name="busbar coupler")
    pp.create_load(net, stub, p_mw=0.002, name="house stub")
    path = tmp_path / "ring.json"
    pp.to_json(net, str(path))
    assert network_problems(net) == []
    fast = Feeder(str(path), 2, "lightsim2grid")
    assert len(fast.net.switch) == 0 and len(fast.net.bus) == len(net.bus) - 1 + 1  # coupler joined, aux bus added
    assert_flows_agree(fast, Feeder(str(path), 2, "pandapower"))
    ref = copy.deepcopy(net)
    quiet_runpp(ref)
    fast.set_injections(net.load.p_mw.to_numpy() * 1000, np.zeros(2), np.zeros(2))
    fast.solve()
    vm = pd.Series(fast.bus_vm_pu(), index=fast.net.bus.name.to_numpy()).drop("aux line 3 to_bus")
    np.testing.assert_allclose(vm.to_numpy(), ref.res_bus.set_index(ref.bus.name).vm_pu[vm.index], atol=1e-6)


@pytest.mark.parametrize(("edit", "expected"), [
    (lambda n: n.load.drop(n.load.index, inplace=True), "no load in service"),
    (lambda n: pp.create_gen(n, 3, p_mw=0.01, vm_pu=1.03, name="farm generator"),
     r"1 'gen' element\(s\) in service \('farm generator'\): not supported \(a voltage-controlled generator"),
    (lambda n: (pp.create_bus(n, 0.4, name="shed"), pp.create_load(n, 5, p_mw=0.001)), r"islanded: 'shed'"),
    (lambda n: pp.create_switch(n, 2, 1, et="l", closed=False), r"2 bus\(es\) .*islanded: 'LV2', 'LV3'"),
    (lambda n: pp.create_ext_grid(n, 0, vm_pu=1.0), "external grids with different set-points"),
    (lambda n: n.ext_grid.drop(n.ext_grid.index, inplace=True), "no external grid in service"),
    (lambda n: n.load.__setitem__("const_z_p_percent", 50.0), "voltage-dependent load"),
], ids=["no-load", "gen", "island-bus", "island-switch", "two-set-points", "no-ext-grid", "zip-load"])
def test_unusable_networks_are_refused_with_the_reason(tmp_path, edit, expected):
    net = small_net()
    edit(net)
    path = tmp_path / "bad.json"
    pp.to_json(net, str(path))
    with pytest.raises(NetworkError, match=expected) as info:
        Feeder(str(path), 1)
    assert str(path) in str(info.value)


def test_prosumer_loads_by_name(tmp_path):
    path = tmp_path / "grid.json"
    pp.to_json(small_net(), str(path))
    f = Feeder(str(path), 2, prosumer_loads=["house 3", "house 1"])
    assert f.prosumer_pos.tolist() == [2, 0] and f.net.sgen.bus.tolist() == [4, 2]
    for names, expected in [(["house 9", "house 1"], r"no load in service named 'house 9'.*'house 1', 'house 2'"),
                            (["house 1", "house 1"], "named twice"), (["house 1"], "1 loads named for 2 prosumers")]:
        with pytest.raises(NetworkError, match=expected):
            Feeder(str(path), 2, prosumer_loads=names)
    with pytest.raises(NetworkError, match="3 households .*cannot host 4 prosumers"):
        Feeder(str(path), 4)


def test_what_the_direct_path_cannot_take_is_named(tmp_path):
    net = small_net()
    net.line.loc[0, "parallel"] = 2  # lightsim2grid's converter refuses parallel lines
    path = tmp_path / "parallel.json"
    pp.to_json(net, str(path))
    assert "Cannot handle 'parallel' lines" in network_data(str(path)).direct_problem
    with pytest.raises(NetworkError, match="direct lightsim2grid path cannot take"):
        Feeder(str(path), 1, "lightsim2grid")
    Feeder(str(path), 1, "pandapower").solve()  # pandapower takes it


def test_missing_file_and_unknown_code_and_not_a_net(tmp_path):
    with pytest.raises(NetworkError, match="no such network file"):
        network_data(str(tmp_path / "nope.json"))
    with pytest.raises(NetworkError, match="unknown SimBench code '1-LV-nowhere'.*1-LV-rural1--0-sw"):
        network_data("simbench:1-LV-nowhere")
    (tmp_path / "x.json").write_text('{"a": 1}')
    with pytest.raises(NetworkError, match="not a pandapower net"):
        network_data(str(tmp_path / "x.json"))


def test_resampling_keeps_the_energy():
    rng = np.random.default_rng(0)
    kw = rng.uniform(0, 3, (366 * 96, 2))
    year_s = kw.shape[0] * 900
    np.testing.assert_array_equal(resample_profile_kw(kw, 900, 4 * 900, 96, 900), kw[4:100])  # as it is
    cumulative = np.concatenate([[0.0], np.cumsum(kw[:, 0] * 900)])

    def energy(t):  # [kW s] from the profile's start, repeating
        laps, within = divmod(t, year_s)
        i = within // 900
        return laps * cumulative[-1] + cumulative[i] + (within - i * 900) * kw[i % len(kw), 0]

    for step_s, offset_s, n in [(60, 4620, 3 * 1440), (3600, 450, 24 * 400), (600, 300, 500), (900, 450, 96)]:
        out = resample_profile_kw(kw, 900, offset_s, n, step_s)
        assert out.shape == (n, 2)
        assert out[:, 0].sum() * step_s == pytest.approx(energy(offset_s + n * step_s) - energy(offset_s), rel=1e-12)
    minute = resample_profile_kw(kw, 900, 0, 30, 60)
    np.testing.assert_allclose(minute, np.repeat(kw[:2], 15, axis=0), rtol=1e-12)  # held within an interval
    hours = resample_profile_kw(kw, 900, 0, 24 * 366, 3600)  # differences of a year's cumulative energy: ~1e-11
    np.testing.assert_allclose(hours, kw.reshape(-1, 4, 2).mean(axis=1), rtol=1e-9)


@pytest.mark.parametrize(("start", "mapped"), [
    ("2025-06-02 00:00", "2016-05-29 23:00"),  # Monday 00:00 CEST = Sunday 23:00 standard time, the same weekday
    ("2025-01-01 00:00", "2016-01-06 00:00"),  # Wednesday: the first Wednesday of the profile, not the last
    ("2025-12-30 12:00", "2016-12-27 12:00"),  # Tuesday
    ("2024-02-29 06:00", "2016-03-03 06:00"),  # Thursday
])
def test_run_dates_map_onto_the_profile_year_on_the_same_weekday(start, mapped):
    t0 = pd.Timestamp("2016-01-01")
    offset = profile_offset_s(pd.Timestamp(start, tz="Europe/Berlin"), t0, 366 * 86_400)
    at = t0 + pd.Timedelta(seconds=offset)
    assert at == pd.Timestamp(mapped)
    local = pd.Timestamp(start, tz="Europe/Berlin")
    assert at.dayofweek == (local.tz_localize(None) - local.dst()).dayofweek  # in local standard time


def test_profile_families_map_to_bdew():
    assert [slp_of_profile(n) for n in ("H0-A", "G1-B", "L2-A", "Air_Parallel_2", "HLS_A_3.7")] == [
        "h0", "g1", "l2", "h0", "h0"]
