"""Property test: random sequences of DR events, delay reports (valid, forged, replayed, beyond limits, early)
and token transfers on the real chain. The contract accepts a report exactly when a plain Python model of the
rules does, and keeps: supply = sum of balances = tokens per kWh x total shifted Wh; every customer's counters
equal the model's; no outlet beyond its daily limit."""

from __future__ import annotations

import os

from eth_keys import keys
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from contracts.chain import ChainRevert
from tests.contracts.flex_fixtures import OUTLETS, TOKENS_PER_KWH, make_flex

DEEP = os.environ.get("GRIDLEDGER_DEEP") == "1"
FORGER = keys.PrivateKey(b"\x42" * 32)


class FlexMachine(RuleBasedStateMachine):
    backend = "py-evm"
    _base: dict = {}

    @initialize()
    def reset(self):
        if self.backend == "revm":
            self.f = make_flex("revm")
        else:
            if not self._base:
                base = make_flex("py-evm")
                self._base["py-evm"] = (base, base.chain.snapshot())
            base, snap = self._base["py-evm"]
            base.chain.revert(snap)
            self.f = base
        self.now = 300  # minute; chain time follows
        self.f.at_minute(self.now)
        self.events: list[tuple[int, int]] = []  # (start, duration) by id
        self.accepted: list = []
        self.reported: set[tuple[int, int]] = set()
        self.day_used: dict[tuple[int, int], int] = {}
        self.delay_min = [0, 0]
        self.shifted = 0

    @rule(minutes=st.integers(1, 400))
    def advance(self, minutes):
        self.now += minutes
        self.f.at_minute(self.now)

    @rule(offset=st.integers(0, 120), duration=st.integers(5, 180))
    def open_event(self, offset, duration):
        """An event from ``offset`` minutes on; refused while it would overlap the latest one."""
        start = self.now + offset
        if self.events and start < sum(self.events[-1]):
            try:
                self.f.flex.create_event(start, duration, 1000, sender=self.f.operator)
            except ChainRevert as exc:
                assert exc.reason == "flex: DR event starts before the previous one ends"
                return
            raise AssertionError("an overlapping DR event was opened")
        event_id = self.f.flex.create_event(start, duration, 1000, sender=self.f.operator)
        assert event_id == len(self.events)
        self.events.append((start, duration))

    def _expected(self, i, event_id, start, delay, wh, forged) -> bool:
        _, _, rated_w, per_event, per_day, no_delay = OUTLETS[i]
        if forged or event_id >= len(self.events) or (event_id, i) in self.reported or delay == 0:
            return False
        ev_start, ev_dur = self.events[event_id]
        hours = range(start // 60, (start + delay - 1) // 60 + 1)
        blocked = any(a <= h % 24 < b for h in hours for a, b in no_delay)
        return (ev_start <= start and start + delay <= ev_start + ev_dur and start + delay <= self.now
                and delay <= per_event and self.day_used.get((i, start // 1440), 0) + delay <= per_day
                and not blocked and wh * 60 <= rated_w * delay)

    @rule(i=st.integers(0, len(OUTLETS) - 1), event=st.integers(0, 6), offset=st.integers(0, 100),
          delay=st.integers(0, 100), power_share=st.floats(0, 1.2), forged=st.booleans())
    def report(self, i, event, offset, delay, power_share, forged):
        start = (self.events[event][0] if event < len(self.events) else self.now - 100) + offset
        wh = int(OUTLETS[i][2] * delay / 60 * power_share)
        d = self.f.delay(i, event, start, delay, wh)
        if forged:
            d = type(d)(d.outlet, *self.f.delay(i, event, start, delay, wh, key=FORGER).as_tuple()[1:])
        ok = self._expected(i, event, start, delay, wh, forged)
        refused = self.f.report(d)
        assert (refused == []) == ok, (refused, ok)
        if ok:
            self.accepted.append(d)
            self.reported.add((event, i))
            key = (i, start // 1440)
            self.day_used[key] = self.day_used.get(key, 0) + delay
            self.delay_min[OUTLETS[i][0]] += delay
            self.shifted += wh

    @rule(n=st.integers(0, 50))
    def replay(self, n):
        if self.accepted:
            refused = self.f.report(self.accepted[n % len(self.accepted)])
            assert [why for _, why in refused] == ["flex: delay already reported"]

    @rule(sender=st.integers(0, 1), share=st.floats(0, 1.5))
    def transfer(self, sender, share):
        c = self.f.customers
        balance = self.f.flex.balance_of(c[sender])
        amount = int(balance * share)
        try:
            self.f.flex.transfer(c[1 - sender], amount, sender=c[sender])
            assert amount <= balance
        except ChainRevert as exc:
            assert amount > balance and exc.reason == "flex: insufficient balance"

    @invariant()
    def tokens_and_counters_agree(self):
        flex, c = self.f.flex, self.f.customers
        supply = flex.total_supply()
        assert supply == sum(flex.balance_of(x) for x in c) == TOKENS_PER_KWH * flex.call("total_shifted_wh")
        assert flex.call("total_shifted_wh") == self.shifted
        assert [flex.call("delay_min_of", x) for x in c] == self.delay_min
        for (i, _day), used in self.day_used.items():
            assert used <= OUTLETS[i][4]


SETTINGS = settings(max_examples=1000 if DEEP else 10, stateful_step_count=50 if DEEP else 20, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


class RevmFlexMachine(FlexMachine):
    backend = "revm"


FlexMachine.TestCase.settings = SETTINGS
RevmFlexMachine.TestCase.settings = settings(SETTINGS, max_examples=1000 if DEEP else 100)
TestFlexMachinePyEvm = FlexMachine.TestCase
TestFlexMachineRevm = RevmFlexMachine.TestCase
