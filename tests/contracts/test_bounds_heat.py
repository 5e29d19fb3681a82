"""HeatEfficiency: every state-changing function from every role that must not call it, and every argument and
signed field at its bounds, refused with its reason (tests/contracts/bounds.py); the maxima themselves accepted."""

from __future__ import annotations

import pytest
from eth_keys import keys
from hypothesis import given

from contracts.eip712 import key_for, sign_heat_reading
from contracts.heat import HeatEfficiency
from tests.contracts.bounds import (
    BACKENDS,
    FAST,
    U256_MAX,
    ZERO,
    Refusal,
    World,
    above,
    beyond,
    cases,
    refused,
    roles,
    row_tests,
)
from tests.contracts.conftest import HEAT_MAX_VOLUME_ML, HEAT_MAX_WH, HEAT_N_PERIODS, PERIOD_S, T0_S, make_heat

MAX_T_MK = 130_000
MAX_HEAT_RANGE, MAX_VOLUME_RANGE, MAX_POOL = 10**12, 10**15, 2**128 - 1
NOT_OPERATOR = "heat: caller is not the operator"
V, TS, TR = 200_000, 80_000, 35_000  # a valid reading: 200 l at 80/35 degC
HEAT = int(V * (TS - TR) * 1.136 / 10**6)
FORGER = keys.PrivateKey(b"\x07" * 32)


@pytest.fixture(scope="module", params=BACKENDS)
def world(request) -> World:
    """A sealed HeatEfficiency (references for periods 0-5, period 0 over), an open one with a consumer, an empty
    one; roles: operator, consumer (registered), stranger."""
    h = make_heat(backend=request.param)
    stranger = h.chain.new_account(key_for(0, "stranger"))
    deploy = dict(operator=h.operator, token=h.token.address, t0_s=T0_S, period_s=PERIOD_S, n_periods=HEAT_N_PERIODS)
    open_, empty = HeatEfficiency.deploy(h.chain, **deploy), HeatEfficiency.deploy(h.chain, **deploy)
    open_.register_consumer(h.consumers[0], h.meter_keys[0].public_key.to_checksum_address(), 1, 1, sender=h.operator)
    h.at_period_end(0)
    return World(h.chain, {"heat": h.heat.contract, "open": open_.contract, "empty": empty.contract},
                 {"operator": h.operator, "consumer": h.consumers[0], "stranger": stranger},
                 {"h": h, "meter": h.meter_keys[0].public_key.to_checksum_address()})


def reading(w: World, key=None, **fields) -> tuple:
    """Consumer 0's reading of period 0 (200 l at 80/35 degC), ``fields`` replaced, signed by its meter."""
    h = w.ctx["h"]
    f = dict(consumer=h.consumers[0], period=0, heat_wh=HEAT, volume_ml=V, vt_supply_mlmc=V * TS,
             vt_return_mlmc=V * TR, quality=0) | fields
    return sign_heat_reading(key or h.meter_keys[0], h.heat.domain_separator, f["consumer"], f["period"],
                             f["heat_wh"], f["volume_ml"], f["vt_supply_mlmc"], f["vt_return_mlmc"],
                             f["quality"]).as_tuple()


def _submit(field: str, values, reason: str, **fixed) -> list[Refusal]:
    return cases("heat", "submit_readings", field, values,
                 lambda w, x: ([reading(w, **(fixed | {field: x}))],), reason, "stranger")


