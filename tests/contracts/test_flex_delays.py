"""FlexDelays: the positive path, every refused report with its reason (both backends), tokens conserved."""

from __future__ import annotations

import eth_abi
import pytest
from eth_keys import keys
from eth_utils import keccak

from contracts.chain import ChainRevert
from contracts.eip712 import delay_digest
from contracts.flex import OutletSpec
from tests.contracts.flex_fixtures import OUTLETS, TOKENS_PER_KWH, make_flex
from tests.contracts.typed_data import eth_account_digest

FORGER = keys.PrivateKey(b"\x42" * 32)


@pytest.fixture
def f(backend):
    return make_flex(backend)


def test_digest_matches_eth_account_typed_data(f):
    outlet = f.outlet_keys[0].public_key.to_checksum_address()
    expected = eth_account_digest(
        "Delay",
        "address outlet,uint256 event_id,uint256 start_min,uint256 delay_min,uint256 shifted_wh,uint8 appliance",
        {"outlet": outlet, "event_id": 3, "start_min": 1000, "delay_min": 25, "shifted_wh": 4321, "appliance": 6},
        chain_id=f.chain.chain_id, contract=f.flex.address)
    assert delay_digest(f.flex.domain_separator, outlet, 3, 1000, 25, 4321, 6) == expected


def test_a_delay_is_logged_counted_and_paid_in_tokens(f):
    e = f.event(1080)  # 18:00 on day 0
    f.at_minute(1200)
    assert f.report(f.delay(0, e, 1085, 40, 7000), f.delay(1, e, 1090, 20, 36), f.delay(2, e, 1100, 60, 2000)) == []
    c0, c1 = f.customers
    assert f.flex.counters(c0) == {"delay_min": 60, "events": 1, "delays": 2, "shifted_wh": 7036,
                                   "tokens": 7036 * TOKENS_PER_KWH}
    assert f.flex.counters(c1)["delay_min"] == 60 and f.flex.counters(c1)["events"] == 1
    logged = [e for e in f.chain.events if e.event == "DelayLogged"]
    assert [(x.args["outlet"], x.args["delay_min"]) for x in logged] == [
        (f.outlet_keys[i].public_key.to_checksum_address(), d) for i, d in ((0, 40), (1, 20), (2, 60))]
    # the hash chain over the log is what the contract holds
    head = bytes(32)
    for x in logged:
        a = x.args
        head = keccak(eth_abi.encode(["bytes32", "address", "address", "uint256", "uint8", "uint256", "uint256",
                                      "uint256"], [head, a["outlet"], a["customer"], a["event_id"], a["appliance"],
                                                   a["start_min"], a["delay_min"], a["shifted_wh"]]))
        assert a["head"] == "0x" + head.hex()
    assert f.flex.call("log_head") == head


def test_token_supply_equals_balances_equals_rate_times_shifted_energy(f):
    e0, e1 = f.event(600), f.event(2000)
    f.at_minute(2200)
    assert f.report(f.delay(0, e0, 610, 30, 5001), f.delay(2, e0, 600, 50, 1234), f.delay(0, e1, 2000, 45, 8000)) == []
    c0, c1 = f.customers
    f.flex.transfer(c1, 3_000, sender=c0)  # tokens move between customers; the supply does not change
    supply = f.flex.total_supply()
    assert supply == f.flex.balance_of(c0) + f.flex.balance_of(c1)
    assert supply == TOKENS_PER_KWH * f.flex.call("total_shifted_wh") == TOKENS_PER_KWH * (5001 + 1234 + 8000)
    with pytest.raises(ChainRevert, match="flex: insufficient balance"):
        f.flex.transfer(c0, 10**12, sender=f.stranger)


BAD_REPORTS = [  # (case, the contract's revert reason)
    ("beyond_event_limit", "flex: delay exceeds the per-event limit"),
    ("beyond_daily_limit", "flex: delay exceeds the daily limit"),
    ("no_delay_hour", "flex: delay in a no-delay hour"),
    ("no_such_event", "flex: no such DR event"),
    ("someone_else", "flex: bad signature"),
    ("replay", "flex: delay already reported"),
    ("unregistered", "flex: unregistered outlet"),
    ("outside_event", "flex: delay outside the DR event"),
    ("not_over", "flex: delay not over"),
    ("above_rated_power", "flex: shifted energy above rated power"),
    ("wrong_appliance", "flex: wrong appliance"),
]


