"""Virtual meters: read the power-flow results (or a site's output, or a consumer's demand), keep export and
import energy registers, close one reading per settlement period from one of them, and sign validated readings
with their own key (EIP-712)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from eth_keys import keys

from contracts.eip712 import (
    SignedReading,
    SignedReadingBatch,
    sign_reading,
    sign_reading_batch,
)


@dataclass(frozen=True, slots=True)
class RawReading:
    """What a meter reports for a settlement period: energy of its settled register over the period [Wh] (may be
    corrupted) and, if the meter reports it, that register's whole-Wh value at the period end [Wh] (VEE's
    ``frozen`` rule and its gap estimates use it; ``sim.measurement.vee``)."""

    meter_id: str
    period: int
    energy_wh: float
    clock_offset_s: float = 0.0  # the meter's time stamp of the period end minus the head-end's clock [s]
    register_wh: float | None = None  # the cumulative register at the period end [Wh]; None: not reported


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
        rounding; with the register's whole-Wh value at the period end [Wh]."""
        now = math.floor(self.import_register_wh if self.register == "import" else self.export_register_wh)
        reading = RawReading(self.meter_id, period, float(now - self._closed_wh), register_wh=float(now))
        self._closed_wh = now
        return reading

    def sign(self, domain_separator: bytes, period: int, energy_wh: int, quality: int) -> SignedReading:
        return sign_reading(self.key, domain_separator, period, energy_wh, quality, meter=self.address)

    def sign_batch(self, domain_separator: bytes, first_period: int, energy_wh: list[int], quality: list[int]
                   ) -> SignedReadingBatch:
        """One signature over the readings of periods ``first_period``, ``first_period + 1``, ... [Wh]."""
        return sign_reading_batch(self.key, domain_separator, first_period, energy_wh, quality, meter=self.address)


class MeterGroup:
    """The registers of several virtual meters in arrays, so that a step is recorded for all of them in one
    vectorised operation: element by element the arithmetic of ``VirtualMeter.record`` and ``close_period``,
    so the same bits. While the clock runs the group owns its meters' registers and writes them back to the
    meters at every ``close_period``."""

    def __init__(self, meters: list[VirtualMeter]):
        if any(m.source != "virtual" for m in meters):
            raise ValueError("a MeterGroup records virtual meters only (a HIL meter reads its device)")
        self.meters = list(meters)
        self.export_register_wh = np.array([m.export_register_wh for m in self.meters], dtype=float)
        self.import_register_wh = np.array([m.import_register_wh for m in self.meters], dtype=float)
        self._closed_wh = np.array([m._closed_wh for m in self.meters], dtype=float)
        self._settles_import = np.array([m.register == "import" for m in self.meters], dtype=bool)

    def record(self, p_export_kw: np.ndarray, dt_s: float) -> None:
        """Integrate each meter's power over a step (export positive) [kW] into its registers."""
        e_wh = np.asarray(p_export_kw, dtype=float) * dt_s / 3.6
        exporting = e_wh >= 0
        self.export_register_wh += np.where(exporting, e_wh, 0.0)
        self.import_register_wh -= np.where(exporting, 0.0, e_wh)

    def close_period(self, period: int) -> list[RawReading]:
        """Each meter's reading of ``period``, in the group's order [Wh], with its register at the period end."""
        now_wh = np.floor(np.where(self._settles_import, self.import_register_wh, self.export_register_wh))
        energy_wh = (now_wh - self._closed_wh).tolist()
        self._closed_wh = now_wh
        register_wh = now_wh.tolist()
        for m, e, i, c in zip(self.meters, self.export_register_wh.tolist(), self.import_register_wh.tolist(),
                              now_wh.tolist()):
            m.export_register_wh, m.import_register_wh, m._closed_wh = e, i, int(c)
        return [RawReading(m.meter_id, period, e, register_wh=r)
                for m, e, r in zip(self.meters, energy_wh, register_wh)]


def fault_draws(rng: np.random.Generator, n_readings: int) -> np.ndarray:
    """The uniform draws ``corrupt`` takes for ``n_readings`` readings in a row, in one call: shape (n, 2), the
    same numbers ``n_readings`` successive ``corrupt`` calls draw."""
    return rng.random((n_readings, 2))


def fault_masks(u: np.ndarray, drop_p: float, spike_p: float) -> tuple[list[bool], list[bool]]:
    """Which readings of a row of draws ``u`` (shape (n, 2)) are dropped, and which of the others are spiked."""
    dropped = u[:, 0] < drop_p
    return dropped.tolist(), (~dropped & (u[:, 1] < spike_p)).tolist()


def spiked(reading):
    """``reading`` with its energy multiplied into a spike."""
    return replace(reading, energy_wh=reading.energy_wh * 25.0 + 5000.0)


def corrupt(reading, rng: np.random.Generator, drop_p: float, spike_p: float):
    """Fault injection for VEE experiments: drop a reading or multiply its energy into a spike (seeded).
    Works on any frozen reading dataclass with an ``energy_wh`` field (electricity or heat)."""
    (dropped,), (spike,) = fault_masks(fault_draws(rng, 1), drop_p, spike_p)
    return None if dropped else spiked(reading) if spike else reading
