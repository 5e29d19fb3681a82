"""Electric LV feeder on pandapower: households as loads, PV as static generators, batteries as storage;
one AC power flow per step. A district (``*_district_<n>``) is n LV feeders as secondary substations on one
10 kV cable feeder (``grid_models.district``).

Solvers: ``"lightsim2grid"`` (default) solves pandapower's first power flow, then drives lightsim2grid's
``GridModel`` directly (``ac_pf`` warm-started from the previous step's voltages, ~0.1 ms per step instead of
~25 ms of pandapower bookkeeping; same equations, results within 1e-8 pu, checked in tests);
``"runpp-lightsim2grid"`` calls ``pp.runpp(..., lightsim2grid=True)`` every step (the straightforward path);
``"pandapower"`` is pandapower's own Newton-Raphson every step.

Sign convention (pandapower's): load and storage ``p`` positive = consumption/charging; sgen positive =
generation; ``res_ext_grid.p_mw`` positive = import from the upstream grid.
"""

from __future__ import annotations

import copy
import functools
import os
import pickle
import random
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandapower as pp
import pandapower.networks as pn

from grid_models.district import create_district
from grid_models.units import kw_to_mw, mw_to_kw

FEEDER_BUILDERS = {
    "kerber_landnetz_kabel_1": pn.create_kerber_landnetz_kabel_1,
    "kerber_landnetz_kabel_2": pn.create_kerber_landnetz_kabel_2,
    "kerber_dorfnetz": pn.create_kerber_dorfnetz,
    "kerber_vorstadtnetz_kabel_1": pn.create_kerber_vorstadtnetz_kabel_1,  # 146 households: 100-prosumer runs
    # 7 x 146 = 1022 households on one 10 kV feeder: 1000-prosumer runs
    "kerber_vorstadtnetz_district_7": functools.partial(create_district, pn.create_kerber_vorstadtnetz_kabel_1, 7),
}


_BUILT: dict[str, object] = {}
CACHE_FORMAT = 1  # bump when the way a network is built changes (seeding, builder arguments)


def network_cache_file(network: str) -> Path:
    """Where a built network is kept between processes: ``$GRIDLEDGER_CACHE`` (or ``~/.cache/gridledger``)
    ``/feeders/<network>-pandapower<version>-v<CACHE_FORMAT>.pkl``."""
    root = Path(os.environ.get("GRIDLEDGER_CACHE") or Path.home() / ".cache" / "gridledger")
    return root / "feeders" / f"{network}-pandapower{pp.__version__}-v{CACHE_FORMAT}.pkl"


def build_network(network: str):
    """The named pandapower feeder, built reproducibly (a fresh copy each call).

    pandapower's Kerber builders draw the branch-out cable types from Python's global ``random`` module; we
    seed it from the feeder's name for the build (and restore its state), so a feeder is the same every run.
    A build takes seconds of pandas bookkeeping (~6 s for the Vorstadtnetz), so each network is built once:
    kept in the process and pickled to ``network_cache_file`` (keyed by the pandapower version), then
    deep-copied for each caller.
    """
    if network not in _BUILT:
        _BUILT[network] = _load_or_build(network)
    return copy.deepcopy(_BUILT[network])


def _load_or_build(network: str):
    builder = FEEDER_BUILDERS[network]  # an unknown name fails here, before any file is touched
    cached = network_cache_file(network)
    try:
        with open(cached, "rb") as f:
            return pickle.load(f)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        pass  # missing or unreadable: build it again
    state = random.getstate()
    random.seed(f"gridledger/feeder/{network}")
    try:
        net = builder()
    finally:
        random.setstate(state)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(f".tmp{os.getpid()}")
        with open(tmp, "wb") as f:
            pickle.dump(net, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, cached)
    except OSError:
        pass  # a read-only cache only costs the build next time
    return net


def replace_transformer(net, std_type: str) -> None:
    """Give every transformer of ``net`` the pandapower standard type ``std_type`` (same voltage levels)."""
    data = pp.load_std_type(net, std_type, element="trafo")
    for i in net.trafo.index:
        if (data["vn_hv_kv"], data["vn_lv_kv"]) != (net.trafo.vn_hv_kv[i], net.trafo.vn_lv_kv[i]):
            raise ValueError(f"transformer {std_type!r} ({data['vn_hv_kv']}/{data['vn_lv_kv']} kV) does not fit "
                             f"the feeder's {net.trafo.vn_hv_kv[i]}/{net.trafo.vn_lv_kv[i]} kV")
        pp.change_std_type(net, i, std_type, element="trafo")


SOLVERS = ("lightsim2grid", "runpp-lightsim2grid", "pandapower")


class PowerFlowError(RuntimeError):
    """The power flow did not converge."""


@dataclass(frozen=True)
class FlowResult:
    """One power flow's results [kW, pu, percent]."""

    slack_p_kw: float
    load_p_kw: float
    sgen_p_kw: float
    storage_p_kw: float
    losses_kw: float
    vm_min_pu: float
    vm_max_pu: float
    trafo_loading_percent: float
    line_loading_max_percent: float


