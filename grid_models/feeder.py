"""Electric LV feeder on pandapower: households as loads, PV as static generators, batteries as storage;
one AC power flow per step. A district (``*_district_<n>``) is n LV feeders as secondary substations on one
10 kV cable feeder (``grid_models.district``). Besides the Kerber feeders, a network may be a SimBench grid
(``simbench:<code>``) or a pandapower JSON file (an absolute path here), checked and normalised by
``grid_models.networks`` and cached by ``grid_models.network_data``, with the load profiles it carries.

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
import random

import numpy as np
import pandapower as pp
import pandapower.networks as pn

from grid_models.direct_flow import FlowResult, GridModelFlow, max_or_zero
from grid_models.district import create_district
from grid_models.network_data import CACHE_FORMAT, NetworkData, cached, network_cache_file, network_data
from grid_models.networks import LoadProfiles, NetworkError, network_kind, prosumer_positions
from grid_models.units import kw_to_mw, mw_to_kw

__all__ = ["CACHE_FORMAT", "FEEDER_BUILDERS", "SOLVERS", "Feeder", "FlowResult", "NetworkData", "NetworkError",
           "TRIPPED", "build_network", "network_cache_file", "network_data", "replace_transformer",
           "transformer_problem"]

FEEDER_BUILDERS = {
    "kerber_landnetz_kabel_1": pn.create_kerber_landnetz_kabel_1,
    "kerber_landnetz_kabel_2": pn.create_kerber_landnetz_kabel_2,
    "kerber_dorfnetz": pn.create_kerber_dorfnetz,
    "kerber_vorstadtnetz_kabel_1": pn.create_kerber_vorstadtnetz_kabel_1,  # 146 households: 100-prosumer runs
    # 7 x 146 = 1022 households on one 10 kV feeder: 1000-prosumer runs
    "kerber_vorstadtnetz_district_7": functools.partial(create_district, pn.create_kerber_vorstadtnetz_kabel_1, 7),
}


_BUILT: dict[str, object] = {}


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
    if network not in FEEDER_BUILDERS and network_kind(network) is not None:
        data = network_data(network)
        if data.problems:
            raise NetworkError(f"network {network!r}: " + "; ".join(data.problems))
        return data.net
    builder = FEEDER_BUILDERS[network]  # an unknown name fails here, before any file is touched

    def build():
        state = random.getstate()
        random.seed(f"gridledger/feeder/{network}")
        try:
            return builder()
        finally:
            random.setstate(state)

    return cached(network_cache_file(network), build)


def transformer_problem(net, std_type: str) -> str | None:
    """Why the pandapower standard type ``std_type`` cannot replace ``net``'s transformers (None: it can)."""
    data = pp.load_std_type(net, std_type, element="trafo")
    for i in net.trafo.index:
        if (data["vn_hv_kv"], data["vn_lv_kv"]) != (net.trafo.vn_hv_kv[i], net.trafo.vn_lv_kv[i]):
            return (f"transformer {std_type!r} ({data['vn_hv_kv']}/{data['vn_lv_kv']} kV) does not fit "
                    f"the feeder's {net.trafo.vn_hv_kv[i]}/{net.trafo.vn_lv_kv[i]} kV")
    return None


def replace_transformer(net, std_type: str) -> None:
    """Give every transformer of ``net`` the pandapower standard type ``std_type`` (same voltage levels)."""
    problem = transformer_problem(net, std_type)
    if problem:
        raise ValueError(problem)
    for i in net.trafo.index:
        pp.change_std_type(net, i, std_type, element="trafo")


SOLVERS = ("lightsim2grid", "runpp-lightsim2grid", "pandapower")


TRIPPED = FlowResult(slack_p_kw=0.0, load_p_kw=0.0, sgen_p_kw=0.0, storage_p_kw=0.0, losses_kw=0.0, vm_min_pu=0.0,
                     vm_max_pu=0.0, trafo_loading_percent=0.0, line_loading_max_percent=0.0)
"""A step without a power-flow solution: the feeder's protection tripped and it is de-energised."""


