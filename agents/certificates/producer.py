"""Producer: the owner of a generation site, issued its site's certificates, who offers each interval's
certificates on the exchange as soon as they are minted."""

from __future__ import annotations

import mesa

from agents.certificates.market import Offer
from contracts.certificates import cert_id


class Producer(mesa.Agent):
    def __init__(self, model: mesa.Model, *, site: str, technology: str, account: str, device_id: int,
                 certificates):
        super().__init__(model)
        self.site, self.technology, self.account, self.device_id = site, technology, account, device_id
        self._certs = certificates

    def certificate(self, period: int) -> int:
        return cert_id(self.device_id, period)

    def authorise(self, exchange: str) -> None:
        """Let the exchange move this producer's certificates (once, on chain)."""
        self._certs.set_approval_for_all(exchange, True, sender=self.account)

    def offer(self, period: int, live_wh: int) -> Offer:
        """Everything it holds of the interval's certificate (``live_wh``, read from the contract)."""
        return Offer(self.account, self.certificate(period), live_wh)
