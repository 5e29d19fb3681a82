"""Batch entry points: many items per transaction; a batch that reverts is retried item by item so that each
bad item is refused by the contract with its own reason and each good one still lands."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from contracts.chain import ChainRevert

T = TypeVar("T")
MAX_BATCH = 256  # the contracts' DynArray bound


@dataclass(frozen=True)
class Refused:
    """A signed reading the contract refused, with its revert reason."""

    reading: Any
    reason: str


def post_in_batches(send: Callable[[list[T]], object], items: Sequence[T], max_batch: int = MAX_BATCH
                    ) -> list[tuple[T, str]]:
    """Call ``send(batch)`` for batches of ``items``; returns the refused items with the contract's reason."""
    refused: list[tuple[T, str]] = []
    for i in range(0, len(items), max_batch):
        batch = list(items[i : i + max_batch])
        try:
            send(batch)
        except ChainRevert:
            for item in batch:
                try:
                    send([item])
                except ChainRevert as exc:
                    refused.append((item, exc.reason))
    return refused
