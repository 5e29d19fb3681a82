"""The certificate registry's actors: the weather oracle, who posts each site's weather-limited maximum per
interval with the hash of the weather record it used, and the issuer, who mints certificates from the sites'
meter-signed readings (EnergyTag: issued Wh = floor(min(validated metered, cap)), measured intervals only)."""

from __future__ import annotations

import mesa
import numpy as np

from contracts.certificates import CapPost, MintRequest, cert_id
from contracts.eip712 import QUALITY_MEASURED, SignedReading


class WeatherOracle(mesa.Agent):
    """Posts, once an interval is over, every site's cap [Wh] and weather record hash (hex)."""

    def __init__(self, model: mesa.Model, *, account: str, certificates, device_ids: list[int],
                 caps_wh: np.ndarray, record_hashes: list[list[str]]):
        super().__init__(model)
        self.account, self._certs = account, certificates
        self.device_ids = device_ids
        self.caps_wh, self.record_hashes = caps_wh, record_hashes  # (sites, periods)

    def post(self, period: int) -> list[tuple[CapPost, str]]:
        return self.post_periods([period])

    def post_periods(self, periods: list[int]) -> list[tuple[CapPost, str]]:
        """Every site's cap of each of ``periods`` (intervals over), in as few transactions as fit."""
        caps = [CapPost(d, p, int(self.caps_wh[j][p]), bytes.fromhex(self.record_hashes[j][p]))
                for p in periods for j, d in enumerate(self.device_ids)]
        return self._certs.post_caps(caps, sender=self.account)


class Issuer(mesa.Agent):
    """Mints each device's interval once from its meter's signed reading: min(metered, cap) Wh, the cap read
    from the contract; estimated intervals and zero amounts issue nothing."""

    def __init__(self, model: mesa.Model, *, account: str, certificates):
        super().__init__(model)
        self.account, self._certs = account, certificates

    def issue(self, readings: list[tuple[int, SignedReading]]) -> list[tuple[int, str]]:
        """(amount minted [Wh], status) per (device_id, reading): ``minted``, ``estimated``, ``zero`` or the
        contract's reason for a refusal."""
        out: list[tuple[int, str]] = []
        requests: list[MintRequest] = []
        caps = self._certs.caps([cert_id(d, r.period) for d, r in readings]) if readings else []
        for (device_id, r), cap in zip(readings, caps):
            if r.quality != QUALITY_MEASURED:
                out.append((0, "estimated"))
                continue
            amount = min(r.energy_wh, cap)
            if amount <= 0:
                out.append((0, "zero"))
                continue
            requests.append(MintRequest(device_id, amount, r))
            out.append((amount, "minted"))
        refused = {(m.device_id, m.reading.period): reason for m, reason in self._certs.mint(requests,
                                                                                              sender=self.account)}
        return [(0, refused[(d, r.period)]) if (d, r.period) in refused else res
                for (d, r), res in zip(readings, out)]
