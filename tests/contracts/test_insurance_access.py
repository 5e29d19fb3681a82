"""MutualInsurance refuses what it must (issue 21): every state-changing function called from every role that must
not call it, and every argument at its bounds (0, max, max + 1, 2**255, 2**256 - 1, and min - 1 where min > 0),
each refused with its reason; the values inside the bounds accepted. Then hypothesis draws further values over
the whole uint256 range and near each bound: accepted if and only if inside.

The edge table runs on both backends; the hypothesis draws on revm only (same bytecode), to keep the file under
30 s. A refused call changes no state, so one world serves until a call is accepted (then a new one)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.chain import ChainRevert
from contracts.eip712 import key_for, sign_reading
from contracts.insurance import MutualInsurance
from tests.contracts.insurance_setup import (
    COVER,
    MAX_WH,
    PERIOD_S,
    PREMIUM,
    PRICE,
    SUM_INSURED,
    T0_S,
    THRESHOLD_BPS,
    Ins,
    make_insurance,
)

U256 = 2**256 - 1
MAX_UEUR = 10**18  # MutualInsurance.vy's bounds
MAX_WH_PER_PERIOD = 10**13
MAX_PERIOD_S = 366 * 86_400
MAX_PRICE = 10**9
BPS = 10_000
NOW = 2  # the world's chain time is inside period 2: periods 0 and 1 are over, 0-2 have started
EXPECTED_0, MEASURED_0 = 10_000, 2_000  # member 0, period 0: the claimable loss is 8 000 Wh

ROLES = ("insurer", "oracle", "member", "other_member", "outsider", "meter")


@dataclass
class World:
    """A 3-member indemnity mutual in period 2: premiums of period 0 paid; for period 0 the oracle's expected
    production of members 0 and 1, their readings and outages recorded; member 2 has nothing for any period."""

    s: Ins
    accounts: dict[str, str] = field(default_factory=dict)
    newcomer: str = ""
    newcomer_meter: str = ""

    def call(self, fn: str, *args, sender: str):
        return self.s.ins._tx(fn, *args, sender=sender)

    def reading(self, period: int, wh: int, quality: int = 0, i: int = 2):
        r = sign_reading(self.s.meter_keys[i], self.s.ins.domain_separator, period, wh, quality)
        return [r.as_tuple()]


def _build(backend: str) -> World:
    s = make_insurance(backend)
    s.ins.collect_premiums(0, sender=s.insurer)
    s.at_period_end(0)
    s.ins.post_expected(0, s.members[:2], [EXPECTED_0, EXPECTED_0], b"\x11" * 32, sender=s.oracle)
    for i in range(2):
        assert s.measured(i, 0, MEASURED_0) == []
        s.ins.report_outage(0, s.members[i], 0, sender=s.oracle)
    s.chain.set_time(T0_S + NOW * PERIOD_S + 100)
    w = World(s)
    meter = s.chain.new_account(s.meter_keys[0])  # a meter's key sending a transaction itself
    w.accounts = {"insurer": s.insurer, "oracle": s.oracle, "member": s.members[0], "other_member": s.members[2],
                  "outsider": s.bank, "meter": meter}
    w.newcomer = s.chain.new_account(key_for(9, "newcomer"))
    w.newcomer_meter = key_for(9, "newcomer-meter").public_key.to_checksum_address()
    return w


_WORLDS: dict[str, tuple] = {}
REFRESH_AFTER = 300  # transactions on one world: each block is a second later, the clock stays in period 2


def fresh(backend: str) -> World:
    """The world, untouched. A refused call changes nothing, so the same world serves until a call succeeds
    (``used``): then revm builds a new one (~0.1 s), py-evm reverts to its snapshot."""
    w, snap, n = _WORLDS.get(backend, (None, None, REFRESH_AFTER))
    if w is None or n >= REFRESH_AFTER:
        w = _build(backend)
        snap = w.s.chain.snapshot() if backend == "py-evm" else None
        n = 0
    _WORLDS[backend] = (w, snap, n + 1)
    return w


def used(backend: str) -> None:
    """A call succeeded on the current world: the next ``fresh`` starts from an untouched one."""
    w, snap, _ = _WORLDS[backend]
    if snap is None:
        _WORLDS[backend] = (None, None, REFRESH_AFTER)
    else:
        w.s.chain.revert(snap)
        _WORLDS[backend] = (w, w.s.chain.snapshot(), 0)


# --- who may call what ------------------------------------------------------------------------------------------
def _valid_call(w: World, fn: str) -> tuple:
    """Arguments with which ``fn`` succeeds for its own role."""
    s = w.s
    return {
        "join": (w.newcomer, w.newcomer_meter, SUM_INSURED, PREMIUM, COVER, MAX_WH),
        "collect_premiums": (NOW,),
        "post_expected": (1, [s.members[2]], [5_000], b"\x22" * 32),
        "submit_readings": (w.reading(1, 4_000),),
        "report_outage": (1, s.members[2], 5_000),
        "claim": (0, 8_000),
        "record_solvency": (1,),
    }[fn]


# fn -> (roles allowed, reason for every other role)
ACCESS = {
    "join": ({"insurer"}, "insurance: caller is not the insurer"),
    "collect_premiums": ({"insurer"}, "insurance: caller is not the insurer"),
    "record_solvency": ({"insurer"}, "insurance: caller is not the insurer"),
    "post_expected": ({"oracle"}, "insurance: caller is not the oracle"),
    "report_outage": ({"oracle"}, "insurance: caller is not the oracle"),
    # a member claims for itself only: others are not members, another member has no outage recorded
    "claim": ({"member"}, {"other_member": "insurance: no outage recorded", None: "insurance: not a member"}),
    # the meter's signature is the authority: anyone may relay a signed reading
    "submit_readings": (set(ROLES), None),
}


@pytest.mark.parametrize("backend", ["py-evm", "revm"])
@pytest.mark.parametrize("fn", sorted(ACCESS))
def test_every_function_from_every_role(backend, fn):
    allowed, reason = ACCESS[fn]
    for role in ROLES:
        w = fresh(backend)
        args = _valid_call(w, fn)
        if role in allowed:
            w.call(fn, *args, sender=w.accounts[role])
            used(backend)
            continue
        want = reason.get(role, reason[None]) if isinstance(reason, dict) else reason
        with pytest.raises(ChainRevert) as exc:
            w.call(fn, *args, sender=w.accounts[role])
        assert exc.value.reason == want, (fn, role)


# --- every argument at its bounds -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Arg:
    """One numeric argument of one function: accepted in [lo, hi], else refused with ``reason`` (a callable of the
    value where the reason depends on it)."""

    name: str
    fn: str
    role: str
    lo: int
    hi: int
    reason: object
    call: object  # (world, value) -> args

    def why(self, value: int) -> str:
        return self.reason(value) if callable(self.reason) else self.reason


def _join(i: int, si: int = SUM_INSURED):
    def args(w: World, v: int) -> tuple:
        a = [w.newcomer, w.newcomer_meter, si, PREMIUM, COVER, MAX_WH]
        a[i] = v
        if i == 2:  # the sum insured alone: no cover (the cover is bounded by it)
            a[4] = 0
        return tuple(a)
    return args


def _deploy(w: World, *, period_s=PERIOD_S, price=PRICE, threshold=THRESHOLD_BPS, parametric=True, trigger=8000,
            exit_=3000, t0=T0_S):
    return MutualInsurance.deploy(w.s.chain, insurer=w.s.insurer, token=w.s.token.address, oracle=w.s.oracle,
                                  t0_s=t0, period_s=period_s, price_ueur_per_kwh=price, threshold_bps=threshold,
                                  parametric=parametric, trigger_bps=trigger, exit_bps=exit_)


ARGS = [
    # constructor (any deployer; it becomes the insurer)
    Arg("period_s", "deploy", "insurer", 1, MAX_PERIOD_S, "insurance: period_s out of range",
        lambda w, v: {"period_s": v}),
    Arg("price_ueur_per_kwh", "deploy", "insurer", 0, MAX_PRICE, "insurance: price too high",
        lambda w, v: {"price": v}),
    Arg("threshold_bps (indemnity)", "deploy", "insurer", 0, BPS - 1, "insurance: threshold must be below 100 %",
        lambda w, v: {"threshold": v, "parametric": False}),
    Arg("threshold_bps (parametric, trigger 80 %)", "deploy", "insurer", 0, 2000,
        lambda v: "insurance: threshold must be below 100 %" if v >= BPS else
        "insurance: threshold refuses ratios the index pays (need threshold + trigger <= 100 %)",
        lambda w, v: {"threshold": v}),
    Arg("trigger_bps (threshold 20 %, exit 30 %)", "deploy", "insurer", 3001, 8000,
        lambda v: "insurance: need exit < trigger <= 100 %" if v <= 3000 or v > BPS else
        "insurance: threshold refuses ratios the index pays (need threshold + trigger <= 100 %)",
        lambda w, v: {"trigger": v}),
    Arg("exit_bps (trigger 80 %)", "deploy", "insurer", 0, 7999, "insurance: need exit < trigger <= 100 %",
        lambda w, v: {"exit_": v}),
    Arg("t0 (at most 2**34 s, the year 2514)", "deploy", "insurer", 0, 2**34, "insurance: t0 out of range",
        lambda w, v: {"t0": v}),
    # join (insurer)
    Arg("sum_insured_ueur", "join", "insurer", 1, MAX_UEUR, "insurance: sum insured out of range", _join(2)),
    Arg("premium_ueur", "join", "insurer", 0, MAX_UEUR, "insurance: premium out of range", _join(3)),
    Arg("cover_per_period_ueur (sum insured 2 000 000)", "join", "insurer", 0, SUM_INSURED,
        "insurance: cover above sum insured", _join(4)),
    Arg("cover_per_period_ueur (sum insured at its max)", "join", "insurer", 0, MAX_UEUR,
        "insurance: cover above sum insured", _join(4, MAX_UEUR)),
    Arg("max_wh_per_period", "join", "insurer", 1, MAX_WH_PER_PERIOD, "insurance: rated energy out of range",
        _join(5)),
    # collect_premiums (insurer): the current period (2) or the next (3)
    Arg("period", "collect_premiums", "insurer", NOW, NOW + 1,
        "insurance: premiums for the current or next period only", lambda w, v: (v,)),
    # post_expected (oracle): periods that are over (0, 1); member 2 has nothing posted
    Arg("period", "post_expected", "oracle", 0, NOW - 1, "insurance: period not over",
        lambda w, v: (v, [w.s.members[2]], [5_000], b"\x22" * 32)),
    Arg("expected_wh", "post_expected", "oracle", 0, MAX_WH, "insurance: expected out of range",
        lambda w, v: (1, [w.s.members[2]], [v], b"\x22" * 32)),
    # submit_readings (anyone relays; the meter signs): member 2's meter
    Arg("reading.period", "submit_readings", "outsider", 0, NOW - 1, "insurance: period not over",
        lambda w, v: (w.reading(v, 4_000),)),
    Arg("reading.energy_wh", "submit_readings", "outsider", 0, MAX_WH, "insurance: reading out of range",
        lambda w, v: (w.reading(1, v),)),
    Arg("reading.quality (uint8)", "submit_readings", "outsider", 0, 0, "insurance: estimated reading",
        lambda w, v: (w.reading(1, 4_000, v),)),
    # report_outage (oracle): periods that have started (0-2), member 2
    Arg("period", "report_outage", "oracle", 0, NOW, "insurance: period not started",
        lambda w, v: (v, w.s.members[2], 5_000)),
    Arg("available_bps", "report_outage", "oracle", 0, BPS - 1, "insurance: nothing was out",
        lambda w, v: (1, w.s.members[2], v)),
    # claim (the member itself): member 0, period 0, loss at most expected - measured
    Arg("loss_wh", "claim", "member", 0, EXPECTED_0 - MEASURED_0, "insurance: claim above the loss",
        lambda w, v: (0, v)),
    Arg("period", "claim", "member", 0, 0, "insurance: no outage recorded", lambda w, v: (v, 8_000)),
    # record_solvency (insurer): periods that are over
    Arg("period", "record_solvency", "insurer", 0, NOW - 1, "insurance: period not over", lambda w, v: (v,)),
]


def _edges(a: Arg) -> list[int]:
    top = 255 if "uint8" in a.name else U256
    values = {0, a.hi, a.hi + 1, 2**255, U256, top, a.lo} | ({a.lo - 1} if a.lo > 0 else set())
    return sorted(v for v in values if 0 <= v <= top)


def _check(backend: str, a: Arg, value: int) -> None:
    w, ok = fresh(backend), a.lo <= value <= a.hi
    try:
        if a.fn == "deploy":
            _deploy(w, **a.call(w, value))
        else:
            w.call(a.fn, *a.call(w, value), sender=w.accounts[a.role])
    except ChainRevert as exc:
        assert not ok, f"{a.fn} {a.name}={value} refused: {exc.reason}"
        assert exc.reason == a.why(value), (a.fn, a.name, value)
        return
    used(backend)
    assert ok, f"{a.fn} {a.name}={value} accepted, outside [{a.lo}, {a.hi}]"


@pytest.mark.parametrize("backend", ["py-evm", "revm"])
@pytest.mark.parametrize("a", ARGS, ids=[f"{a.fn}-{a.name.split()[0]}-{i}" for i, a in enumerate(ARGS)])
def test_every_argument_at_its_bounds(backend, a):
    for value in _edges(a):
        _check(backend, a, value)


def _near(a: Arg):
    top = 255 if "uint8" in a.name else U256
    return st.one_of(st.integers(0, top), st.integers(max(0, a.lo - 3), min(top, a.hi + 3)))


@pytest.mark.parametrize("a", ARGS, ids=[f"{a.fn}-{a.name.split()[0]}-{i}" for i, a in enumerate(ARGS)])
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_value_accepted_if_and_only_if_inside_its_bounds(a, data):
    _check("revm", a, data.draw(_near(a)))


# --- the rest of what must be refused ------------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["py-evm", "revm"])
def test_addresses_members_and_lengths(backend):
    cases = [
        ("join", lambda w: ("0x" + "00" * 20, w.newcomer_meter, SUM_INSURED, PREMIUM, COVER, MAX_WH), "insurer",
         "insurance: zero address"),
        ("join", lambda w: (w.newcomer, "0x" + "00" * 20, SUM_INSURED, PREMIUM, COVER, MAX_WH), "insurer",
         "insurance: bad meter"),
        ("join", lambda w: (w.s.members[0], w.newcomer_meter, SUM_INSURED, PREMIUM, COVER, MAX_WH), "insurer",
         "insurance: already a member"),
        ("join", lambda w: (w.newcomer, w.s.meter_keys[1].public_key.to_checksum_address(), SUM_INSURED, PREMIUM,
                            COVER, MAX_WH), "insurer", "insurance: bad meter"),
        ("post_expected", lambda w: (1, [w.newcomer], [5_000], b"\x22" * 32), "oracle", "insurance: not a member"),
        ("post_expected", lambda w: (1, [w.s.members[2]], [5_000, 1], b"\x22" * 32), "oracle",
         "insurance: length mismatch"),
        ("post_expected", lambda w: (0, [w.s.members[0]], [5_000], b"\x22" * 32), "oracle",
         "insurance: expected already posted"),
        ("report_outage", lambda w: (1, w.newcomer, 0), "oracle", "insurance: not a member"),
        ("report_outage", lambda w: (0, w.s.members[0], 0), "oracle", "insurance: outage already reported"),
        ("submit_readings", lambda w: (w.reading(0, MEASURED_0, i=0),), "outsider",
         "insurance: reading already recorded"),
        ("claim", lambda w: (0, 8_000), "other_member", "insurance: no outage recorded"),
    ]
    w = fresh(backend)
    for fn, args, role, reason in cases:
        with pytest.raises(ChainRevert) as exc:
            w.call(fn, *args(w), sender=w.accounts[role])
        assert exc.value.reason == reason, (fn, reason)
    zero = "0x" + "00" * 20
    for token, oracle in ((zero, w.s.oracle), (w.s.token.address, zero)):
        with pytest.raises(ChainRevert, match="insurance: zero address"):
            MutualInsurance.deploy(w.s.chain, insurer=w.s.insurer, token=token, oracle=oracle, t0_s=T0_S,
                                   period_s=PERIOD_S, price_ueur_per_kwh=PRICE, threshold_bps=THRESHOLD_BPS)


def test_premiums_before_the_first_period_are_for_period_0_only():
    s = make_insurance("revm")  # the chain's clock is before t0
    with pytest.raises(ChainRevert, match="insurance: premiums for the current or next period only"):
        s.ins.collect_premiums(1, sender=s.insurer)
    s.ins.collect_premiums(0, sender=s.insurer)
    s.in_period(0)
    s.ins.collect_premiums(1, sender=s.insurer)  # during period 0: period 0 (already paid, nothing moves) or 1
    assert s.ins.call("total_premiums_ueur") == 2 * 3 * PREMIUM


def test_membership_is_bounded():
    s = make_insurance("revm")
    for i in range(3, 128):
        s.ins.join(s.chain.new_account(key_for(0, f"m{i}")), key_for(0, f"k{i}").public_key.to_checksum_address(),
                   SUM_INSURED, PREMIUM, COVER, MAX_WH, sender=s.insurer)
    with pytest.raises(ChainRevert, match="insurance: too many members"):
        s.ins.join(s.chain.new_account(key_for(0, "m128")), key_for(0, "k128").public_key.to_checksum_address(),
                   SUM_INSURED, PREMIUM, COVER, MAX_WH, sender=s.insurer)
