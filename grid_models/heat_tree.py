"""The fast heat-network path: pandapipes' steady bidirectional pipe-flow equations on a radial network, solved
without pandapipes' bookkeeping.

pandapipes builds and checks the network (:class:`grid_models.heat_network.HeatNetwork`); :meth:`TreeHeatFlow.from_net`
reads its tables once and refuses what it does not model (anything but junctions, pipes of one section, heat
consumers given heat and return temperature, one circulation pump at constant pressure; a loop). Each step then
solves the same equations as ``pps.pipeflow(mode="bidirectional")`` (pandapipes 0.16):

- consumer ``i``: ``ṁ_i = q_i / (c̄_p·(T_in − T_ret))``, ``c̄_p`` the mean of c_p at ``T_in`` and ``T_ret``;
  one held at a given flow (the keep-warm flow, pandapipes' ``controlled_mdot_kg_per_s``) leaves at
  ``T_out = T_in − q_i / (c̄_p·ṁ_i)``;
- pipe ``b`` (steady, no internal heat): ``T_out = T_gnd + (T_in − T_gnd)·exp(−U·π·d_o·L / (c̄_p·|ṁ|))``,
  ``c̄_p`` the mean of c_p at its inlet and outlet;
- junction ``n``: ``Σ_in c_p,n·|ṁ_b|·(T_out,b − T_n) = 0``, ``c_p,n`` the mean of c_p at ``T_out,b`` and ``T_n``;
- mass balance at every junction; on a tree the pipe and pump flows are a fixed matrix times the consumers'
  (built once);
- Darcy-Weisbach with pandapipes' "nikuradse" friction (``λ = 64/Re + (−2·log10(k/(3.71·d)))^-2``, ρ the mean
  at inlet and outlet, η at the mean temperature); the pump holds its flow junction at ``p_flow`` and lifts
  ``plift``; junction pressures are a fixed matrix times the pipes' pressure drops (built once).

The nonlinear coupling (consumer flows depend on the supply temperature reaching them, which depends on the
flows through the pipes' losses) is a fixed-point iteration warm-started from the last step's flows; each pass
is one dense solve of the junctions' (linear, for fixed c_p and flows) heat balance. Fluid properties are
pandapipes' own tables, linearly inter- and extrapolated as its ``interp1d`` does.
"""

from __future__ import annotations

import numpy as np
from pandapipes.properties.fluids import get_fluid
from scipy.linalg import solve_triangular

SUPPORTED_TABLES = {"junction", "pipe", "heat_consumer", "circ_pump_pressure"}
P_CONVERSION = 1e5  # Pa per bar
TOL_T_K = 1e-8  # pandapipes' own solution is converged to about 1e-7 K and 1e-8 relative
TOL_MDOT_REL = 1e-10
MAX_ITER = 100
HELD_FLOOR_K = 0.5  # with substations held at a fixed flow: the least cooling a pass takes for the others [K]


class Unsupported(ValueError):
    """The network has something the fast path does not model (the caller keeps pandapipes)."""


class _Table:
    """A fluid property as pandapipes interpolates it (``interp1d(x, y, fill_value="extrapolate")``)."""

    def __init__(self, prop):
        getter = prop.prop_getter
        self.x, self.y = np.asarray(getter.x, dtype=float), np.asarray(getter.y, dtype=float)
        self.slope = np.diff(self.y) / np.diff(self.x)

    def __call__(self, t):
        y = np.interp(t, self.x, self.y)
        a = t if isinstance(t, np.ndarray) else np.asarray(t)
        if a.min() < self.x[0] or a.max() > self.x[-1]:  # extrapolated from the first or last interval
            low, high = t < self.x[0], t > self.x[-1]
            y = np.where(low, self.y[0] + self.slope[0] * (t - self.x[0]), y)
            y = np.where(high, self.y[-1] + self.slope[-1] * (t - self.x[-1]), y)
        return y


def _positions(net, table: str, col: str) -> np.ndarray:
    return net.junction.index.get_indexer(net[table][col].to_numpy())


