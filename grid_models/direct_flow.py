"""The direct lightsim2grid path: lightsim2grid's ``GridModel`` of a solved pandapower net, driven without
pandapower's bookkeeping (``ac_pf`` warm-started from the last voltages), and the results of one power flow."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from grid_models.units import mw_to_kw


def max_or_zero(values: np.ndarray) -> float:
    """The largest value, 0.0 for none (a network without transformers)."""
    return float(values.max()) if len(values) else 0.0


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


class GridModelFlow:
    """lightsim2grid's ``GridModel`` of a solved pandapower net, driven directly: injections by element
    position, ``ac_pf`` warm-started from the last voltages, results summarised as pandapower would.

    Line loading is pandapower's ``max(i_from, i_to) / (max_i_ka * df * parallel)``; transformer loading is
    ``max(i_hv * vn_hv, i_lv * vn_lv) * sqrt(3) / (sn_mva * parallel)``, the most loaded transformer's reported.
    The slack power is the sum over lightsim2grid's slack generators; a net reaches here with one external grid
    (several with one set-point are joined into one by ``grid_models.networks.normalise``: lightsim2grid would make
    them a distributed slack, which is not pandapower's model) and no ``gen`` (refused). Buses are solved in
    index order, which ``net.bus`` follows (Kerber builders; ``normalise`` makes the index contiguous).
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
            slack_p_kw=float(mw_to_kw(m.get_gen_res()[0].sum())),  # every slack (gen elements are refused)
            load_p_kw=float(mw_to_kw(load_p.sum())),
            sgen_p_kw=float(mw_to_kw(sgen_p.sum())),
            storage_p_kw=float(mw_to_kw(st_p.sum())),
            losses_kw=float(mw_to_kw(lp1.sum() + lp2.sum() + tp1.sum() + tp2.sum())),
            vm_min_pu=float(vm.min()),
            vm_max_pu=float(vm.max()),
            trafo_loading_percent=max_or_zero(trafo_loading),
            line_loading_max_percent=max_or_zero(np.maximum(la1, la2) / self.line_rating_ka) * 100.0,
        )
        export_kw = mw_to_kw(sgen_p - load_p[prosumer_pos] - st_p)
        return result, export_kw
