"""Electric LV feeder on pandapower: households as loads, PV as static generators, batteries as storage;
one AC power flow per step (lightsim2grid as pandapower's solver by default).

Sign convention (pandapower's): load and storage ``p`` positive = consumption/charging; sgen positive =
generation; ``res_ext_grid.p_mw`` positive = import from the upstream grid.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import pandapower as pp
import pandapower.networks as pn

from grid_models.units import kw_to_mw, mw_to_kw

FEEDER_BUILDERS = {
    "kerber_landnetz_kabel_1": pn.create_kerber_landnetz_kabel_1,
    "kerber_landnetz_kabel_2": pn.create_kerber_landnetz_kabel_2,
    "kerber_dorfnetz": pn.create_kerber_dorfnetz,
}


def build_network(network: str):
    """The named pandapower feeder, built reproducibly.

    pandapower's Kerber builders draw the branch-out cable types from Python's global ``random`` module; we
    seed it from the feeder's name for the build (and restore its state), so a feeder is the same every run.
    """
    state = random.getstate()
    random.seed(f"gridledger/feeder/{network}")
    try:
        return FEEDER_BUILDERS[network]()
    finally:
        random.setstate(state)


def replace_transformer(net, std_type: str) -> None:
    """Give every transformer of ``net`` the pandapower standard type ``std_type`` (same voltage levels)."""
    data = pp.load_std_type(net, std_type, element="trafo")
    for i in net.trafo.index:
        if (data["vn_hv_kv"], data["vn_lv_kv"]) != (net.trafo.vn_hv_kv[i], net.trafo.vn_lv_kv[i]):
            raise ValueError(f"transformer {std_type!r} ({data['vn_hv_kv']}/{data['vn_lv_kv']} kV) does not fit "
                             f"the feeder's {net.trafo.vn_hv_kv[i]}/{net.trafo.vn_lv_kv[i]} kV")
        pp.change_std_type(net, i, std_type, element="trafo")


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
        self.net = build_network(network)
        if transformer is not None:
            replace_transformer(self.net, transformer)
        self.network = network
        self.use_lightsim2grid = solver == "lightsim2grid"
        self.load_idx = self.net.load.index.to_numpy()
        n_loads = len(self.load_idx)
        if n_prosumers > n_loads:
            raise ValueError(f"feeder {network!r} has {n_loads} households, cannot host {n_prosumers} prosumers")
        self.prosumer_pos = np.unique(np.linspace(0, n_loads - 1, n_prosumers).round().astype(int))
        buses = self.net.load.bus.to_numpy()[self.prosumer_pos]
        self.pv_idx = np.array([pp.create_sgen(self.net, b, p_mw=0.0, name=f"pv@{b}") for b in buses], dtype=int)
        self.storage_idx = np.array(
            [pp.create_storage(self.net, b, p_mw=0.0, max_e_mwh=1.0, name=f"bat@{b}") for b in buses], dtype=int
        )
        self._solved_once = False

    @property
    def n_households(self) -> int:
        return len(self.load_idx)

    def set_injections(self, load_kw: np.ndarray, pv_kw: np.ndarray, storage_kw: np.ndarray) -> None:
        """Set every household's demand, every prosumer's PV output and battery power (one vector each) [kW]."""
        self.net.load.loc[self.load_idx, "p_mw"] = kw_to_mw(load_kw)
        self.net.sgen.loc[self.pv_idx, "p_mw"] = kw_to_mw(pv_kw)
        self.net.storage.loc[self.storage_idx, "p_mw"] = kw_to_mw(storage_kw)

    def solve(self) -> FlowResult:
        """Run one AC power flow and summarise it."""
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

    def prosumer_net_export_kw(self) -> np.ndarray:
        """Each prosumer's net export at its connection point from the power-flow results [kW]."""
        net = self.net
        load = net.res_load.p_mw.to_numpy()[self.prosumer_pos]
        pv = net.res_sgen.p_mw.loc[self.pv_idx].to_numpy()
        st = net.res_storage.p_mw.loc[self.storage_idx].to_numpy()
        return mw_to_kw(pv - load - st)
