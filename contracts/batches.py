"""Posting signed readings in batches: one transaction per batch; a batch that reverts is retried one reading
at a time, so that each bad reading is refused by the contract with its reason and each good one still lands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contracts.chain import Chain, ChainRevert, Contract


@dataclass(frozen=True)
class Refused:
    reading: Any  # a SignedReading or SignedHeatReading
    reason: str


def submit_in_batches(chain: Chain, contract: Contract, fn: str, readings: list, *, sender: str,
                      max_batch: int) -> list[Refused]:
    """Call ``contract.fn(batch)`` for batches of ``reading.as_tuple()``; returns the refused readings."""
    refused: list[Refused] = []
    for i in range(0, len(readings), max_batch):
        batch = readings[i : i + max_batch]
        try:
            chain.transact(contract, fn, [r.as_tuple() for r in batch], sender=sender)
        except ChainRevert:
            for r in batch:
                try:
                    chain.transact(contract, fn, [r.as_tuple()], sender=sender)
                except ChainRevert as exc:
                    refused.append(Refused(r, exc.reason))
    return refused
