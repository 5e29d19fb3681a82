"""Virtual meters: read the power-flow results (or a site's output, or a consumer's demand), keep export and
import energy registers, close one reading per settlement period from one of them, and sign validated readings
with their own key (EIP-712)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from eth_keys import keys

from contracts.eip712 import SignedReading, sign_reading


@dataclass(frozen=True)
class RawReading:
    """What a meter reports for a settlement period: energy of its settled register [Wh] (may be corrupted)."""

    meter_id: str
    period: int
    energy_wh: float


class VirtualMeter:
    """A bidirectional meter at a connection point; ``source = "virtual"`` (reads the physics).

    ``register`` is the one its period readings come from: ``"export"`` (a prosumer's or a generation site's
    delivery) or ``"import"`` (a consumer's consumption)."""

    unit = "Wh"
    source = "virtual"

    def __init__(self, meter_id: str, key: keys.PrivateKey, rated_kw: float, period_s: int,
                 register: Literal["export", "import"] = "export"):
        self.meter_id = meter_id
        self.register = register
        self.key = key
        self.address = key.public_key.to_checksum_address()
        self.export_register_wh = 0.0
        self.import_register_wh = 0.0
        self._closed_wh = 0
        self.max_wh_per_period = int(math.ceil(rated_kw * period_s / 3600.0 * 1000.0 * 1.1))

    def record(self, p_export_kw: float, dt_s: float) -> None:
        """Integrate the connection's power over a step (export positive) into the registers."""
        e_wh = p_export_kw * dt_s / 3.6
        if e_wh >= 0:
            self.export_register_wh += e_wh
        else:
            self.import_register_wh -= e_wh

    def close_period(self, period: int) -> RawReading:
        """The period's energy: difference of the settled register's whole-Wh values, so nothing is lost to
        rounding."""
        now = math.floor(self.import_register_wh if self.register == "import" else self.export_register_wh)
        reading = RawReading(self.meter_id, period, float(now - self._closed_wh))
        self._closed_wh = now
        return reading

    def sign(self, domain_separator: bytes, period: int, energy_wh: int, quality: int) -> SignedReading:
        return sign_reading(self.key, domain_separator, period, energy_wh, quality, meter=self.address)


def corrupt(reading, rng: np.random.Generator, drop_p: float, spike_p: float):
    """Fault injection for VEE experiments: drop a reading or multiply its energy into a spike (seeded).
    Works on any frozen reading dataclass with an ``energy_wh`` field (electricity or heat)."""
    u = rng.random(2)
    if u[0] < drop_p:
        return None
    if u[1] < spike_p:
        return replace(reading, energy_wh=reading.energy_wh * 25.0 + 5000.0)
    return reading
