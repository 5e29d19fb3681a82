"""Property test: random sequences of caps, mints (honest and attacking), transfers and retirements on the real
chain keep the no-double-counting invariants: per id live + retired = minted, minted <= cap, minted <=
metered, total retired <= total minted, nothing moves after retirement, claims within consumption; and the
state rebuilt from the events equals the contract's."""

from __future__ import annotations

import os
from collections import defaultdict

from eth_keys import keys
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from contracts.certificates import CapPost, MintRequest, cert_id, split_id
from contracts.chain import ChainRevert
from sim.capabilities.certificates.ledger import replay
from sim.results.summary import ledger_frame
from tests.contracts.conftest import make_certs

DEEP = os.environ.get("GRIDLEDGER_DEEP") == "1"
N_PERIODS = 3
N_IDS = 2 * N_PERIODS
CONSUMED_WH = (1500, 800)


def make_base(backend: str = "py-evm"):
    """Two devices, two consumers, every period over and its consumption recorded; consumer 0 lets producer 0
    retire for it."""
    base = make_certs(n_periods=N_PERIODS, backend=backend)
    base.at_period_end(N_PERIODS - 1)
    base.certs.record_consumption([base.consumption(i, p, wh) for p in range(N_PERIODS)
                                   for i, wh in enumerate(CONSUMED_WH)], sender=base.issuer)
    base.certs.set_retirer(base.producers[0], True, sender=base.consumers[0])
    return base


BASE = make_base()
BASE_SNAPSHOT = BASE.chain.snapshot()
HOLDERS = [*BASE.producers, *BASE.consumers]
RETIRERS = {(0, 0)}  # (holder index, consumer index): producer 0 may retire for consumer 0
FORGER = keys.PrivateKey(b"\x42" * 32)

