"""EuroToken's batch entry points on both backends: ``transfer_many`` and ``transfer_packed`` (one debit of the
caller, one credit and one Transfer per receiver) and ``mint_many`` (one Transfer from the zero address per receiver,
as ``mint``)."""

from __future__ import annotations

import pytest

from contracts.backends import make_chain
from contracts.chain import ChainRevert
from contracts.eip712 import key_for
from contracts.token import EuroToken, pack_payment

GENESIS_S = 1_700_000_000
ZERO = "0x" + "00" * 20


@pytest.fixture(params=["py-evm", "revm"])
def t(request):
    chain = make_chain(request.param, GENESIS_S, seed=3)
    bank, payer = (chain.new_account(key_for(3, x)) for x in ("bank", "payer"))
    receivers = [chain.new_account(key_for(3, f"receiver-{i}")) for i in range(5)]
    token = EuroToken.deploy(chain, minter=bank)
    token.mint(payer, 1_000_000, sender=bank)
    return chain, token, bank, payer, receivers


def balances(token, accounts):
    return [token.balance_of(a) for a in accounts]


def test_transfer_many_debits_once_credits_each_and_logs_one_transfer_per_receiver(t):
    chain, token, bank, payer, rs = t
    # a repeated receiver and the payer itself among the receivers: every credit counts
    to = [rs[0], rs[1], rs[2], rs[0], payer]
    amounts = [100_000, 250_000, 1, 49_999, 7]
    receipt = token.transfer_many(to, amounts, sender=payer)
    assert token.balance_of(payer) == 1_000_000 - sum(amounts) + 7
    assert balances(token, rs[:3]) == [149_999, 250_000, 1]
    assert token.total_supply() == 1_000_000 == sum(balances(token, [payer, *rs]))
    transfers = [(e.contract, e.args["sender"], e.args["receiver"], e.args["value"])
                 for e in receipt.events if e.event == "Transfer"]
    assert transfers == [("EuroToken", payer, r, a) for r, a in zip(to, amounts)]


def test_transfer_many_of_the_whole_balance_and_of_nothing(t):
    chain, token, bank, payer, rs = t
    assert token.transfer_many([], [], sender=payer).events == []
    token.transfer_many(rs[:2], [600_000, 400_000], sender=payer)
    assert token.balance_of(payer) == 0 and balances(token, rs[:2]) == [600_000, 400_000]


def test_transfer_many_beyond_the_balance_reverts_and_changes_nothing(t):
    chain, token, bank, payer, rs = t
    with pytest.raises(ChainRevert, match="token: balance too low"):
        token.transfer_many(rs[:3], [500_000, 500_000, 1], sender=payer)
    # a sum that overflows uint256 must not wrap to a small debit
    with pytest.raises(ChainRevert):
        token.transfer_many(rs[:2], [2**256 - 1, 2], sender=payer)
    assert token.balance_of(payer) == 1_000_000 and balances(token, rs) == [0] * 5


def test_transfer_many_with_lengths_that_differ_reverts(t):
    chain, token, bank, payer, rs = t
    with pytest.raises(ValueError, match="differ in length"):  # the wrapper refuses before sending
        token.transfer_many(rs[:2], [1], sender=payer)
    with pytest.raises(ChainRevert, match="token: receivers and amounts differ in length"):
        chain.transact(token.contract, "transfer_many", rs[:2], [1], sender=payer)
    with pytest.raises(ChainRevert, match="token: receivers and amounts differ in length"):
        chain.transact(token.contract, "transfer_many", rs[:1], [1, 2], sender=payer)
    assert token.balance_of(payer) == 1_000_000


def test_transfer_many_to_the_zero_address_reverts(t):
    chain, token, bank, payer, rs = t
    with pytest.raises(ChainRevert, match="token: transfer to the zero address"):
        token.transfer_many([rs[0], ZERO], [1, 1], sender=payer)
    assert token.balance_of(payer) == 1_000_000 and token.balance_of(rs[0]) == 0