class TreeHeatFlow:
    """The steady pipe flow of a radial pandapipes heat network, in kelvin, kg/s, W and bar."""

    @classmethod
    def from_net(cls, net) -> TreeHeatFlow:
        for comp in net.component_list:
            name = comp.table_name()
            if name not in SUPPORTED_TABLES and name in net and len(net[name]):
                raise Unsupported(f"the fast heat path does not model {name!r} elements")
        for name in ("junction", "pipe", "heat_consumer", "circ_pump_pressure"):
            if not net[name].in_service.all():
                raise Unsupported(f"out-of-service {name} elements")
        if len(net.circ_pump_pressure) != 1:
            raise Unsupported("the fast heat path takes exactly one circulation pump at constant pressure")
        hc, pipe = net.heat_consumer, net.pipe
        if hc.qext_w.isna().any() or hc.treturn_k.isna().any() or hc.controlled_mdot_kg_per_s.notna().any() \
                or hc.deltat_k.notna().any():
            raise Unsupported("the fast heat path takes heat consumers given heat and return temperature")
        if (pipe.sections != 1).any() or ("qext_w" in pipe and (pipe.qext_w.fillna(0) != 0).any()):
            raise Unsupported("the fast heat path takes pipes of one section without external heat")
        return cls(net)

    def __init__(self, net):
        fluid = get_fluid(net)
        self.cp, self.rho, self.eta = (_Table(fluid.all_properties[k])
                                       for k in ("heat_capacity", "density", "viscosity"))
        pipe, hc, pump = net.pipe, net.heat_consumer, net.circ_pump_pressure
        n_nodes, n_pipes, n_cons = len(net.junction), len(pipe), len(hc)
        self.n_nodes, self.n_pipes, self.n_cons = n_nodes, n_pipes, n_cons
        self.pipe_from, self.pipe_to = _positions(net, "pipe", "from_junction"), _positions(net, "pipe", "to_junction")
        self.cons_from, self.cons_to = (_positions(net, "heat_consumer", "from_junction"),
                                        _positions(net, "heat_consumer", "to_junction"))
        self.pump_from = int(_positions(net, "circ_pump_pressure", "return_junction")[0])
        self.pump_to = int(_positions(net, "circ_pump_pressure", "flow_junction")[0])
        self.length_m = pipe.length_km.to_numpy(dtype=float) * 1000
        self.d_m = pipe.inner_diameter_mm.to_numpy(dtype=float) / 1000
        d_outer = pipe.outer_diameter_mm.to_numpy(dtype=float) / 1000
        d_outer = np.where(np.isnan(d_outer), self.d_m, d_outer)
        self.loss_w_per_k = pipe.u_w_per_m2k.to_numpy(dtype=float) * np.pi * d_outer * self.length_m  # α·π·d·L
        self.t_gnd_k = pipe.text_k.to_numpy(dtype=float)
        self.area_m2 = np.pi * self.d_m ** 2 / 4
        self.lambda_rough = 1 / (-2 * np.log10(pipe.k_mm.to_numpy(dtype=float) / 1000 / (3.71 * self.d_m))) ** 2
        self.p_flow_bar = float(pump.p_flow_bar.iloc[0])
        self.plift_bar = float(pump.plift_bar.iloc[0])

        # mass balance: [pipes, pump] flows = K @ consumer flows (unique on a tree)
        inc = np.zeros((n_nodes, n_pipes + n_cons + 1))
        cols = np.arange(n_pipes + n_cons + 1)
        inc[np.r_[self.pipe_from, self.cons_from, self.pump_from], cols] = -1.0
        inc[np.r_[self.pipe_to, self.cons_to, self.pump_to], cols] += 1.0
        a_u = np.delete(inc, np.s_[n_pipes:n_pipes + n_cons], axis=1)
        if np.linalg.matrix_rank(a_u) < n_pipes + 1:
            raise Unsupported("the heat network has a loop (the fast path solves radial networks only)")
        self.k_flow = np.linalg.lstsq(a_u, -inc[:, n_pipes:n_pipes + n_cons], rcond=None)[0]
        if not np.allclose(a_u @ self.k_flow, -inc[:, n_pipes:n_pipes + n_cons], atol=1e-9):
            raise Unsupported("a heat consumer is not connected to the pump")
        # pressures: p_from − p_to = dp per pipe, p at the pump's flow junction, its lift
        m = np.zeros((n_pipes + 2, n_nodes))
        m[np.arange(n_pipes), self.pipe_from] = 1.0
        m[np.arange(n_pipes), self.pipe_to] -= 1.0
        m[n_pipes, self.pump_to] = 1.0
        m[n_pipes + 1, self.pump_to], m[n_pipes + 1, self.pump_from] = 1.0, -1.0
        if m.shape[0] != n_nodes or np.linalg.matrix_rank(m) < n_nodes:
            raise Unsupported("junction pressures are not fixed by the pipes and the pump")
        self.p_of_dp = np.linalg.inv(m)
        self.dst = np.r_[self.pipe_to, self.cons_to, self.pump_to]  # where each branch (pipes, consumers, pump) flows
        # junctions in flow order (pipes only: consumers and the pump have fixed outlet temperatures), so that
        # the heat balances are a lower-triangular system
        order, indeg = [], np.bincount(self.pipe_to, minlength=n_nodes)
        ready = list(np.flatnonzero(indeg == 0))
        while ready:
            n = ready.pop()
            order.append(n)
            for b in np.flatnonzero(self.pipe_from == n):
                indeg[self.pipe_to[b]] -= 1
                if indeg[self.pipe_to[b]] == 0:
                    ready.append(self.pipe_to[b])
        self.rank = np.empty(n_nodes, dtype=int)
        self.rank[order] = np.arange(n_nodes)
        self.mdot_cons = None  # the warm start: the last step's consumer flows
        self.t_node_k = np.full(n_nodes, float(net.junction.tfluid_k.mean()))

    def solve(self, t_supply_k: float, heat_w: np.ndarray, t_return_k: np.ndarray,
              held_mdot_kg_per_s: np.ndarray | None = None) -> dict | None:
        """The steady flow, or None where this path does not apply (no flow somewhere, a return not below its
        supply, no convergence): the caller then solves with pandapipes. One fixed-point pass: consumer flows
        from the supply temperatures reaching them, pipe and pump flows from the tree, then every junction's
        temperature from one linear solve of the heat balances (c_p and the pipes' decay at the last pass's
        temperatures); until temperatures move less than ``TOL_T_K`` and flows less than ``TOL_MDOT_REL``.

        ``held_mdot_kg_per_s`` (nan where not held): consumers held at that flow instead of a return temperature,
        pandapipes' heat consumer given ``qext_w`` and ``controlled_mdot_kg_per_s``: its outlet is
        ``T_in − q / (c̄_p·ṁ)`` (``c̄_p`` the mean of c_p at inlet and outlet, the same equation pandapipes solves
        for a zero-length branch with external heat); ``t_return_k`` is not used for them."""
        heat_w, t_return_k = np.asarray(heat_w, dtype=float), np.asarray(t_return_k, dtype=float)
        if (heat_w <= 0).any():
            return self._fail()
        held_mdot = None if held_mdot_kg_per_s is None else np.asarray(held_mdot_kg_per_s, dtype=float)
        held = np.zeros(self.n_cons, dtype=bool) if held_mdot is None else ~np.isnan(held_mdot)
        any_held, free = bool(held.any()), ~held
        if any_held and (held_mdot[held] <= 0).any():
            return self._fail()
        cp, n_pipes, n_nodes = self.cp, self.n_pipes, self.n_nodes
        t_node = self.t_node_k.copy()
        if self.mdot_cons is None or (t_node[self.cons_from][free] <= t_return_k[free]).any():
            t_node[:] = t_supply_k
        t_node[self.pump_to] = t_supply_k
        t_out_pipe = t_node[self.pipe_to]
        dst, src_p = self.dst, self.pipe_from
        diag = np.arange(n_nodes)
        rank_dst, rank_src = self.rank[dst], self.rank[src_p]
        t_fixed = np.append(t_return_k, t_supply_k)
        t_cons_out = t_return_k  # each consumer's outlet: its return, or (held) what its fixed flow leaves
        # c_p is elementwise (np.interp): looked up once per temperature array and pass, then gathered
        cp_ret, cp_fixed = cp(t_return_k), cp(t_fixed)
        mdot = r_prev = f_prev = None
        for _ in range(MAX_ITER):
            t_in = t_node[self.cons_from]
            cp_node = cp(t_node)
            cp_in = cp_node[self.cons_from]
            cold = bool((t_in[free] <= t_return_k[free] + HELD_FLOOR_K * any_held).any())
            if cold and not any_held:
                return self._fail()
            if any_held:  # outlet of the held at this pass's inlet, c_p at the last pass's outlet (a fixed point)
                t_held_out = t_in - heat_w / (held_mdot * (cp_in + cp(t_cons_out)) / 2)
                dt_held = np.abs(t_held_out - t_cons_out)[held].max()
                t_cons_out = np.where(held, t_held_out, t_return_k)
                t_fixed = np.append(t_cons_out, t_supply_k)
                cp_fixed = cp(t_fixed)
                # a pass may overshoot (the held substations' small flows cool the supply a lot): the free ones'
                # cooling taken at least HELD_FLOOR_K on the way; a solution where the floor binds is refused
                cooling_k = np.maximum(t_in - t_return_k, HELD_FLOOR_K)
                f_new = np.where(held, held_mdot, heat_w / ((cp_in + cp_ret) / 2 * cooling_k))
            else:
                dt_held = 0.0
                f_new = heat_w / ((cp_in + cp_ret) / 2 * (t_in - t_return_k))
            if mdot is None:
                dm, mdot_next = np.inf, f_new
            else:  # Anderson acceleration of depth 1: the slow mode is the flows' feedback on the supply losses
                r = f_new - mdot
                dm = np.abs(r / mdot).max()
                mdot_next = f_new
                if r_prev is not None:
                    dr = r - r_prev
                    denom = dr @ dr
                    if denom > 0:
                        mdot_next = f_new - (dr @ r) / denom * (f_new - f_prev)
                r_prev = r
            f_prev, mdot = f_new, mdot_next
            mdot_all = self.k_flow @ mdot
            if (mdot_all <= 0).any():  # a flow against a pipe's orientation, or none: not solved here
                return self._fail()
            m_pipe = mdot_all[:n_pipes]
            cp_pipe_out = cp(t_out_pipe)
            cp_b = (cp_node[src_p] + cp_pipe_out) / 2
            e = np.exp(-self.loss_w_per_k / (cp_b * m_pipe))
            w = (np.concatenate((cp_pipe_out, cp_fixed)) + cp_node[dst]) / 2 \
                * np.concatenate((m_pipe, mdot, mdot_all[n_pipes:]))
            a = np.zeros((n_nodes, n_nodes))
            a[diag, diag] = np.bincount(rank_dst, w, minlength=n_nodes)
            a[rank_dst[:n_pipes], rank_src] = -w[:n_pipes] * e
            rhs = np.bincount(rank_dst, w * np.concatenate((self.t_gnd_k * (1 - e), t_fixed)), minlength=n_nodes)
            t_new = solve_triangular(a, rhs, lower=True, check_finite=False)[self.rank]
            t_out_new = self.t_gnd_k + (t_new[src_p] - self.t_gnd_k) * e
            dt = max(np.abs(t_new - t_node).max(), np.abs(t_out_new - t_out_pipe).max(), dt_held)
            t_node, t_out_pipe = t_new, t_out_new
            if dt < TOL_T_K and dm < TOL_MDOT_REL and not cold:
                break
        else:
            return self._fail()
        self.mdot_cons, self.t_node_k = mdot, t_node
        t_pipe_in = t_node[src_p]
        rho = (self.rho(t_pipe_in) + self.rho(t_out_pipe)) / 2
        eta = self.eta((t_pipe_in + t_out_pipe) / 2)
        re = np.abs(m_pipe) * self.d_m / (eta * self.area_m2)
        lam = 64 / re + self.lambda_rough
        dp = m_pipe * np.abs(m_pipe) * self.length_m * lam / self.d_m / (self.area_m2 ** 2 * rho * P_CONVERSION * 2)
        p = self.p_of_dp @ np.r_[dp, self.p_flow_bar, self.plift_bar]
        return dict(mdot_cons=mdot, mdot_pipe=m_pipe, mdot_pump=float(mdot_all[n_pipes]), t_node_k=t_node,
                    t_pipe_in_k=t_pipe_in, t_pipe_out_k=t_out_pipe, p_bar=p, t_cons_out_k=t_cons_out)

    def _fail(self):
        self.mdot_cons = None  # the next step starts cold
        return None