def _bad_report(f, case):
    """Set the chain up for ``case`` and return (the bad report, delays logged before it)."""
    e = f.event(600)  # 10:00-12:00 on day 0
    if case == "beyond_daily_limit":  # outlet 0: 90 min a day; 30 + 20 logged, then 41 more on the same day
        e2, e3 = f.event(720), f.event(840)  # each after the one before (events never overlap)
        f.at_minute(900)
        assert f.report(f.delay(0, e, 600, 30, 1000), f.delay(0, e2, 720, 20, 100)) == []
        return f.delay(0, e3, 840, 41, 100), 2
    f.at_minute(800)
    good = f.delay(0, e, 600, 30, 1000)
    if case == "replay":
        assert f.report(good) == []
        return good, 1
    if case == "no_delay_hour":  # 06:00-08:00 is a no-delay window of outlet 0
        e3 = f.event(1440 + 400)
        f.at_minute(1440 + 500)
        return f.delay(0, e3, 1440 + 400, 10, 100), 0
    if case == "not_over":
        e4 = f.event(890)
        return f.delay(0, e4, 890, 30, 100), 0  # ends at minute 920; the chain is at minute 890
    return {
        "beyond_event_limit": lambda: f.delay(0, e, 600, OUTLETS[0][3] + 1, 1000),
        "no_such_event": lambda: f.delay(0, 99, 600, 10, 100),
        "someone_else": lambda: type(good)(good.outlet, *f.delay(0, e, 640, 10, 100, key=FORGER).as_tuple()[1:]),
        "unregistered": lambda: f.delay(0, e, 600, 10, 100, key=FORGER),
        "outside_event": lambda: f.delay(0, e, 700, 30, 100),
        "above_rated_power": lambda: f.delay(1, e, 600, 10, 110 * 10 // 60 + 1),
        "wrong_appliance": lambda: f.delay(0, e, 600, 10, 100, code=2),
    }[case](), 0


@pytest.mark.parametrize("case, reason", BAD_REPORTS)
def test_each_bad_report_reverts_with_its_reason(f, case, reason):
    bad, logged_before = _bad_report(f, case)
    supply = f.flex.total_supply()
    refused = f.report(bad)
    assert [why for _, why in refused] == [reason]
    assert f.flex.call("n_delays") == logged_before
    assert f.flex.total_supply() == supply


def test_only_the_operator_opens_events_and_registers_outlets(f):
    f.at_minute(100)
    with pytest.raises(ChainRevert, match="flex: caller is not the operator"):
        f.flex.create_event(200, 30, 1000, sender=f.stranger)
    with pytest.raises(ChainRevert, match="flex: caller is not the operator"):
        f.flex.register_outlets([OutletSpec(f.stranger, f.stranger, 1, 100, 10, 10, 0)], sender=f.stranger)
    with pytest.raises(ChainRevert, match="flex: DR event starts in the past"):
        f.flex.create_event(98, 30, 1000, sender=f.operator)
    with pytest.raises(ChainRevert, match="flex: outlet already registered"):
        key = f.outlet_keys[0].public_key.to_checksum_address()
        f.flex.register_outlets([OutletSpec(key, f.stranger, 1, 100, 10, 10, 0)], sender=f.operator)
    with pytest.raises(ChainRevert, match="flex: event limit above daily limit"):
        f.flex.register_outlets([OutletSpec(f.stranger, f.stranger, 1, 100, 20, 10, 0)], sender=f.operator)
    assert f.flex.call("n_events") == 0


def test_a_bad_report_in_a_batch_does_not_stop_the_good_ones(f):
    e = f.event(600)
    f.at_minute(800)
    refused = f.report(f.delay(0, e, 600, 30, 100), f.delay(1, e, 600, 31, 10), f.delay(2, e, 600, 30, 100))
    assert [(item.outlet, why) for item, why in refused] == [
        (f.outlet_keys[1].public_key.to_checksum_address(), "flex: delay exceeds the per-event limit")]
    assert f.flex.call("n_delays") == 2
