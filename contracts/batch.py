"""Post many signed items in batch transactions; a batch that reverts is retried item by item so that each bad
item is refused by the contract with its reason and each good one still lands."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from contracts.chain import ChainRevert

MAX_BATCH = 256


@dataclass(frozen=True)
class Refused:
    """An item the contract refused, with its reason string."""

    item: Any
    reason: str

    @property
    def reading(self):  # the VPP wrapper's name for the item
        return self.item


def post_in_batches(send: Callable[[list[tuple]], Any], items: Sequence, max_batch: int = MAX_BATCH) -> list[Refused]:
    """Call ``send`` with the items' ``as_tuple()`` in batches of ``max_batch``; returns the refused items."""
    refused: list[Refused] = []
    for i in range(0, len(items), max_batch):
        batch = items[i : i + max_batch]
        try:
            send([x.as_tuple() for x in batch])
        except ChainRevert:
            for x in batch:
                try:
                    send([x.as_tuple()])
                except ChainRevert as exc:
                    refused.append(Refused(x, exc.reason))
    return refused
