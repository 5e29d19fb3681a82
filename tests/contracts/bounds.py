"""Shared helpers of the access-control and range tests (``tests/contracts/test_bounds_*.py``).

Every state-changing function of a contract is called from every role that must not call it, and with each
argument at its bounds (0, the documented maximum and one above, 2**255, 2**256 - 1), and must be refused with
its namespaced reason: never accepted, never a bare revert (an overflow or a failed conversion). A test module
describes its calls as ``Refusal`` rows (``roles`` and ``beyond`` build them) and runs them on a module-scoped
``World`` per backend: a refused call changes nothing, so every row can share one deployment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from contracts.chain import BaseChain, ChainRevert, Contract

BACKENDS = ("py-evm", "revm")
U256_MAX = 2**256 - 1
HUGE = (2**255, U256_MAX)  # appended to every "beyond the maximum" list
ZERO = "0x" + "00" * 20  # the zero address, refused wherever an address is given
# a few random draws above a maximum per property test: each is a transaction on py-evm
FAST = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@dataclass
class World:
    """A chain, its contracts by name and its accounts by role; ``ctx`` holds whatever else a module needs."""

    chain: BaseChain
    contracts: dict[str, Contract]
    roles: dict[str, str]
    ctx: dict[str, Any]

    def send(self, contract: str, fn: str, args: tuple, role: str):
        return self.chain.transact(self.contracts[contract], fn, *args, sender=self.roles[role])


@dataclass(frozen=True)
class Refusal:
    """``contract.fn(*args(world))`` sent by ``role`` must revert with ``reason``."""

    id: str
    contract: str
    fn: str
    args: Callable[[World], tuple]
    role: str
    reason: str


def short(value: Any) -> str:
    """A short test id for a value (powers of two by their exponent)."""
    if isinstance(value, int) and value > 10**6:
        for e in range(257):
            for off, tag in ((0, ""), (-1, "-1"), (1, "+1")):
                if value == 2**e + off:
                    return f"2**{e}{tag}"
        return f"{value:.3g}"
    return str(value)


def beyond(maximum: int, *extra: int) -> list[int]:
    """``maximum + 1``, ``extra``, 2**255 and 2**256 - 1: values above a documented maximum, without repeats."""
    out = []
    for v in (maximum + 1, *extra, *HUGE):
        if v not in out and v <= U256_MAX:
            out.append(v)
    return out


def above(maximum: int) -> st.SearchStrategy[int]:
    """Any uint256 above ``maximum`` (hypothesis), the edges most often."""
    return st.one_of(st.sampled_from(beyond(maximum)), st.integers(maximum + 1, U256_MAX))


def cases(contract: str, fn: str, label: str, values: Iterable[Any], build: Callable[[World, Any], tuple],
          reason: str, role: str) -> list[Refusal]:
    """One ``Refusal`` per value: ``fn`` with ``build(world, value)`` as arguments."""
    return [Refusal(f"{fn}-{label}={short(v)}", contract, fn, (lambda w, v=v: build(w, v)), role, reason)
            for v in values]


def roles(contract: str, fn: str, args: Callable[[World], tuple], intruders: Sequence[str], reason: str
          ) -> list[Refusal]:
    """One ``Refusal`` per role that must not call ``fn``."""
    return [Refusal(f"{fn}-by-{who}", contract, fn, args, who, reason) for who in intruders]


def refused(world: World, r: Refusal) -> None:
    """The call is refused with exactly its reason (a bare revert or another reason fails)."""
    with pytest.raises(ChainRevert) as exc:
        world.send(r.contract, r.fn, r.args(world), r.role)
    assert exc.value.reason == r.reason, f"{r.id}: {exc.value.reason!r}"


def refusals_by_id(rows: list[Refusal]):
    """``pytest.mark.parametrize`` over refusals, each named by its id."""
    ids = [r.id for r in rows]
    assert len(set(ids)) == len(ids), sorted(i for i in ids if ids.count(i) > 1)
    return pytest.mark.parametrize("refusal", rows, ids=ids)


def state_changing(contract: Contract) -> set[str]:
    """The functions of ``contract`` that may change state (its ABI: neither view nor pure)."""
    return {i["name"] for i in contract.compiled.abi
            if i["type"] == "function" and i.get("stateMutability") not in ("view", "pure")}


def uncovered(rows: list[Refusal], world: World, name: str) -> set[str]:
    """State-changing functions of the contract ``name`` (its source's name) that no refusal row calls."""
    keys = {k for k, c in world.contracts.items() if c.name == name}
    contract = next(world.contracts[k] for k in keys)
    return state_changing(contract) - {r.fn for r in rows if r.contract in keys}


def row_tests(rows: list[Refusal], name: str):
    """The two tests every bounds module runs on its rows: each row refused with its reason, and no state-changing
    function of the contract ``name`` without a row. A module binds them to its own names:
    ``test_refused_with_its_reason, test_every_state_changing_function_is_covered = row_tests(ROWS, "X")``."""

    @refusals_by_id(rows)
    def test_refused_with_its_reason(world, refusal):
        refused(world, refusal)

    def test_every_state_changing_function_is_covered(world):
        assert uncovered(rows, world, name) == set()

    return test_refused_with_its_reason, test_every_state_changing_function_is_covered
