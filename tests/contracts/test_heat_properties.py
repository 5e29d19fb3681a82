"""Property test: random sequences of references, heat readings (valid, forged, for another consumer, estimated)
and settlements on the real chain keep tokens and money conserved: token supply = sum of balances = what the
readings earned, bonus paid = pool deposited in every period, the contract never keeps money."""

from __future__ import annotations

import os

from eth_keys import keys
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from contracts.chain import ChainRevert
from tests.contracts.conftest import PERIOD_S, T0_S, make_heat

DEEP = os.environ.get("GRIDLEDGER_DEEP") == "1"
REFERENCES_K = {p: 35.0 + 2 * p for p in range(6)}
BASE = make_heat(n=3, references_k=REFERENCES_K)
BASE_SNAPSHOT = BASE.chain.snapshot()
EUR_SUPPLY = BASE.token.total_supply()
N_PERIODS = 8  # references published ahead for 0-5; 6 and 7 only by the rule below
FORGER = keys.PrivateKey(b"\x42" * 32)


class HeatMachine(RuleBasedStateMachine):
    backend = "py-evm"

    @initialize()
    def reset(self):
        if self.backend == "revm":  # revm deploys in milliseconds: a fresh chain per example
            self.h = make_heat(n=3, references_k=REFERENCES_K, backend="revm")
        else:  # py-evm: one deployment, returned to by snapshot
            BASE.chain.revert(BASE_SNAPSHOT)
            self.h = BASE
        self.now_period = -2  # chain time is before period 0
        self.refs_mk = {p: (35 + 2 * p) * 1000 for p in range(6)}
        self.recorded: set[tuple[int, int]] = set()
        self.tokens: dict[tuple[int, int], int] = {}
        self.settled: set[int] = set()

    @rule(periods=st.integers(1, 2))
    def advance(self, periods):
        self.now_period += periods
        self.h.chain.set_time(T0_S + self.now_period * PERIOD_S + 30)

    @rule(period=st.integers(6, N_PERIODS - 1), ref_k=st.integers(20, 50))
    def publish(self, period, ref_k):
        ok = period > self.now_period and period not in self.refs_mk
        try:
            self.h.heat.publish_references(period, [ref_k * 1000] * 3, sender=self.h.operator)
        except ChainRevert as exc:
            assert not ok, exc.reason
            return
        assert ok
        self.refs_mk[period] = ref_k * 1000

    @rule(i=st.integers(0, 2), period=st.integers(0, N_PERIODS - 1), volume_l=st.integers(0, 700),
          t_return_c=st.integers(25, 60), attack=st.sampled_from(["none", "none", "forged", "other_consumer"]),
          quality=st.integers(0, 1))
    def read(self, i, period, volume_l, t_return_c, attack, quality):
        h = self.h
        if attack == "forged":
            r = h.sign(i, period, volume_l, 80.0, t_return_c, key=FORGER, quality=quality)
            r = type(r)(h.meter_keys[i].public_key.to_checksum_address(), *r.as_tuple()[1:])
        else:
            consumer = h.consumers[(i + 1) % 3] if attack == "other_consumer" else None
            r = h.sign(i, period, volume_l, 80.0, t_return_c, quality=quality, consumer=consumer)
        refused = h.heat.submit_readings([r], sender=h.operator)
        ok = (attack == "none" and period < self.now_period and period in self.refs_mk
              and (i, period) not in self.recorded and period not in self.settled)
        assert (refused == []) == ok, refused
        if ok:
            self.recorded.add((i, period))
            earned = r.vt_supply_mlmc - r.vt_return_mlmc - r.volume_ml * self.refs_mk[period]
            self.tokens[(i, period)] = earned // 1_000_000 if earned > 0 and quality == 0 else 0
            assert h.heat.tokens_of(period, h.consumers[i]) == self.tokens[(i, period)]
            assert h.heat.call("readings_accepted") == len(self.recorded)

    @precondition(lambda self: self.now_period > 0)
    @rule(period=st.integers(0, N_PERIODS - 1), pool=st.sampled_from([0, 1, 999_999, 12_345_678]))
    def settle(self, period, pool):
        h = self.h
        complete = all((i, period) in self.recorded for i in range(3))
        period_tokens = sum(self.tokens.get((i, period), 0) for i in range(3))
        ok = complete and period not in self.settled and (period_tokens > 0 or pool == 0)
        try:
            receipt = h.heat.settle(period, pool, sender=h.operator)
        except ChainRevert as exc:
            assert not ok, exc.reason
            return
        assert ok
        self.settled.add(period)
        paid = {e.args["consumer"]: e.args["amount_ueur"] for e in receipt.events if e.event == "BonusPaid"}
        done = next(e.args for e in receipt.events if e.event == "PeriodSettled")
        assert sum(paid.values()) == done["paid_ueur"] == done["pool_ueur"] == pool
        holders = [i for i in range(3) if self.tokens.get((i, period), 0) > 0]
        for i in holders[:-1]:  # pro rata to tokens, rounded down; the dust goes to the last holder
            assert paid.get(h.consumers[i], 0) == pool * self.tokens[(i, period)] // period_tokens
        everyone = [h.bank, h.operator, h.heat.address, *h.consumers]
        assert sum(h.token.balance_of(x) for x in everyone) == h.token.total_supply() == EUR_SUPPLY
        assert h.heat.call("total_paid_ueur") == h.heat.call("total_pool_ueur")

    @invariant()
    def tokens_and_money_are_conserved(self):
        h = self.h
        balances = [h.heat.balance_of(c) for c in h.consumers]
        assert sum(balances) == h.heat.total_supply() == sum(self.tokens.values())
        assert h.token.balance_of(h.heat.address) == 0


class RevmHeatMachine(HeatMachine):
    backend = "revm"


SETTINGS = settings(
    max_examples=1000 if DEEP else 10,
    stateful_step_count=50 if DEEP else 20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
HeatMachine.TestCase.settings = SETTINGS
RevmHeatMachine.TestCase.settings = settings(SETTINGS, max_examples=1000 if DEEP else 100)
TestHeatMachinePyEvm = HeatMachine.TestCase
TestHeatMachineRevm = RevmHeatMachine.TestCase