ROWS = [
    # register_consumer: the operator's, before sealing; ranges 1..10**12 Wh and 1..10**15 ml
    *roles("open", "register_consumer", lambda w: (w.roles["stranger"], w.roles["stranger"], 1, 1),
           ["consumer", "stranger"], NOT_OPERATOR),
    Refusal("register_consumer-sealed", "heat", "register_consumer",
            lambda w: (w.roles["stranger"], w.roles["stranger"], 1, 1), "operator", "heat: registration is sealed"),
    *cases("open", "register_consumer", "consumer", [ZERO], lambda w, x: (x, w.roles["stranger"], 1, 1),
           "heat: zero address", "operator"),
    *cases("open", "register_consumer", "meter", [ZERO], lambda w, x: (w.roles["stranger"], x, 1, 1),
           "heat: zero address", "operator"),
    *cases("open", "register_consumer", "max_heat", [0, *beyond(MAX_HEAT_RANGE)],
           lambda w, x: (w.roles["stranger"], w.roles["stranger"], x, 1), "heat: heat range out of bounds", "operator"),
    *cases("open", "register_consumer", "max_volume", [0, *beyond(MAX_VOLUME_RANGE)],
           lambda w, x: (w.roles["stranger"], w.roles["stranger"], 1, x), "heat: volume range out of bounds",
           "operator"),
    Refusal("register_consumer-same-consumer", "open", "register_consumer",
            lambda w: (w.roles["consumer"], w.roles["stranger"], 1, 1), "operator", "heat: consumer already registered"),
    Refusal("register_consumer-same-meter", "open", "register_consumer",
            lambda w: (w.roles["stranger"], w.ctx["meter"], 1, 1), "operator", "heat: meter already registered"),
    # seal
    *roles("open", "seal", lambda w: (), ["consumer", "stranger"], NOT_OPERATOR),
    Refusal("seal-twice", "heat", "seal", lambda w: (), "operator", "heat: registration is sealed"),
    Refusal("seal-empty", "empty", "seal", lambda w: (), "operator", "heat: no consumers"),
    # publish_references: the operator's, sealed, in range, before the period, once, one per consumer, <= 130 K
    *roles("heat", "publish_references", lambda w: (10, [1] * 3), ["consumer", "stranger"], NOT_OPERATOR),
    Refusal("publish_references-unsealed", "open", "publish_references", lambda w: (10, [1]), "operator",
            "heat: registration not sealed"),
    *cases("heat", "publish_references", "period", beyond(HEAT_N_PERIODS - 1), lambda w, x: (x, [1] * 3),
           "heat: period out of range", "operator"),
    Refusal("publish_references-started", "heat", "publish_references", lambda w: (1, [1] * 3), "operator",
            "heat: reference published after the period started"),
    Refusal("publish_references-twice", "heat", "publish_references", lambda w: (5, [1] * 3), "operator",
            "heat: reference already published"),
    *cases("heat", "publish_references", "n", [0, 2, 4], lambda w, x: (10, [1] * x), "heat: one reference per consumer",
           "operator"),
    *cases("heat", "publish_references", "ref", beyond(MAX_T_MK), lambda w, x: (10, [1, x, 1]),
           "heat: reference cooling out of range", "operator"),
    # submit_readings: anyone may post (the meter's signature is the authority); every signed field bounded
    Refusal("submit_readings-forged", "heat", "submit_readings",  # claims meter 0, signed by another key
            lambda w: ([(w.ctx["meter"], *reading(w, key=FORGER)[1:])],), "stranger", "heat: bad signature"),
    *_submit("consumer", [ZERO], "heat: meter belongs to another consumer"),
    *_submit("period", beyond(HEAT_N_PERIODS - 1), "heat: period out of range"),
    *_submit("period", [1], "heat: period not over"),
    *_submit("quality", [2, 255], "heat: unknown quality flag"),
    *_submit("heat_wh", beyond(HEAT_MAX_WH), "heat: reading out of range"),
    *_submit("volume_ml", beyond(HEAT_MAX_VOLUME_ML), "heat: volume out of range"),
    *_submit("vt_supply_mlmc", beyond((V + 1) * MAX_T_MK), "heat: supply temperature out of range"),
    *_submit("vt_return_mlmc", beyond(V * TS), "heat: return above supply"),
    *_submit("volume_ml", [0], "heat: supply temperature out of range"),  # registers without a volume
    *_submit("heat_wh", [0], "heat: cooling above the heat reading"),  # registers carrying heat the meter did not read
    # settle: the operator's; period in range; pool < 2**128; every reading in
    *roles("heat", "settle", lambda w: (0, 0), ["consumer", "stranger"], NOT_OPERATOR),
    *cases("heat", "settle", "period", beyond(HEAT_N_PERIODS - 1), lambda w, x: (x, 0), "heat: period out of range",
           "operator"),
    *cases("heat", "settle", "pool", beyond(MAX_POOL), lambda w, x: (0, x), "heat: pool above 2**128 ueur", "operator"),
    Refusal("settle-readings-missing", "heat", "settle", lambda w: (0, 0), "operator", "heat: readings missing"),
]


test_refused_with_its_reason, test_every_state_changing_function_is_covered = row_tests(ROWS, "HeatEfficiency")


@FAST
@given(volume=above(HEAT_MAX_VOLUME_ML), supply_mk=above(MAX_T_MK))
def test_any_volume_or_temperature_beyond_the_range_is_refused(world, volume, supply_mk):
    refused(world, Refusal("volume", "heat", "submit_readings", lambda w: ([reading(w, volume_ml=volume)],),
                           "stranger", "heat: volume out of range"))
    vts = min(supply_mk * V, U256_MAX)  # a flow-weighted supply above 130 degC
    refused(world, Refusal("supply", "heat", "submit_readings", lambda w: ([reading(w, vt_supply_mlmc=vts)],),
                           "stranger", "heat: supply temperature out of range"))


def test_the_maxima_are_accepted(backend):
    h = make_heat(n=1, backend=backend)
    fresh = HeatEfficiency.deploy(h.chain, operator=h.operator, token=h.token.address, t0_s=T0_S, period_s=PERIOD_S,
                                  n_periods=HEAT_N_PERIODS)
    fresh.register_consumer(h.bank, h.operator, MAX_HEAT_RANGE, MAX_VOLUME_RANGE, sender=h.operator)
    assert fresh.call("max_volume_ml_per_period", h.operator) == MAX_VOLUME_RANGE
    h.heat.publish_references(10, [MAX_T_MK], sender=h.operator)
    h.at_period_end(0)
    # the meter's whole range: its max volume at 130 degC supply, cooled just as far as its max heat carries
    cooling = HEAT_MAX_WH * 10**6 * 1000 // 1136
    at_max = sign_heat_reading(h.meter_keys[0], h.heat.domain_separator, h.consumers[0], 0, HEAT_MAX_WH,
                               HEAT_MAX_VOLUME_ML, HEAT_MAX_VOLUME_ML * MAX_T_MK,
                               HEAT_MAX_VOLUME_ML * MAX_T_MK - cooling, 0)
    assert h.heat.submit_readings([at_max], sender=h.operator) == []
    h.heat.settle(0, 0, sender=h.operator)
    assert h.heat.is_settled(0)
