"""Capability 2 — district-heating efficiency tokens (ΔT degree-hours).

Before the clock: building heat demand (BDEW profiles driven by the run's outdoor temperature), the pandapipes
network, substation states and who may react, accounts, heat meters and the ``HeatEfficiency`` contract with
every consumer registered; the operator publishes the first two references. Each step: the operator sets the
supply temperature (heating curve); each substation's return temperature follows from its state; one
bidirectional pipe flow; the operator measures the step's benefit on its own network model; heat meters
integrate the flow; the measurement layer closes, fault-injects and validates their readings with every other
meter's. Each period: the operator publishes the references two periods ahead; every ``review_every_h`` (a day by
default) the responsive owners of faulty substations consider fixing them. One second after a period closes (VEE
holding back two periods): validated, meter-signed readings go on chain in a batch; the contract mints tokens; the
operator deposits each settled period's bonus pool, paid out pro rata to tokens.
"""

from __future__ import annotations

import numpy as np

from agents.allocation import largest_remainder
from agents.heat.consumer import HeatConsumer
from agents.heat.operator import HeatOperator
from contracts.eip712 import key_for
from contracts.heat import HeatEfficiency
from contracts.token import eur_to_ueur
from grid_models.heat_demand import bdew_heat_kw, building_heat_w, design_heat_w
from grid_models.heat_network import HeatNetwork
from grid_models.substation import return_temperature_c, state_code
from sim.capabilities.base import Capability, log_posted, settle_each
from sim.capabilities.heat.meters import HeatMeter
from sim.capabilities.heat.spec import demand_kw
from sim.capabilities.heat.summary import HeatRecorder, heat_summary
from sim.capabilities.heat.vee import HeatVee
from sim.measurement.readings_log import reading_row

PUBLISH_AHEAD_PERIODS = 2
OPERATOR_FLOAT_EUR = 1_000_000_000.0  # the operator's money: never the binding limit
RNG_CONCERNS = ("demand", "states", "decisions", "meters")


