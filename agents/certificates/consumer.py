"""Consumer: an electricity customer with a consumption meter who buys certificates for each hour's
consumption and retires them against that same hour (24/7 carbon-free matching, EnergyTag). It claims once a
day, for every hour of the day, in one transaction."""

from __future__ import annotations

import mesa

from contracts.certificates import Retirement


class CertificateConsumer(mesa.Agent):
    def __init__(self, model: mesa.Model, *, name: str, account: str, certificates):
        super().__init__(model)
        self.name, self.account = name, account
        self._certs = certificates

    def retire(self, holdings: dict[int, dict[int, int]], consumed_wh: dict[int, int]) -> list[tuple[Retirement, str]]:
        """Retire, per interval, what it holds of that interval's certificates (``holdings``: period -> id -> Wh,
        read from the contract) up to its metered consumption there (``consumed_wh``: period -> Wh), claimed for
        itself against that same interval."""
        claims = []
        for period, held in sorted(holdings.items()):
            left = consumed_wh.get(period, 0)
            for id_, wh in sorted(held.items()):
                take = min(wh, left)
                if take > 0:
                    claims.append(Retirement(id_, take, self.account, period))
                    left -= take
        return self._certs.retire_many(claims, sender=self.account) if claims else []
