"""EuroToken: every state-changing function from every role that must not call it, and every argument at its
bounds, refused with its reason (tests/contracts/bounds.py); the supply's maximum itself accepted."""

from __future__ import annotations

import pytest
from hypothesis import given

from contracts.backends import make_chain
from contracts.eip712 import key_for
from contracts.token import EuroToken
from tests.contracts.bounds import (
    BACKENDS,
    FAST,
    HUGE,
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
from tests.contracts.conftest import GENESIS_S

MAX_SUPPLY = 2**128 - 1
SUPPLY = 10**12  # minted to the holder
NOT_MINTER = "token: caller is not the minter"


@pytest.fixture(scope="module", params=BACKENDS)
def world(request) -> World:
    """A EuroToken; the holder has SUPPLY ueur and approved the spender for 1000. Roles: minter, holder, spender,
    stranger."""
    chain = make_chain(request.param, GENESIS_S)
    minter, holder, spender, stranger = (chain.new_account(key_for(0, r))
                                         for r in ("minter", "holder", "spender", "stranger"))
    token = EuroToken.deploy(chain, minter=minter)
    token.mint(holder, SUPPLY, sender=minter)
    token.approve(spender, 1000, sender=holder)
    return World(chain, {"token": token.contract},
                 {"minter": minter, "holder": holder, "spender": spender, "stranger": stranger}, {"token": token})


def _each(fn, label, values, build, reason, role):
    return cases("token", fn, label, values, build, reason, role)


def _packed(w, amount, receiver=None):
    return ([amount << 160 | int(receiver or w.roles["stranger"], 16)],)


ROWS = [
    *roles("token", "mint", lambda w: (w.roles["holder"], 1), ["holder", "spender", "stranger"], NOT_MINTER),
    *_each("mint", "receiver", [ZERO], lambda w, x: (x, 1), "token: mint to the zero address", "minter"),
    *_each("mint", "amount", beyond(MAX_SUPPLY - SUPPLY), lambda w, x: (w.roles["holder"], x),
           "token: supply above 2**128 ueur", "minter"),
    *roles("token", "mint_many", lambda w: ([w.roles["holder"]], [1]), ["holder", "stranger"], NOT_MINTER),
    *_each("mint_many", "n", [0, 2], lambda w, x: ([w.roles["holder"]], [1] * x),
           "token: receivers and amounts differ in length", "minter"),
    *_each("mint_many", "receiver", [ZERO], lambda w, x: ([w.roles["holder"], x], [1, 1]),
           "token: mint to the zero address", "minter"),
    *_each("mint_many", "amount", beyond(MAX_SUPPLY), lambda w, x: ([w.roles["holder"]], [x]),
           "token: supply above 2**128 ueur", "minter"),
    *_each("mint_many", "sum", [MAX_SUPPLY - SUPPLY], lambda w, x: ([w.roles["holder"]] * 2, [x, 1]),
           "token: supply above 2**128 ueur", "minter"),
    *_each("transfer", "receiver", [ZERO], lambda w, x: (x, 1), "token: transfer to the zero address", "holder"),
    *_each("transfer", "amount", beyond(SUPPLY), lambda w, x: (w.roles["stranger"], x), "token: balance too low",
           "holder"),
    *_each("transfer", "amount-of-none", [1, *HUGE], lambda w, x: (w.roles["holder"], x), "token: balance too low",
           "stranger"),
    *_each("transfer_many", "n", [0, 2], lambda w, x: ([w.roles["stranger"]], [1] * x),
           "token: receivers and amounts differ in length", "holder"),
    *_each("transfer_many", "receiver", [ZERO], lambda w, x: ([w.roles["stranger"], x], [1, 1]),
           "token: transfer to the zero address", "holder"),
    *_each("transfer_many", "amount", beyond(SUPPLY), lambda w, x: ([w.roles["stranger"]] * 2, [1, x]),
           "token: balance too low", "holder"),
    *_each("transfer_many", "sum", [SUPPLY], lambda w, x: ([w.roles["stranger"]] * 2, [x, 1]),
           "token: balance too low", "holder"),
    *_each("transfer_packed", "receiver", [ZERO], lambda w, x: _packed(w, 1, x), "token: transfer to the zero address",
           "holder"),
    *_each("transfer_packed", "amount", [SUPPLY + 1, 2**96 - 1], lambda w, x: _packed(w, x), "token: balance too low",
           "holder"),
    *_each("transferFrom", "amount", beyond(1000), lambda w, x: (w.roles["holder"], w.roles["stranger"], x),
           "token: allowance too low", "spender"),
    *roles("token", "transferFrom", lambda w: (w.roles["holder"], w.roles["stranger"], 1), ["stranger", "minter"],
           "token: allowance too low"),
    *_each("transferFrom", "receiver", [ZERO], lambda w, x: (w.roles["holder"], x, 1),
           "token: transfer to the zero address", "spender"),
    *_each("approve", "spender", [ZERO], lambda w, x: (x, 1), "token: approve to the zero address", "holder"),
]


test_refused_with_its_reason, test_every_state_changing_function_is_covered = row_tests(ROWS, "EuroToken")


@FAST
@given(amount=above(MAX_SUPPLY - SUPPLY))
def test_any_mint_beyond_the_supply_maximum_is_refused(world, amount):
    refused(world, Refusal("mint", "token", "mint", lambda w: (w.roles["holder"], amount), "minter",
                           "token: supply above 2**128 ueur"))
    refused(world, Refusal("transfer_many", "token", "transfer_many", lambda w: ([w.roles["stranger"]], [amount]),
                           "holder", "token: balance too low"))


def test_the_supply_maximum_is_accepted(backend):
    chain = make_chain(backend, GENESIS_S)
    minter, holder = chain.new_account(key_for(0, "minter")), chain.new_account(key_for(0, "holder"))
    token = EuroToken.deploy(chain, minter=minter)
    token.mint_many([holder, minter], [MAX_SUPPLY - 1, 1], sender=minter)
    assert token.total_supply() == MAX_SUPPLY
    token.transfer_many([minter, minter], [MAX_SUPPLY - 2, 1], sender=holder)
    assert token.balance_of(minter) == MAX_SUPPLY