def assign_states(spec, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Substation state codes (exact counts per group by largest remainder, placed at random) and the
    responsive flags (exactly ``responsive_share`` of all consumers, at random)."""
    states = []
    for g in spec.buildings:
        names = list(g.states)
        counts = largest_remainder(g.count, [g.states[n] for n in names])
        codes = np.repeat([state_code(n) for n in names], counts)
        states.append(rng.permutation(codes))
    states = np.concatenate(states)
    n = states.size
    responsive = np.zeros(n, dtype=bool)
    responsive[rng.permutation(n)[: round(spec.behaviour.responsive_share * n)]] = True
    return states, responsive


class HeatCapability(Capability):
    name = "heat"

    def __init__(self, ctx):
        super().__init__(ctx)
        scenario, bank, spec = ctx.scenario, ctx.bank, ctx.scenario.heat
        self.spec = spec
        self.ids = spec.building_ids()
        rngs = dict(zip(RNG_CONCERNS, ctx.rngs["heat"].spawn(len(RNG_CONCERNS))))
        with ctx.timed("physics"):
            self.demand_w, self.design_w = self._demand(ctx, rngs["demand"])
            net = spec.network
            network_kw = dict(branches=net.branches, segment_length_m=net.segment_length_m,
                              pipe_loss_w_per_mk=net.pipe_loss_w_per_mk, ground_temp_c=net.ground_temp_c,
                              pump_lift_bar=net.pump_lift_bar, pump_pressure_bar=net.pump_pressure_bar,
                              pump_efficiency=net.pump_efficiency, t_supply_init_c=net.supply_max_c,
                              solver=net.solver)
            self.network = HeatNetwork(self.design_w, **network_kw)
            operator_model = HeatNetwork(self.design_w, **network_kw)
        states, responsive = assign_states(spec, rngs["states"])

        with ctx.timed("chain"):
            self.operator_account, *consumers = bank.open_accounts(["heat-operator", *(f"heat/{b}" for b in self.ids)])
            self.accounts = dict(zip(self.ids, consumers))
            self.scheme = HeatEfficiency.deploy(ctx.chain, operator=self.operator_account, token=bank.token.address,
                                                t0_s=ctx.inputs.t0_s, period_s=ctx.clock.settlement_s,
                                                n_periods=ctx.clock.n_periods)
            bank.mint_eur(self.operator_account, OPERATOR_FLOAT_EUR)
            bank.token.approve(self.scheme.address, eur_to_ueur(OPERATOR_FLOAT_EUR), sender=self.operator_account)
            self.meters = [HeatMeter(f"heatmeter/{b}", key_for(scenario.run.seed, f"heatmeter/{b}"),
                                     self.accounts[b], w, ctx.clock.settlement_s)
                           for b, w in zip(self.ids, self.design_w)]
            self.scheme.register_consumers([(self.accounts[b], m.address, m.max_wh_per_period,
                                             m.max_volume_ml_per_period)
                                            for b, m in zip(self.ids, self.meters)], sender=self.operator_account)
            self.scheme.seal(sender=self.operator_account)
        # closed, fault-injected (from heat's own stream) and validated by the measurement layer
        self.vee = [ctx.measurement.add_meter(m, HeatVee(m.meter_id, m.max_wh_per_period, ctx.clock.settlement_s,
                                                         max_volume_ml=m.max_volume_ml_per_period),
                                              rng=rngs["meters"]) for m in self.meters]

        prices, net = spec.prices, spec.network
        self.tariff_rule = spec.tariff.rule()
        self.expected_return = spec.expected_return_for_reference()  # the operator's, for the token references
        self.operator = HeatOperator(
            ctx.model, account=self.operator_account, scheme=self.scheme, network_model=operator_model,
            typical_demand_w=self.demand_w.mean(axis=0),
            temp_air=ctx.inputs.weather.temp_air,
            curve=dict(supply_max_c=net.supply_max_c, supply_min_c=net.supply_min_c,
                       design_outdoor_c=net.design_outdoor_c, limit_outdoor_c=net.limit_outdoor_c),
            expected_return=self.expected_return, heat_production_eur_per_mwh=prices.heat_production_eur_per_mwh,
            electricity_eur_per_kwh=prices.electricity_eur_per_kwh, bonus_share=prices.bonus_share_percent / 100,
        )
        b = spec.behaviour
        self.consumers = [
            HeatConsumer(ctx.model, name=bid, index=j, account=self.accounts[bid], state=int(states[j]),
                         responsive=bool(responsive[j]), design_heat_w=float(self.design_w[j]), scheme=self.scheme,
                         rng=rngs["decisions"],
                         max_fix_probability=1 - (1 - b.max_fix_probability_per_day) ** (b.review_every_h / 24),
                         half_response_bonus_eur_per_year=b.half_response_bonus_eur_per_year,
                         heating_season_days=b.heating_season_days)
            for j, bid in enumerate(self.ids)
        ]
        ctx.chain.set_time(ctx.inputs.t0_s - ctx.clock.settlement_s)
        for p in range(PUBLISH_AHEAD_PERIODS):
            self.operator.publish(p, now_step=0)
        self.recorder = HeatRecorder(ctx.clock.n_steps, len(self.ids))
        self.hold_steps = (spec.step_s or ctx.clock.step_s) // ctx.clock.step_s
        self.pipe_flows = 0
        self.t_supply_c = net.supply_max_c
        self.t_supply_local_c = np.full(len(self.ids), net.supply_max_c)
        self.readings_log = ctx.measurement.log()
        self.unsettled: dict[int, str] = {}
        self._settled_through = -1
        self._decided_through = -1

    def _demand(self, ctx, rng) -> tuple[np.ndarray, np.ndarray]:
        """Heat demand per building and step [W] and design heat per building [W], before the clock."""
        spec, times, temp = self.spec, ctx.inputs.times, ctx.inputs.weather.temp_air
        per_type: dict[tuple[str, int], np.ndarray] = {}
        climate = spec.reference_climate(ctx.scenario.weather.normals(ctx.scenario.site)["annual_cycle"])
        columns, annual = [], []
        for g in spec.buildings:
            key = (g.profile, g.building_class)
            if key not in per_type:
                per_type[key] = bdew_heat_kw(times, temp, profile=g.profile, building_class=g.building_class,
                                             **climate)
            columns += [per_type[key]] * g.count
            annual += [g.annual_heat_kwh] * g.count
        annual = np.array(annual)
        demand_w = building_heat_w(np.column_stack(columns), annual, rng, ctx.clock.step_s)
        first = 0
        for g in spec.buildings:  # measured demand replaces the profile's (drawn anyway: the others stay as they were)
            if g.demand_file is not None:
                demand_w[:, first:first + g.count] = 1000.0 * demand_kw(g, times, ctx.clock.step_s,
                                                                        ctx.scenario.site.tz)
            first += g.count
        return demand_w, design_heat_w(annual)

    # clock hooks ------------------------------------------------------------------------------------------
    def decide(self, k: int) -> None:
        self.t_supply_c = self.operator.supply_temperature_c(k)

    def solve(self, k: int) -> None:
        """Every ``hold_steps`` steps: return temperatures from the substations' states (at the supply temperature
        that reached them last time), one pipe flow with the interval's mean demand, and the operator's benefit
        measurement; in between the flow is held."""
        period = self.ctx.clock.period_of_step(k)
        benefit = 0.0
        if k % self.hold_steps == 0:
            self.states = np.fromiter((c.state for c in self.consumers), dtype=int, count=len(self.consumers))
            demand = self.demand_w[k : k + self.hold_steps].mean(axis=0)
            t_return = return_temperature_c(self.states, self.t_supply_local_c, demand / self.design_w)
            self.flow = self.network.solve(self.t_supply_c, demand, t_return)
            self.pipe_flows += 1
            self.t_supply_local_c = self.flow.t_supply_c
            benefit = self.operator.assess(period, self.flow, self.ctx.clock.step_s * self.hold_steps)
        self.recorder.record(k, self.flow, self.states, benefit, self.operator.references_k[period])

    def measure(self, k: int, flow) -> None:
        f, dt_s = self.flow, self.ctx.clock.step_s
        for j, meter in enumerate(self.meters):
            meter.record(f.consumer_heat_w[j], f.vdot_m3_per_s[j], f.t_supply_c[j], f.t_return_c[j], dt_s)

    def period_closed(self, period: int) -> None:
        ctx = self.ctx
        self.operator.publish(period + PUBLISH_AHEAD_PERIODS, now_step=(period + 1) * ctx.clock.steps_per_period)
        review_periods = max(1, self.spec.behaviour.review_every_h * 3600 // ctx.clock.settlement_s)
        if (period + 1) % review_periods == 0 and self._settled_through > self._decided_through:
            window_s = (self._settled_through - self._decided_through) * ctx.clock.settlement_s
            step = (period + 1) * ctx.clock.steps_per_period
            for c in self.consumers:  # a fixed order; each owner's draw comes from the same seeded stream
                c.consider_fix(step, window_s, self._settled_through, self.spec.behaviour.react)
            self._decided_through = self._settled_through

    def settle(self, validated: dict, through_period: int) -> None:
        """Post the heat meters' validated, signed readings, settle the periods with their pools."""
        signed, rows = [], []
        for meter in self.meters:
            for v in validated.get(meter.meter_id, []):
                signed.append(meter.sign(self.scheme.domain_separator, v.period, v.heat_wh, v.volume_ml,
                                         v.vt_supply_mlmc, v.vt_return_mlmc, v.quality))
                rows.append(reading_row(meter.meter_id, v, energy_wh=v.heat_wh, volume_ml=v.volume_ml))
        log_posted(signed, rows, self.scheme.submit_readings(signed, sender=self.operator_account), self.readings_log,
                   self.scheme.address)
        settle_each(range(self._settled_through + 1, through_period + 1), self.operator.settle, self.unsettled)
        self._settled_through = max(self._settled_through, through_period)

    # results ----------------------------------------------------------------------------------------------
    def summary(self, ledger) -> dict:
        return heat_summary(self, ledger)

    def timeseries(self):
        return self.recorder.series(self.ctx.inputs.times, self.ids)
