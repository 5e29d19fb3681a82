"""Property test: random sequences of declarations, readings (valid and forged) and settlements on the real
chain keep money conserved and each (meter, period) settled once."""

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
from contracts.eip712 import sign_reading
from tests.contracts.conftest import MAX_WH, PERIOD_S, T0_S, make_vpp

DEEP = os.environ.get("GRIDLEDGER_DEEP") == "1"
N_PERIODS = 6
FORGER = keys.PrivateKey(b"\x42" * 32)


class VppMachine(RuleBasedStateMachine):
    backend = "py-evm"
    _base: dict = {}

    @initialize()
    def reset(self):
        if self.backend == "revm":  # revm deploys in milliseconds: a fresh chain per example
            self.v = make_vpp(shares=(4000, 3500, 2500), backend="revm")
            self.supply = self.v.token.total_supply()
        else:  # py-evm: one deployment, returned to by snapshot
            if not self._base:
                base = make_vpp(shares=(4000, 3500, 2500))
                self._base["py-evm"] = (base, base.chain.snapshot(), base.token.total_supply())
            base, snap, self.supply = self._base["py-evm"]
            base.chain.revert(snap)
            self.v = base
        self.now_period = -2  # chain time is before period 0
        self.recorded: set[tuple[int, int]] = set()
        self.settled: set[int] = set()
        self.declared: set[int] = set()

    @rule(periods=st.integers(1, 2))
    def advance(self, periods):
        self.now_period += periods
        self.v.chain.set_time(T0_S + self.now_period * PERIOD_S + 30)

    @rule(period=st.integers(0, N_PERIODS - 1), wh=st.lists(st.integers(0, MAX_WH), min_size=3, max_size=3))
    def declare(self, period, wh):
        late = period <= self.now_period
        try:
            self.v.vpp.declare(period, wh, sender=self.v.operator)
            assert not late and period not in self.declared
            self.declared.add(period)
        except ChainRevert as exc:
            assert late or period in self.declared, exc.reason

    @rule(i=st.integers(0, 2), period=st.integers(0, N_PERIODS - 1), wh=st.integers(0, MAX_WH), forged=st.booleans())
    def read(self, i, period, wh, forged):
        key = FORGER if forged else self.v.meter_keys[i]
        r = sign_reading(key, self.v.vpp.domain_separator, period, wh, 0)
        r = type(r)(self.v.meter_keys[i].public_key.to_checksum_address(), *r.as_tuple()[1:])
        refused = self.v.vpp.submit_readings([r], sender=self.v.operator)
        ok = not forged and period < self.now_period and (i, period) not in self.recorded and period not in self.settled
        assert (refused == []) == ok, refused
        if ok:
            self.recorded.add((i, period))

    @precondition(lambda self: self.now_period > 0)
    @rule(period=st.integers(0, N_PERIODS - 1))
    def settle(self, period):
        complete = all((i, period) in self.recorded for i in range(3))
        try:
            receipt = self.v.vpp.settle(period, sender=self.v.operator)
        except ChainRevert:
            assert not complete or period in self.settled
            return
        assert complete and period not in self.settled
        self.settled.add(period)
        done = next(e.args for e in receipt.events if e.event == "PeriodSettled")
        payouts = sum(e.args["amount_ueur"] for e in receipt.events if e.event == "Payout")
        assert payouts == done["revenue_ueur"] + done["penalties_ueur"] == done["paid_ueur"]

    @invariant()
    def money_is_conserved(self):
        v = self.v
        holders = [v.bank, v.buyer, v.vpp.address, *v.members]
        assert sum(v.token.balance_of(h) for h in holders) == v.token.total_supply() == self.supply
        assert v.token.balance_of(v.vpp.address) == sum(v.vpp.collateral_ueur(m) for m in v.members)
        assert v.vpp.call("total_paid_ueur") == v.vpp.call("total_revenue_ueur") + v.vpp.call("total_penalties_ueur")
        assert v.vpp.call("readings_accepted") == len(self.recorded)


SETTINGS = settings(
    max_examples=1000 if DEEP else 10,
    stateful_step_count=50 if DEEP else 20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


class RevmVppMachine(VppMachine):
    backend = "revm"


VppMachine.TestCase.settings = SETTINGS
RevmVppMachine.TestCase.settings = settings(SETTINGS, max_examples=1000 if DEEP else 100)
TestVppMachinePyEvm = VppMachine.TestCase
TestVppMachineRevm = RevmVppMachine.TestCase