devices = st.integers(1, 2)
periods = st.integers(0, N_PERIODS - 1)
holders = st.integers(0, len(HOLDERS) - 1)
attacks = st.sampled_from(["none"] * 4 + ["estimated", "forged", "over_cap", "over_metered", "short"])
parts = st.sampled_from([lambda b: max(1, b // 3), lambda b: max(1, b), lambda b: b + 1])  # part, all, more


class CertsMachine(RuleBasedStateMachine):
    backend = "py-evm"

    @initialize(caps=st.lists(st.one_of(st.just(0), st.integers(1, 3000)), min_size=N_IDS, max_size=N_IDS),
                posted=st.integers(0, N_IDS))
    def reset(self, caps, posted):
        """Back to the base state; the oracle posts the caps of the first ``posted`` ids."""
        if self.backend == "revm":  # revm deploys in milliseconds: a fresh chain per example
            self.c = make_base("revm")
        else:  # py-evm: one deployment, returned to by snapshot
            BASE.chain.revert(BASE_SNAPSHOT)
            self.c = BASE
        self.caps: dict[int, int] = {}
        ids = [(d, p) for d in (1, 2) for p in range(N_PERIODS)][:posted]
        if ids:
            self.c.certs.post_caps([CapPost(d, p, cap, b"\x01" * 32) for (d, p), cap in zip(ids, caps)],
                                   sender=self.c.oracle)
            self.caps = {cert_id(d, p): cap for (d, p), cap in zip(ids, caps)}
        self.metered: dict[int, int] = {}
        self.minted: dict[int, int] = {}
        self.bal: dict[tuple[int, int], int] = defaultdict(int)
        self.retired_by: dict[tuple[int, int], int] = defaultdict(int)
        self.claimed: dict[tuple[int, int], int] = defaultdict(int)

    def _expect(self, what: str, ok: bool, call, reason: str | None = None) -> bool:
        try:
            call()
        except ChainRevert as exc:
            assert not ok, f"{what}: unexpected revert: {exc.reason}"
            assert reason is None or exc.reason == reason, exc.reason
            event(f"{what} reverted: {exc.reason}")
            return False
        assert ok, f"{what}: expected a revert"
        event(f"{what}: ok")
        return True

    def _pick(self, pick: int) -> tuple[int, int] | None:
        """A (holder, id) that holds or has retired something, chosen by ``pick``."""
        pairs = sorted(k for k in set(self.bal) | set(self.retired_by) if self.bal[k] or self.retired_by[k])
        return pairs[pick % len(pairs)] if pairs else None

    def _refusal(self, h: int, id_: int, amount: int) -> str | None:
        if amount <= self.bal[(h, id_)]:
            return None
        if self.retired_by[(h, id_)]:
            return "certs: retired Wh cannot move or be retired again"
        return "certs: insufficient balance"

    @precondition(lambda self: len(self.caps) < N_IDS)
    @rule(pick=st.integers(0, 10**6), again=st.sampled_from([False, False, False, True]),
          cap=st.one_of(st.just(0), st.integers(1, 3000)))
    def post_cap(self, pick, again, cap):
        """The oracle posts a cap not yet posted (or, ``again``, one that is: refused)."""
        todo = [cert_id(d, p) for d in (1, 2) for p in range(N_PERIODS) if (cert_id(d, p) in self.caps) == again]
        if not todo:
            return
        id_ = todo[pick % len(todo)]
        device, period = split_id(id_)
        call = lambda: self.c.certs._tx("post_caps", [CapPost(device, period, cap, b"\x01" * 32).as_tuple()],
                                        sender=self.c.oracle)
        if self._expect("cap", not again, call, "certs: cap already posted"):
            self.caps[id_] = cap
        assert self.c.certs.cap_wh(id_) == self.caps[id_]

    @rule(pick=st.integers(0, 10**6), fresh=st.sampled_from([False, False, True]), device=devices, period=periods,
          metered=st.integers(0, 4000), attack=attacks)
    def mint(self, pick, fresh, device, period, metered, attack):
        """Mostly an interval with a posted cap not yet minted (``pick``), sometimes any (``fresh``: no cap, double
        mint)."""
        capped = sorted(set(self.caps) - set(self.minted))
        if capped and not fresh:
            device, period = split_id(capped[pick % len(capped)])
        id_ = cert_id(device, period)
        cap = self.caps.get(id_, 0)
        rule_wh = min(metered, cap)
        amount = {"over_cap": cap + 1, "over_metered": metered + 1, "short": rule_wh - 1}.get(attack, rule_wh)
        if amount < 0:
            return
        r = self.c.reading(device, period, metered, int(attack == "estimated"),
                           key=FORGER if attack == "forged" else None)
        r = type(r)(self.c.device_keys[device - 1].public_key.to_checksum_address(), *r.as_tuple()[1:])
        ok = id_ in self.caps and id_ not in self.minted and attack == "none" and amount > 0
        call = lambda: self.c.certs._tx("mint", [MintRequest(device, amount, r).as_tuple()], sender=self.c.issuer)
        if self._expect("mint", ok, call):
            self.minted[id_], self.metered[id_] = amount, metered
            self.bal[(device - 1, id_)] += amount
        assert self.c.certs.minted_wh(id_) == self.minted.get(id_, 0)

    @rule(pick=st.integers(0, 10**6), dst=holders, part=parts)
    def transfer(self, pick, dst, part):
        if (chosen := self._pick(pick)) is None:
            return
        src, id_ = chosen
        amount = part(self.bal[chosen])
        reason = self._refusal(src, id_, amount)
        call = lambda: self.c.certs.transfer(HOLDERS[src], HOLDERS[dst], id_, amount, sender=HOLDERS[src])
        if self._expect("transfer", reason is None, call, reason):
            self.bal[(src, id_)] -= amount
            self.bal[(dst, id_)] += amount
        assert self.c.certs.balance_of(HOLDERS[src], id_) == self.bal[(src, id_)]

    @rule(pick=st.integers(0, 10**6), part=parts, who=st.integers(0, 1), interval=periods,
          own=st.sampled_from([True, True, False]), entitled=st.sampled_from([True, True, False]))
    def retire(self, pick, part, who, interval, own, entitled):
        """Mostly against the certificate's own interval (``own``) and for a consumer the holder may retire for
        (``entitled``: itself, or producer 0 for consumer 0); else anything (refused with its reason)."""
        if (chosen := self._pick(pick)) is None:
            return
        h, id_ = chosen
        interval = split_id(id_)[1] if own else interval
        if entitled and h >= len(BASE.producers):
            who = h - len(BASE.producers)
        elif entitled and h == 0:
            who = 0
        amount = min(part(self.bal[chosen]), 700)
        if interval != split_id(id_)[1]:
            reason = "certs: consumption interval is not the certificate's interval"
        elif HOLDERS[h] != self.c.consumers[who] and (h, who) not in RETIRERS:
            reason = "certs: caller is neither the beneficiary nor approved by it"
        else:
            reason = self._refusal(h, id_, amount)
        if reason is None and self.claimed[(who, interval)] + amount > CONSUMED_WH[who]:
            reason = "certs: claim exceeds metered consumption"
        call = lambda: self.c.certs.retire(id_, amount, self.c.consumers[who], interval, sender=HOLDERS[h])
        if self._expect("retire", reason is None, call, reason):
            self.bal[(h, id_)] -= amount
            self.retired_by[(h, id_)] += amount
            self.claimed[(who, interval)] += amount
        assert self.c.certs.balance_of(HOLDERS[h], id_) == self.bal[(h, id_)]

    @invariant()
    def nothing_counted_twice(self):
        """From the events (cheap, every step): the replay finds no violation and equals the model."""
        s = replay(ledger_frame(self.c.chain.events))
        assert s.violations == [] and s.minted == self.minted
        assert s.total_retired <= s.total_minted
        for id_, wh in self.minted.items():
            assert wh <= self.caps[id_] and wh <= self.metered[id_]
            live = sum(self.bal[(h, id_)] for h in range(len(HOLDERS)))
            assert live + sum(self.retired_by[(h, id_)] for h in range(len(HOLDERS))) == wh
        assert {k: v for k, v in s.balances.items() if v} == {
            (HOLDERS[h], id_): v for (h, id_), v in self.bal.items() if v}

    def teardown(self):
        """From the contract (once per example): every balance, mint, retirement and total equals the model and
        so the replay of the events."""
        if not hasattr(self, "c"):
            return
        certs = self.c.certs
        assert certs.call("total_minted_wh") == sum(self.minted.values())
        assert certs.call("total_retired_wh") == sum(self.retired_by.values()) <= sum(self.minted.values())
        pairs = [(holder, id_) for id_ in self.minted for holder in HOLDERS]
        assert certs.balances(pairs) == [self.bal[(HOLDERS.index(h), id_)] for h, id_ in pairs]
        for id_, wh in self.minted.items():
            assert certs.minted_wh(id_) == wh
            assert certs.retired_wh(id_) == sum(self.retired_by[(h, id_)] for h in range(len(HOLDERS)))


class RevmCertsMachine(CertsMachine):
    backend = "revm"


SETTINGS = settings(
    max_examples=1000 if DEEP else 20,
    stateful_step_count=50 if DEEP else 20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
CertsMachine.TestCase.settings = SETTINGS
RevmCertsMachine.TestCase.settings = settings(SETTINGS, max_examples=1000 if DEEP else 100)
TestCertsMachinePyEvm = CertsMachine.TestCase
TestCertsMachineRevm = RevmCertsMachine.TestCase