def test_transfer_many_takes_up_to_256_receivers(t):
    chain, token, bank, payer, rs = t
    to = [rs[i % 5] for i in range(256)]
    token.transfer_many(to, list(range(256)), sender=payer)
    assert sum(balances(token, rs)) == sum(range(256))
    with pytest.raises(ValueError, match="> 256"):
        token.transfer_many(to + [rs[0]], [0] * 257, sender=payer)
    with pytest.raises(ChainRevert):  # the ABI decoder refuses an array beyond its bound
        chain.transact(token.contract, "transfer_many", to + [rs[0]], [0] * 257, sender=payer)


def test_mint_many_credits_each_receiver_and_the_supply(t):
    chain, token, bank, payer, rs = t
    receipt = token.mint_many(rs[:3], [5, 0, 10**9], sender=bank)
    assert balances(token, rs[:3]) == [5, 0, 10**9]
    assert token.total_supply() == 1_000_000 + 5 + 10**9 == sum(balances(token, [payer, *rs]))
    assert [(e.args["sender"], e.args["receiver"], e.args["value"]) for e in receipt.events] == [
        (ZERO, rs[0], 5), (ZERO, rs[1], 0), (ZERO, rs[2], 10**9)]


def test_mint_many_refuses_others_lengths_that_differ_zero_address_and_overflow(t):
    chain, token, bank, payer, rs = t
    with pytest.raises(ChainRevert, match="token: caller is not the minter"):
        token.mint_many(rs[:1], [1], sender=payer)
    with pytest.raises(ChainRevert, match="token: receivers and amounts differ in length"):
        chain.transact(token.contract, "mint_many", rs[:2], [1], sender=bank)
    with pytest.raises(ChainRevert, match="token: mint to the zero address"):
        token.mint_many([rs[0], ZERO], [1, 1], sender=bank)
    with pytest.raises(ChainRevert):  # the supply would overflow
        token.mint_many([rs[0], rs[1]], [2**255, 2**255], sender=bank)
    assert token.total_supply() == 1_000_000 and balances(token, rs) == [0] * 5


def test_transfer_packed_debits_once_credits_each_and_logs_one_transfer_per_payment(t):
    chain, token, bank, payer, rs = t
    receipt = token.transfer_packed([(rs[0], 100), (rs[1], 0), (rs[0], 250_000), (payer, 7)], sender=payer)
    assert balances(token, [payer, rs[0], rs[1]]) == [1_000_000 - 250_100, 250_100, 0]
    assert [(e.args["sender"], e.args["receiver"], e.args["value"]) for e in receipt.events] == [
        (payer, rs[0], 100), (payer, rs[1], 0), (payer, rs[0], 250_000), (payer, payer, 7)]
    assert token.transfer_packed([], sender=payer).events == []


def test_transfer_packed_refuses_the_zero_address_and_a_balance_too_low(t):
    chain, token, bank, payer, rs = t
    with pytest.raises(ChainRevert, match="token: transfer to the zero address"):
        token.transfer_packed([(rs[0], 1), (ZERO, 1)], sender=payer)
    with pytest.raises(ChainRevert, match="token: balance too low"):
        token.transfer_packed([(rs[0], 600_000), (rs[1], 400_001)], sender=payer)
    assert balances(token, [payer, *rs]) == [1_000_000] + [0] * 5


def test_transfer_packed_amounts_up_to_2_96_and_no_further(t):
    chain, token, bank, payer, rs = t
    top = 2**96 - 1
    token.mint(payer, 2 * top, sender=bank)
    token.transfer_packed([(rs[0], top), (rs[1], top)], sender=payer)  # the sum exceeds 2**96: added in 256 bits
    assert balances(token, rs[:2]) == [top, top]
    with pytest.raises(ValueError, match="does not pack beside an address"):
        token.transfer_packed([(rs[0], 2**96)], sender=payer)
    with pytest.raises(ValueError, match="does not pack beside an address"):
        token.transfer_packed([(rs[0], -1)], sender=payer)
    assert pack_payment(rs[2], top) >> 160 == top and pack_payment(rs[2], top) & (2**160 - 1) == int(rs[2], 16)
