"""Property test: random sequences of premiums, oracle posts, measurements, outages and claims keep the pool
equal to premiums - payouts (and to the token balance), payouts within the sum insured, and claims once each,
only with an outage the oracle recorded; premiums only for the current or next period, readings only up to the
rated energy per period."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from contracts.chain import ChainRevert
from tests.contracts.insurance_setup import MAX_WH, PERIOD_S, SUM_INSURED, T0_S, make_insurance

DEEP = os.environ.get("GRIDLEDGER_DEEP") == "1"
N_PERIODS = 5


class InsuranceMachine(RuleBasedStateMachine):
    backend = "revm"

    @initialize(parametric=st.booleans())
    def reset(self, parametric):
        self.s = make_insurance(self.backend, parametric=parametric, funds=10**8)
        self.supply = self.s.token.total_supply()
        self.now = -2
        self.expected: dict[tuple[int, int], int] = {}
        self.measured: dict[tuple[int, int], int] = {}
        self.outages: set[tuple[int, int]] = set()
        self.claims: set[tuple[int, int]] = set()

    @rule()
    def advance(self):
        self.now += 1
        self.s.chain.set_time(T0_S + self.now * PERIOD_S + 10)

    @rule(period=st.integers(0, N_PERIODS - 1))
    def premiums(self, period):
        try:
            self.s.ins.collect_premiums(period, sender=self.s.insurer)
        except ChainRevert as exc:  # the clock is in period self.now (before t0: -1, -2)
            assert exc.reason == "insurance: premiums for the current or next period only"
            assert period not in (max(self.now, 0), self.now + 1)
            return
        assert period in (max(self.now, 0), self.now + 1)

    @rule(period=st.integers(0, N_PERIODS - 1), wh=st.lists(st.integers(0, 30_000), min_size=3, max_size=3))
    def oracle(self, period, wh):
        try:
            self.s.ins.post_expected(period, self.s.members, wh, b"\x01" * 32, sender=self.s.oracle)
        except ChainRevert:
            assert period >= self.now or any((i, period) in self.expected for i in range(3))
            return
        assert period < self.now
        self.expected.update({(i, period): w for i, w in enumerate(wh)})

    @rule(i=st.integers(0, 2), period=st.integers(0, N_PERIODS - 1), wh=st.integers(0, MAX_WH + 10))
    def measure(self, i, period, wh):
        refused = self.s.measured(i, period, wh)
        ok = period < self.now and (i, period) not in self.measured and wh <= MAX_WH
        assert (refused == []) == ok, refused
        if ok:
            self.measured[(i, period)] = wh

    @rule(i=st.integers(0, 2), period=st.integers(0, N_PERIODS - 1), by_member=st.booleans())
    def outage(self, i, period, by_member):
        sender = self.s.members[i] if by_member else self.s.oracle
        try:
            self.s.ins.report_outage(period, self.s.members[i], 0, sender=sender)
            self.outages.add((i, period))
        except ChainRevert:
            assert by_member or (i, period) in self.outages or period > self.now
            return
        assert not by_member and period <= self.now

    @rule(i=st.integers(0, 2), period=st.integers(0, N_PERIODS - 1), frac=st.floats(0, 1.2))
    def claim(self, i, period, frac):
        e, m = self.expected.get((i, period)), self.measured.get((i, period))
        loss = int(max(0, (e or 0) - (m or 0)) * frac)
        try:
            self.s.ins.claim(period, loss, sender=self.s.members[i])
        except ChainRevert:
            return
        assert (i, period) in self.outages and (i, period) not in self.claims
        assert e is not None and m is not None and m < e * 0.8
        self.claims.add((i, period))

    @invariant()
    def pool_is_premiums_minus_payouts(self):
        ins, token = self.s.ins, self.s.token
        premiums, payouts = ins.call("total_premiums_ueur"), ins.call("total_payouts_ueur")
        assert ins.pool_ueur() == premiums - payouts == token.balance_of(ins.address) >= 0
        for m in self.s.members:
            assert ins.call("paid_out_ueur", m) + ins.call("owed_ueur", m) <= SUM_INSURED
        assert ins.call("claims_paid") == len(self.claims)
        holders = [self.s.bank, self.s.insurer, self.s.oracle, ins.address, *self.s.members]
        assert sum(token.balance_of(h) for h in holders) == token.total_supply() == self.supply


InsuranceMachine.TestCase.settings = settings(max_examples=1000 if DEEP else 100,
                                              stateful_step_count=50 if DEEP else 20, deadline=None,
                                              suppress_health_check=[HealthCheck.too_slow])
TestInsuranceMachine = InsuranceMachine.TestCase