class Feeder:
    """A pandapower feeder with ``n_prosumers`` households equipped with PV and a battery.

    Prosumers sit on the loads named in ``prosumer_loads`` (one per prosumer, in order) or, by default, on loads
    spread evenly along the feeder's load table; the other loads are plain households. A SimBench or file network
    (``network_data``) brings the load profiles it carries (``load_profiles``; None for the Kerber feeders).
    """

    def __init__(self, network: str, n_prosumers: int, solver: str = "lightsim2grid", transformer: str | None = None,
                 prosumer_loads: list[str] | None = None):
        if solver not in SOLVERS:
            raise ValueError(f"feeder solver {solver!r}: expected one of {SOLVERS}")
        self.load_profiles: LoadProfiles | None = None
        if network in FEEDER_BUILDERS:
            self.net = build_network(network)
        else:
            data = network_data(network)
            if data.problems:
                raise NetworkError(f"network {network!r}: " + "; ".join(data.problems))
            if solver == "lightsim2grid" and data.direct_problem:
                raise NetworkError(f"network {network!r}: {data.direct_problem}; solver 'runpp-lightsim2grid' or "
                                   "'pandapower' can")
            self.net = copy.deepcopy(data.net)
            self.load_profiles = data.profiles
            assert data.profiles is None or data.profiles.load_index == tuple(self.net.load.index)
        if transformer is not None:
            replace_transformer(self.net, transformer)
        self.network = network
        self.solver = solver
        self.use_lightsim2grid = solver in ("lightsim2grid", "runpp-lightsim2grid")
        self.load_idx = self.net.load.index.to_numpy()
        try:
            self.prosumer_pos = prosumer_positions(self.net, n_prosumers, prosumer_loads)
        except NetworkError as exc:
            raise NetworkError(f"feeder {network!r}: {exc}") from None
        buses = self.net.load.bus.to_numpy()[self.prosumer_pos]
        self.pv_idx = np.asarray(pp.create_sgens(self.net, buses, p_mw=0.0, name=[f"pv@{b}" for b in buses]),
                                 dtype=int)
        self.storage_idx = np.asarray(pp.create_storages(self.net, buses, p_mw=0.0, max_e_mwh=1.0,
                                                         name=[f"bat@{b}" for b in buses]), dtype=int)
        self._solved_once = False
        self._fast: GridModelFlow | None = None
        self._export_kw: np.ndarray | None = None
        self.tripped = False  # the last step had no power-flow solution: de-energised (see solve)

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
        """Run one AC power flow and summarise it. Where the injections have no solution (voltage collapse), the
        feeder's protection trips: the step is de-energised, ``TRIPPED`` (every power, voltage and loading 0) and
        every prosumer's net export 0 [kW]; the next step solves from the last solution again."""
        self.tripped = False
        if self._fast is not None:
            result, self._export_kw = self._fast.solve(self.prosumer_pos)
            return self._tripped() if result is None else result
        try:
            pp.runpp(
                self.net,
                lightsim2grid=self.use_lightsim2grid,
                init="results" if self._solved_once else "auto",
                numba=False,
            )
        except pp.LoadflowNotConverged:
            self._solved_once = False  # pandapower cleared its results: start the next step as the first one
            return self._tripped()
        self._solved_once = True
        self._export_kw = None
        net = self.net
        if self.solver == "lightsim2grid":  # pandapower's solution is the warm start of the direct path
            self._fast = GridModelFlow(net, self.load_idx, self.pv_idx, self.storage_idx)
        losses_mw = net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum()
        return FlowResult(
            slack_p_kw=float(mw_to_kw(net.res_ext_grid.p_mw.sum())),
            load_p_kw=float(mw_to_kw(net.res_load.p_mw.sum())),
            sgen_p_kw=float(mw_to_kw(net.res_sgen.p_mw.sum())),
            storage_p_kw=float(mw_to_kw(net.res_storage.p_mw.sum())),
            losses_kw=float(mw_to_kw(losses_mw)),
            vm_min_pu=float(net.res_bus.vm_pu.min()),
            vm_max_pu=float(net.res_bus.vm_pu.max()),
            trafo_loading_percent=max_or_zero(net.res_trafo.loading_percent.to_numpy()),
            line_loading_max_percent=max_or_zero(net.res_line.loading_percent.to_numpy()),
        )

    def _tripped(self) -> FlowResult:
        self.tripped = True
        self._export_kw = np.zeros(len(self.prosumer_pos))
        return TRIPPED

    def bus_vm_pu(self) -> np.ndarray:
        """Every bus's voltage magnitude of the last power flow, in ``net.bus`` order [pu] (the direct path does
        not fill pandapower's ``res_*`` tables)."""
        if self.tripped:
            return np.zeros(len(self.net.bus))
        if self._fast is not None and self._export_kw is not None:
            return np.abs(self._fast.V)
        return self.net.res_bus.vm_pu.to_numpy()

    def prosumer_net_export_kw(self) -> np.ndarray:
        """Each prosumer's net export at its connection point from the power-flow results [kW]."""
        if self._export_kw is not None:
            return self._export_kw
        net = self.net
        load = net.res_load.p_mw.to_numpy()[self.prosumer_pos]
        pv = net.res_sgen.p_mw.loc[self.pv_idx].to_numpy()
        st = net.res_storage.p_mw.loc[self.storage_idx].to_numpy()
        return mw_to_kw(pv - load - st)