class Feeder:
    """A pandapower feeder with ``n_prosumers`` households equipped with PV and a battery.

    Prosumers sit on loads spread evenly along the feeder's load table; the other loads are plain households.
    """

    def __init__(self, network: str, n_prosumers: int, solver: str = "lightsim2grid", transformer: str | None = None):
        if solver not in SOLVERS:
            raise ValueError(f"feeder solver {solver!r}: expected one of {SOLVERS}")
        self.net = build_network(network)
        if transformer is not None:
            replace_transformer(self.net, transformer)
        self.network = network
        self.solver = solver
        self.use_lightsim2grid = solver in ("lightsim2grid", "runpp-lightsim2grid")
        self.load_idx = self.net.load.index.to_numpy()
        n_loads = len(self.load_idx)
        if n_prosumers > n_loads:
            raise ValueError(f"feeder {network!r} has {n_loads} households, cannot host {n_prosumers} prosumers")
        self.prosumer_pos = np.unique(np.linspace(0, n_loads - 1, n_prosumers).round().astype(int))
        buses = self.net.load.bus.to_numpy()[self.prosumer_pos]
        self.pv_idx = np.asarray(pp.create_sgens(self.net, buses, p_mw=0.0, name=[f"pv@{b}" for b in buses]),
                                 dtype=int)
        self.storage_idx = np.asarray(pp.create_storages(self.net, buses, p_mw=0.0, max_e_mwh=1.0,
                                                         name=[f"bat@{b}" for b in buses]), dtype=int)
        self._solved_once = False
        self._fast: _GridModelFlow | None = None
        self._export_kw: np.ndarray | None = None

    @property
    def n_households(self) -> int:
        return len(self.load_idx)

    def set_injections(self, load_kw: np.ndarray, pv_kw: np.ndarray, storage_kw: np.ndarray) -> None:
        """Set every household's demand, every prosumer's PV output and battery power (one vector each) [kW]."""
        if self._fast is not None:
            self._fast.set_injections(kw_to_mw(np.asarray(load_kw, dtype=float)),
                                      kw_to_mw(np.asarray(pv_kw, dtype=float)),
                                      kw_to_mw(np.asarray(storage_kw, dtype=float)))
            return
        self.net.load.loc[self.load_idx, "p_mw"] = kw_to_mw(load_kw)
        self.net.sgen.loc[self.pv_idx, "p_mw"] = kw_to_mw(pv_kw)
        self.net.storage.loc[self.storage_idx, "p_mw"] = kw_to_mw(storage_kw)

    def solve(self) -> FlowResult:
        """Run one AC power flow and summarise it."""
        if self._fast is not None:
            result, self._export_kw = self._fast.solve(self.prosumer_pos)
            if result is None:
                raise PowerFlowError(f"power flow on {self.network} did not converge")
            return result
        try:
            pp.runpp(
                self.net,
                lightsim2grid=self.use_lightsim2grid,
                init="results" if self._solved_once else "auto",
                numba=False,
            )
        except pp.LoadflowNotConverged as exc:
            raise PowerFlowError(f"power flow on {self.network} did not converge") from exc
        self._solved_once = True
        net = self.net
        if self.solver == "lightsim2grid":  # pandapower's solution is the warm start of the direct path
            self._fast = _GridModelFlow(net, self.load_idx, self.pv_idx, self.storage_idx)
        losses_mw = net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum()
        return FlowResult(
            slack_p_kw=float(mw_to_kw(net.res_ext_grid.p_mw.sum())),
            load_p_kw=float(mw_to_kw(net.res_load.p_mw.sum())),
            sgen_p_kw=float(mw_to_kw(net.res_sgen.p_mw.sum())),
            storage_p_kw=float(mw_to_kw(net.res_storage.p_mw.sum())),
            losses_kw=float(mw_to_kw(losses_mw)),
            vm_min_pu=float(net.res_bus.vm_pu.min()),
            vm_max_pu=float(net.res_bus.vm_pu.max()),
            trafo_loading_percent=float(net.res_trafo.loading_percent.max()),
            line_loading_max_percent=float(net.res_line.loading_percent.max()),
        )

    def bus_vm_pu(self) -> np.ndarray:
        """Every bus's voltage magnitude of the last power flow, in ``net.bus`` order [pu] (the direct path does
        not fill pandapower's ``res_*`` tables)."""
        if self._fast is not None and self._export_kw is not None:
            return np.abs(self._fast.V)
        return self.net.res_bus.vm_pu.to_numpy()

    def prosumer_net_export_kw(self) -> np.ndarray:
        """Each prosumer's net export at its connection point from the power-flow results [kW]."""
        if self._fast is not None and self._export_kw is not None:
            return self._export_kw
        net = self.net
        load = net.res_load.p_mw.to_numpy()[self.prosumer_pos]
        pv = net.res_sgen.p_mw.loc[self.pv_idx].to_numpy()
        st = net.res_storage.p_mw.loc[self.storage_idx].to_numpy()
        return mw_to_kw(pv - load - st)


