"""District-heating network: a closed supply/return loop in pandapipes, one pipe flow per step.

Topology: a plant (heat source with a circulation pump at constant pressure lift) feeds ``branches`` radial
branches; along each branch, supply and return pipes run side by side from junction to junction and each
building's substation (a pandapipes heat consumer) connects its supply junction to its return junction.
Pipes lose heat to the ground at ``ground_temp_c`` with a linear heat-loss coefficient per pipe
(``pipe_loss_w_per_mk``, the figure pipe catalogues give; turned into pandapipes' ``u_w_per_m2k`` on the inner
surface). Pipe
diameters are sized from the design flow of the buildings downstream (design heat, design cooling ΔT,
``max_velocity_m_per_s``) and rounded up to a standard inner-diameter series.

Each step, :meth:`HeatNetwork.solve` sets the plant's supply temperature and every substation's heat demand and
return temperature in one vectorised assignment and runs one bidirectional pipe flow (hydraulics and heat
transport solved together, so that each consumer's mass flow is the one that meets its heat at the supply
temperature that actually reaches it). Sign convention: heat and power positive; losses positive.

References
----------
pandapipes 0.16 (Lohmeier et al. 2020, "Pandapipes: An Open-Source Piping Grid Calculation Package for
Multi-Energy Grid Simulations", Sustainability 12(23), 9899).
Frederiksen, S., Werner, S. (2013). District Heating and Cooling, Studentlitteratur (pipe sizing and losses).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandapipes as pps
from pandapipes.pf.pipeflow_setup import PipeflowNotConverged
from pandapipes.properties.fluids import get_fluid

from grid_models.heat_tree import TreeHeatFlow, Unsupported
from grid_models.substation import MIN_COOLING_K
from grid_models.units import c_to_k, k_to_c

# Inner diameters of pre-insulated steel pipes DN25 ... DN200 [mm] (EN 253 series)
STANDARD_INNER_DIAMETERS_MM = (28.5, 37.2, 43.1, 54.5, 70.3, 82.5, 107.1, 132.5, 160.3, 210.1)
PIPE_ROUGHNESS_MM = 0.05
BAR_TO_PA = 1e5
# The bidirectional solve typically needs 8-13 Newton iterations here (pandapipes' default cap is 10); low loads
# (long residence times) occasionally need more, damped ones.
OPTIONS = dict(mode="bidirectional", use_numba=False, max_iter_bidirect=30)
RETRY_OPTIONS = dict(OPTIONS, max_iter_bidirect=60, max_iter_hyd=60, max_iter_therm=60, alpha=0.5)
HOLD_ROUNDS = 4  # solves of one step at most: the plain one, then with the substations below their minimum flow held
HOLD_TOL_K = 1e-6


@dataclass(frozen=True)
class HeatFlowResult:
    """One step of the pipe flow. Temperatures [degC], heat and power [W], mass flow [kg/s].

    ``source_heat_w`` is the heat the plant adds to the loop, ``ṁ·c_p·(T_supply − T_return)`` at the pump;
    ``pipe_loss_w`` the heat all pipes lose to the ground; ``consumer_heat_w`` is, per consumer,
    ``ṁ·c_p·(T_in − T_out)`` from the solved flow, with c_p the mean of water's c_p at the two temperatures
    (the definition pandapipes' own heat consumer uses).
    """

    t_supply_plant_c: float
    t_return_plant_c: float
    source_heat_w: float
    pipe_loss_w: float
    pump_mdot_kg_per_s: float
    pump_hydraulic_w: float
    pump_electric_w: float
    mdot_kg_per_s: np.ndarray  # per consumer
    vdot_m3_per_s: np.ndarray  # per consumer, volume flow (what a heat meter's flow sensor measures)
    t_supply_c: np.ndarray  # per consumer, at its inlet
    t_return_c: np.ndarray  # per consumer, its own outlet (before mixing in the return pipe)
    consumer_heat_w: np.ndarray  # per consumer, from the flow
    demand_heat_w: np.ndarray  # per consumer, what was asked (qext_w)
    dp_bar: np.ndarray  # per consumer, differential pressure available at the substation

    @property
    def consumer_heat_total_w(self) -> float:
        return float(self.consumer_heat_w.sum())

    @property
    def balance_error_w(self) -> float:
        """Source heat − consumer heat − pipe losses (zero up to the solver's tolerance)."""
        return self.source_heat_w - self.consumer_heat_total_w - self.pipe_loss_w

    @property
    def mean_delta_t_k(self) -> float:
        """Flow-weighted mean cooling over the consumers [K]."""
        m = self.mdot_kg_per_s
        return float((m * (self.t_supply_c - self.t_return_c)).sum() / m.sum())


def heating_curve_c(temp_air, *, supply_max_c: float, supply_min_c: float, design_outdoor_c: float,
                    limit_outdoor_c: float):
    """Plant supply temperature from the outdoor temperature [degC]: ``supply_max_c`` at or below
    ``design_outdoor_c``, ``supply_min_c`` at or above ``limit_outdoor_c``, linear in between.
    Works on scalars, arrays and Series."""
    frac = (np.asarray(temp_air, dtype=float) - design_outdoor_c) / (limit_outdoor_c - design_outdoor_c)
    return supply_max_c - (supply_max_c - supply_min_c) * np.clip(frac, 0.0, 1.0)


def water_cp_j_per_kgk(net, t_c) -> np.ndarray:
    """Specific heat capacity of the network's fluid at ``t_c`` [J/(kg K)] (pandapipes' water table)."""
    return np.asarray(get_fluid(net).get_heat_capacity(c_to_k(np.asarray(t_c, dtype=float))), dtype=float)


def size_inner_diameter_mm(design_mdot_kg_per_s: float, max_velocity_m_per_s: float) -> float:
    """Smallest standard inner diameter carrying ``design_mdot`` at no more than ``max_velocity``."""
    area_m2 = design_mdot_kg_per_s / 975.0 / max_velocity_m_per_s
    need_mm = 2000.0 * np.sqrt(area_m2 / np.pi)
    return next((d for d in STANDARD_INNER_DIAMETERS_MM if d >= need_mm), STANDARD_INNER_DIAMETERS_MM[-1])


class HeatNetwork:
    """A pandapipes supply/return network with one heat consumer per building (in the order given)."""

    def __init__(
        self,
        design_heat_w: np.ndarray,
        *,
        branches: int = 2,
        segment_length_m: float = 50.0,
        pipe_loss_w_per_mk: float = 0.18,
        ground_temp_c: float = 8.0,
        pump_lift_bar: float = 2.0,
        pump_pressure_bar: float = 6.0,
        pump_efficiency: float = 0.6,
        design_delta_t_k: float = 30.0,
        max_velocity_m_per_s: float = 1.0,
        t_supply_init_c: float = 80.0,
        solver: str = "fast",
    ):
        design_heat_w = np.asarray(design_heat_w, dtype=float)
        n = design_heat_w.size
        if n == 0 or branches < 1:
            raise ValueError("a heat network needs at least one consumer and one branch")
        self.n_consumers = n
        self.segment_length_m, self.pipe_loss_w_per_mk = float(segment_length_m), float(pipe_loss_w_per_mk)
        self.ground_temp_c = float(ground_temp_c)
        self.pump_lift_bar, self.pump_efficiency = pump_lift_bar, pump_efficiency
        net = pps.create_empty_network(fluid="water")
        t_ret_init_k = c_to_k(t_supply_init_c - design_delta_t_k)
        plant_s = pps.create_junction(net, pump_pressure_bar, c_to_k(t_supply_init_c), name="plant supply")
        plant_r = pps.create_junction(net, pump_pressure_bar - pump_lift_bar, t_ret_init_k, name="plant return")
        pps.create_circ_pump_const_pressure(net, plant_r, plant_s, p_flow_bar=pump_pressure_bar,
                                            plift_bar=pump_lift_bar, t_flow_k=c_to_k(t_supply_init_c))
        design_mdot = design_heat_w / (4186.0 * design_delta_t_k)
        self.branch_of = np.arange(n) % branches  # consumers dealt round-robin onto the branches
        self.supply_pipes, self.return_pipes = [], []
        supply_j, return_j = np.empty(n, dtype=int), np.empty(n, dtype=int)
        pipe_kw = dict(k_mm=PIPE_ROUGHNESS_MM, text_k=c_to_k(ground_temp_c))
        for b in range(branches):
            members = np.flatnonzero(self.branch_of == b)
            prev_s, prev_r = plant_s, plant_r
            for pos, i in enumerate(members):
                downstream_mdot = design_mdot[members[pos:]].sum()
                d_mm = size_inner_diameter_mm(downstream_mdot, max_velocity_m_per_s)
                pipe_kw["u_w_per_m2k"] = pipe_loss_w_per_mk / (np.pi * d_mm / 1000)
                s = pps.create_junction(net, pump_pressure_bar, c_to_k(t_supply_init_c))
                r = pps.create_junction(net, pump_pressure_bar - pump_lift_bar, t_ret_init_k)
                self.supply_pipes.append(pps.create_pipe_from_parameters(
                    net, prev_s, s, length_km=segment_length_m / 1000, inner_diameter_mm=d_mm, **pipe_kw))
                self.return_pipes.append(pps.create_pipe_from_parameters(
                    net, r, prev_r, length_km=segment_length_m / 1000, inner_diameter_mm=d_mm, **pipe_kw))
                supply_j[i], return_j[i] = s, r
                prev_s, prev_r = s, r
        for i in range(n):
            pps.create_heat_consumer(net, supply_j[i], return_j[i], qext_w=float(design_heat_w[i]),
                                     treturn_k=t_ret_init_k, name=f"consumer {i}")
        self.net = net
        self.pipe_length_m = float(segment_length_m) * 2 * n
        self.ua_w_per_k = float(pipe_loss_w_per_mk * net.pipe.length_km.sum() * 1000)
        self.n_retries = 0
        # the fast path (grid_models.heat_tree) where it applies; pandapipes for a step it cannot take
        if solver not in ("fast", "pandapipes"):
            raise ValueError(f"unknown heat-network solver {solver!r}; expected 'fast' or 'pandapipes'")
        self.fast, self.fast_refused, self.n_fallbacks = None, None, 0
        if solver == "fast":
            try:
                self.fast = TreeHeatFlow.from_net(net)
            except Unsupported as e:
                self.fast_refused = str(e)
        self.held = np.zeros(n, dtype=bool)  # substations held at their keep-warm flow in the last solve

    def keep_warm_mdot_kg_per_s(self, t_supply_c: float, t_return_c: np.ndarray) -> np.ndarray:
        """Each substation's minimum flow [kg/s]: the flow that crosses one segment of main (the substation's own
        stretch, service pipe included), entering at ``t_supply_c``, and still arrives ``MIN_COOLING_K`` above
        the substation's return set point ``t_return_c`` — ``L·k / (c_p·ln((T_s − T_g)/(T_r + ΔT_min − T_g)))``
        (the exponential cooling of a pipe at flow ṁ, the law pandapipes solves). 0 where the ground cannot cool
        the water to ``T_r + ΔT_min`` or the supply is not above it (no flow keeps it warmer)."""
        t_r = np.asarray(t_return_c, dtype=float) + MIN_COOLING_K - self.ground_temp_c
        t_s = max(float(t_supply_c) - self.ground_temp_c, 0.0)
        cp = float(water_cp_j_per_kgk(self.net, t_supply_c))
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.log(np.maximum(t_s, t_r + 1e-9) / t_r)
            m = self.segment_length_m * self.pipe_loss_w_per_mk / (cp * np.maximum(ratio, 1e-9))
        return np.where((t_r > 0) & (t_s > t_r), m, 0.0)

    def _pipeflow(self) -> bool:
        """One pipe flow, once more damped if it does not converge; True if either converged."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                pps.pipeflow(self.net, **OPTIONS)
                return True
            except PipeflowNotConverged:
                self.n_retries += 1
            try:
                pps.pipeflow(self.net, **RETRY_OPTIONS)
                return True
            except PipeflowNotConverged:
                return False

    def solve(self, t_supply_c: float, heat_w: np.ndarray, t_return_c: np.ndarray) -> HeatFlowResult:
        """One bidirectional pipe flow with the plant at ``t_supply_c`` and each consumer drawing ``heat_w``
        and returning at ``t_return_c`` (arrays in consumer order). The solver starts from the previous
        solution's temperatures and pressures (a warm start: about 20 % fewer iterations step to step).
        With the fast path, the same equations without pandapipes (see grid_models.heat_tree), the keep-warm
        rounds below included (a held substation is pandapipes' heat consumer at a controlled mass flow); a
        step it cannot take (no flow somewhere, a return at or above its supply, a held set that does not
        settle) goes to pandapipes, which runs the rounds again from the start.

        A substation's flow never falls below its keep-warm flow (:meth:`keep_warm_mdot_kg_per_s`, the summer
        bypass that keeps its service pipe warm): a demand so small that pipe losses, not the building, would
        set the flow is drawn at that flow instead, returning warmer than its set point. Without it the flow
        meeting a tiny demand is the one at which the pipe alone cools the supply to the return set point,
        where ``ṁ = Q / (c_p·(T_in − T_r))`` is singular and the pipe flow does not converge (a 2 kWh-a-year
        building). Consumers below it are found from the solved flow (or, if the flow does not converge, from
        the plant's supply temperature; the last solve's held set is tried first) and held at it; one held
        whose return falls below its set point is released (it needs more than the minimum); at most
        ``HOLD_ROUNDS`` solves."""
        heat, t_ret = np.asarray(heat_w, dtype=float), np.asarray(t_return_c, dtype=float)
        if self.fast is not None:
            solved = None  # after a step that held some, the keep-warm rounds start from its held set
            if not (self.held & (heat > 0)).any():
                solved = self.fast.solve(c_to_k(float(t_supply_c)), heat, c_to_k(t_ret))
                if solved is not None and not ((solved["mdot_cons"] < self.keep_warm_mdot_kg_per_s(t_supply_c, t_ret))
                                               & (heat > 0)).any():
                    self.held = np.zeros_like(self.held)
                    return self._fast_result(solved, heat, t_ret)
            held_flow = self._fast_held(t_supply_c, heat, t_ret, solved)
            if held_flow is not None:
                return held_flow
            self.n_fallbacks += 1
        net = self.net
        net.circ_pump_pressure["t_flow_k"] = c_to_k(float(t_supply_c))
        net.heat_consumer["qext_w"] = heat
        m_min = self.keep_warm_mdot_kg_per_s(t_supply_c, t_ret)
        held, ok = self.held & (heat > 0), False  # the last step's held set first: usually the same
        for _ in range(HOLD_ROUNDS):
            net.heat_consumer["treturn_k"] = np.where(held, np.nan, c_to_k(t_ret))
            net.heat_consumer["controlled_mdot_kg_per_s"] = np.where(held, m_min, np.nan)
            ok = self._pipeflow()
            if ok:
                hc = net.res_heat_consumer
                mdot, t_out = hc.mdot_from_kg_per_s.to_numpy(), k_to_c(hc.t_outlet_k.to_numpy())
                now = np.where(held, t_out >= t_ret - HOLD_TOL_K, (mdot < m_min) & (heat > 0))
            elif not held.any():  # below the minimum at the plant's supply temperature (an upper bound on T_in)
                cp = water_cp_j_per_kgk(net, t_supply_c)
                now = (heat > 0) & (heat < m_min * cp * (float(t_supply_c) - t_ret))
            else:
                break
            if (now == held).all():
                break
            held = now
        self.held = held
        if not ok:
            raise PipeflowNotConverged(
                f"heat network: no pipe-flow solution at supply {t_supply_c:.1f} degC, total demand "
                f"{float(np.sum(heat_w)) / 1000:.1f} kW, highest return {float(np.max(t_return_c)):.1f} degC")
        net.junction["tfluid_k"] = net.res_junction.t_k.to_numpy()
        net.junction["pn_bar"] = net.res_junction.p_bar.to_numpy()
        return self._result()

    def _fast_held(self, t_supply_c: float, heat: np.ndarray, t_ret: np.ndarray, unheld: dict | None):
        """The keep-warm rounds of :meth:`solve` on the fast path (the same held set, rounds and release rule as
        with pandapipes; the first round is the unheld solve ``unheld`` when the last step held none), or None
        where the fast path cannot take a round or the held set does not settle within ``HOLD_ROUNDS``."""
        t_s_k = c_to_k(float(t_supply_c))
        m_min = self.keep_warm_mdot_kg_per_s(t_supply_c, t_ret)
        held = self.held & (heat > 0)
        solved = unheld if not held.any() else \
            self.fast.solve(t_s_k, heat, c_to_k(t_ret), np.where(held, m_min, np.nan))
        for _ in range(HOLD_ROUNDS):
            if solved is None:
                if held.any():
                    return None
                cp = water_cp_j_per_kgk(self.net, t_supply_c)  # the plant's supply: an upper bound on T_in
                now = (heat > 0) & (heat < m_min * cp * (float(t_supply_c) - t_ret))
                if not now.any():  # not a keep-warm case: the fast path did not apply
                    return None
            else:
                t_out = k_to_c(solved["t_cons_out_k"])
                now = np.where(held, t_out >= t_ret - HOLD_TOL_K, (solved["mdot_cons"] < m_min) & (heat > 0))
                if (now == held).all():
                    self.held = held
                    return self._fast_result(solved, heat, t_out)
            held = now
            solved = self.fast.solve(t_s_k, heat, c_to_k(t_ret), np.where(held, m_min, np.nan))
        return None

    def mean_cp_j_per_kgk(self, t1_c, t2_c) -> np.ndarray:
        """Mean of water's c_p at two temperatures [J/(kg K)], as pandapipes averages it over a branch."""
        return (water_cp_j_per_kgk(self.net, t1_c) + water_cp_j_per_kgk(self.net, t2_c)) / 2

    def _fast_result(self, s: dict, heat_w: np.ndarray, t_return_c: np.ndarray) -> HeatFlowResult:
        """A fast-path solve's result, each figure defined as :meth:`_result` defines it from pandapipes' tables
        (c_p and density from pandapipes' water table as pandapipes interpolates it)."""
        f, t_node, p = self.fast, s["t_node_k"], s["p_bar"]
        t_in_k, t_out_k = t_node[f.cons_from], c_to_k(t_return_c)
        t_in, t_out = k_to_c(t_in_k), np.asarray(t_return_c, dtype=float)
        mdot, pump_mdot = s["mdot_cons"], s["mdot_pump"]
        t_ret_plant_k, t_sup_plant_k = float(t_node[f.pump_from]), float(t_node[f.pump_to])
        pipe_in_k, pipe_out_k, pipe_mdot = s["t_pipe_in_k"], s["t_pipe_out_k"], s["mdot_pipe"]

        def cp(t1_k, t2_k):
            return (f.cp(t1_k) + f.cp(t2_k)) / 2

        pump_vdot = pump_mdot / float((f.rho(t_ret_plant_k) + f.rho(t_sup_plant_k)) / 2)
        hydraulic_w = self.pump_lift_bar * BAR_TO_PA * pump_vdot
        return HeatFlowResult(
            t_supply_plant_c=k_to_c(t_sup_plant_k),
            t_return_plant_c=k_to_c(t_ret_plant_k),
            source_heat_w=float(pump_mdot * cp(t_sup_plant_k, t_ret_plant_k) * (t_sup_plant_k - t_ret_plant_k)),
            pipe_loss_w=float((pipe_mdot * cp(pipe_in_k, pipe_out_k) * (pipe_in_k - pipe_out_k)).sum()),
            pump_mdot_kg_per_s=pump_mdot,
            pump_hydraulic_w=hydraulic_w,
            pump_electric_w=hydraulic_w / self.pump_efficiency,
            mdot_kg_per_s=mdot,
            vdot_m3_per_s=mdot / ((f.rho(t_in_k) + f.rho(t_out_k)) / 2),
            t_supply_c=t_in,
            t_return_c=t_out,
            consumer_heat_w=mdot * cp(t_in_k, t_out_k) * (t_in_k - t_out_k),
            demand_heat_w=heat_w.copy(),
            dp_bar=p[f.cons_from] - p[f.cons_to],
        )

    def _result(self) -> HeatFlowResult:
        net = self.net
        hc, rp = net.res_heat_consumer, net.res_pipe
        pump = net.res_circ_pump_pressure.iloc[0]
        t_in, t_out = k_to_c(hc.t_from_k.to_numpy()), k_to_c(hc.t_outlet_k.to_numpy())
        mdot = hc.mdot_from_kg_per_s.to_numpy()
        pipe_in, pipe_out = k_to_c(rp.t_from_k.to_numpy()), k_to_c(rp.t_outlet_k.to_numpy())
        pipe_mdot = rp.mdot_from_kg_per_s.to_numpy()
        t_ret_plant, t_sup_plant = k_to_c(float(pump.t_from_k)), k_to_c(float(pump.t_to_k))
        pump_mdot = float(pump.mdot_from_kg_per_s)
        cp = self.mean_cp_j_per_kgk
        hydraulic_w = self.pump_lift_bar * BAR_TO_PA * float(pump.vdot_m3_per_s)
        return HeatFlowResult(
            t_supply_plant_c=t_sup_plant,
            t_return_plant_c=t_ret_plant,
            source_heat_w=float(pump_mdot * cp(t_sup_plant, t_ret_plant) * (t_sup_plant - t_ret_plant)),
            pipe_loss_w=float((pipe_mdot * cp(pipe_in, pipe_out) * (pipe_in - pipe_out)).sum()),
            pump_mdot_kg_per_s=pump_mdot,
            pump_hydraulic_w=hydraulic_w,
            pump_electric_w=hydraulic_w / self.pump_efficiency,
            mdot_kg_per_s=mdot,
            vdot_m3_per_s=hc.vdot_m3_per_s.to_numpy(),
            t_supply_c=t_in,
            t_return_c=t_out,
            consumer_heat_w=mdot * cp(t_in, t_out) * (t_in - t_out),
            demand_heat_w=net.heat_consumer.qext_w.to_numpy().copy(),
            dp_bar=(hc.p_from_bar - hc.p_to_bar).to_numpy(),
        )
