"""The hourly certificate market: integer pro-rata shares by largest remainder, the hour's clearing
(producers' offers against consumers' demand), and the exchange that executes the trades.

Producers authorise the exchange to move their certificates (ERC-1155 ``setApprovalForAll``); the exchange
clears each interval as soon as its certificates are minted and executes every sale of the interval in one
transaction (``transfer_many``), each sale a transfer from the producer to the consumer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import mesa

from agents.allocation import largest_remainder
from contracts.certificates import Transfer


@dataclass(frozen=True)
class Offer:
    producer: str  # the producer's account
    id: int  # certificate id
    wh: int


@dataclass(frozen=True)
class Sale:
    producer: str
    consumer: str
    id: int
    wh: int


def clear_pro_rata(offers: Sequence[Offer], demand_wh: dict[str, int]) -> list[Sale]:
    """Clear one hour: the volume traded is min(offered, demanded); each consumer gets a share of it
    proportional to its demand (largest remainder, so never more than its demand), filled from the offers in
    order (a merit order of equal prices). Consumers in the order of ``demand_wh``."""
    supply = sum(o.wh for o in offers)
    consumers = [c for c, wh in demand_wh.items() if wh > 0]
    demand = sum(demand_wh[c] for c in consumers)
    traded = min(supply, demand)
    if traded <= 0:
        return []
    grants = largest_remainder(traded, [demand_wh[c] for c in consumers])
    sales: list[Sale] = []
    stock = [[o, o.wh] for o in offers if o.wh > 0]
    i = 0
    for consumer, need in zip(consumers, grants):
        while need > 0:
            offer, left = stock[i]
            take = min(left, need)
            sales.append(Sale(offer.producer, consumer, offer.id, take))
            stock[i][1] -= take
            need -= take
            if stock[i][1] == 0:
                i += 1
    return sales


class CertificateExchange(mesa.Agent):
    def __init__(self, model: mesa.Model, *, account: str, certificates):
        super().__init__(model)
        self.account, self._certs = account, certificates

    def approve_for(self, consumers: Sequence) -> None:
        """Each consumer lets the exchange claim for it (``set_retirer``, once, on chain), for bulk settlement."""
        self._certs.set_retirer_for([c.account for c in consumers], self.account)

    def sell_and_retire(self, intervals: Sequence[tuple[Sequence[Offer], dict[str, int]]]) -> tuple[list[Sale], list]:
        """Clear each interval as ``trade`` does (``intervals``: its offers and demand [Wh]) and execute every sale
        of them all at once, each retired at once for its buyer against its consumption in that interval (the
        buyer never holds more than its demand, so it claims all it buys, as ``CertificateConsumer.retire``);
        returns the sales and the refused ones."""
        sales = [s for offers, demand_wh in intervals for s in clear_pro_rata(offers, demand_wh)]
        transfers = [Transfer(s.producer, s.consumer, s.id, s.wh) for s in sales]
        refused = self._certs.sell_and_retire(transfers, sender=self.account) if transfers else []
        return sales, refused

    def trade(self, offers: Sequence[Offer], demand_wh: dict[str, int]) -> tuple[list[Sale], list]:
        """Clear the interval and execute its sales; returns the sales and the refused transfers."""
        sales = clear_pro_rata(offers, demand_wh)
        transfers = [Transfer(s.producer, s.consumer, s.id, s.wh) for s in sales]
        refused = self._certs.transfer_many(transfers, sender=self.account) if transfers else []
        return sales, refused