class _GridModelFlow:
    """lightsim2grid's ``GridModel`` of a solved pandapower net, driven directly: injections by element
    position, ``ac_pf`` warm-started from the last voltages, results summarised as pandapower would.

    Line loading is pandapower's ``max(i_from, i_to) / (max_i_ka * df * parallel)``; transformer loading is
    ``max(i_hv * vn_hv, i_lv * vn_lv) * sqrt(3) / (sn_mva * parallel)``.
    """

    MAX_ITER = 10
    TOL_PU = 1e-8

    def __init__(self, net, load_idx: np.ndarray, pv_idx: np.ndarray, storage_idx: np.ndarray):
        from lightsim2grid.network import init_from_pandapower

        with warnings.catch_warnings():  # it reports the ext_grid it turns into a slack generator, and NaN q limits
            warnings.simplefilter("ignore")
            self.model = init_from_pandapower(net)
        self.load_pos = net.load.index.get_indexer(load_idx)
        self.pv_pos = net.sgen.index.get_indexer(pv_idx)
        self.storage_pos = net.storage.index.get_indexer(storage_idx)
        self.V = (net.res_bus.vm_pu.to_numpy() * np.exp(1j * np.deg2rad(net.res_bus.va_degree.to_numpy()))
                  ).astype(complex)
        self.line_rating_ka = (net.line.max_i_ka * net.line.df * net.line.parallel).to_numpy()
        t = net.trafo
        self.trafo_hv_kv, self.trafo_lv_kv = t.vn_hv_kv.to_numpy(), t.vn_lv_kv.to_numpy()
        self.trafo_rating_mva = (t.sn_mva * t.parallel).to_numpy()
        self._last: dict[str, np.ndarray] = {}
        # pandapower reports a constant-power element's p as p_mw x scaling: the same product here gives the
        # same bits (lightsim2grid's own results pass through per-unit and differ in the last bits, enough to
        # move a meter register across a whole Wh now and then).
        zip_cols = [c for c in net.load.columns if c.startswith(("const_z", "const_i"))]
        if net.load[zip_cols].abs().to_numpy().any():
            raise ValueError("the direct lightsim2grid path takes constant-power loads only")
        self.load_scaling = net.load.scaling.to_numpy()[self.load_pos]
        self.pv_scaling = net.sgen.scaling.to_numpy()[self.pv_pos]
        self.storage_scaling = net.storage.scaling.to_numpy()[self.storage_pos]

    def _change(self, name: str, setter, positions: np.ndarray, values_mw: np.ndarray) -> None:
        last = self._last.get(name)
        changed = np.arange(len(values_mw)) if last is None else np.flatnonzero(values_mw != last)
        list(map(setter, positions[changed].tolist(), values_mw[changed].tolist()))  # one native call each
        self._last[name] = values_mw.copy()

    def set_injections(self, load_mw: np.ndarray, pv_mw: np.ndarray, storage_mw: np.ndarray) -> None:
        m = self.model
        self._change("load", m.change_p_load, self.load_pos, load_mw)
        self._change("pv", m.change_p_sgen, self.pv_pos, pv_mw)
        self._change("storage", m.change_p_storage, self.storage_pos, storage_mw)

    def solve(self, prosumer_pos: np.ndarray) -> tuple[FlowResult | None, np.ndarray | None]:
        m = self.model
        V = m.ac_pf(self.V, self.MAX_ITER, self.TOL_PU)
        if V.shape[0] == 0:
            return None, None
        self.V = V
        load_p = self._last["load"] * self.load_scaling  # [MW], as pandapower's res_load.p_mw (see __init__)
        sgen_p = self._last["pv"] * self.pv_scaling
        st_p = self._last["storage"] * self.storage_scaling
        lp1, _, _, la1 = m.get_line_res1()
        lp2, _, _, la2 = m.get_line_res2()
        tp1, _, _, ta1 = m.get_trafo_res1()
        tp2, _, _, ta2 = m.get_trafo_res2()
        vm = np.abs(V)
        trafo_loading = np.maximum(ta1 * self.trafo_hv_kv, ta2 * self.trafo_lv_kv) * np.sqrt(3) \
            / self.trafo_rating_mva * 100.0
        result = FlowResult(
            slack_p_kw=float(mw_to_kw(m.get_gen_res()[0].sum())),
            load_p_kw=float(mw_to_kw(load_p.sum())),
            sgen_p_kw=float(mw_to_kw(sgen_p.sum())),
            storage_p_kw=float(mw_to_kw(st_p.sum())),
            losses_kw=float(mw_to_kw(lp1.sum() + lp2.sum() + tp1.sum() + tp2.sum())),
            vm_min_pu=float(vm.min()),
            vm_max_pu=float(vm.max()),
            trafo_loading_percent=float(trafo_loading.max()),
            line_loading_max_percent=float((np.maximum(la1, la2) / self.line_rating_ka).max() * 100.0),
        )
        export_kw = mw_to_kw(sgen_p - load_p[prosumer_pos] - st_p)
        return result, export_kw
