"""The readings log: one row per meter and period (what VEE made of the raw reading, whether it went on chain,
and the contract's answer), one schema for every capability. Kept as DataFrame chunks so that a long run does not
hold one Python dict per reading (a year of the 100-member VPP logs 876 000 readings); with a spill folder, each
full chunk goes to disk as it is made, so the log holds at most ``CHUNK_ROWS`` rows in memory until ``frame()``
reads them all back."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.results.spill import SpillDir

CHUNK_ROWS = 20_000

# The schema of ``readings.parquet``, for every capability (a capability may add register columns after these,
# e.g. heat's ``volume_ml``): meter id, settlement period, the raw reading [Wh] (None if it was missing), the
# validated value [Wh] (None if VEE rejected it), its quality (0 measured, 1 estimated), the VEE rule that
# decided it, ``status`` and ``reason``.
COLUMNS = ("meter", "period", "raw_wh", "energy_wh", "quality", "rule", "status", "reason")
STATUSES = {
    "accepted": "posted on chain, signed by the meter, and accepted by the contract",
    "refused": "posted on chain and refused by the contract; ``reason`` is the contract's revert reason",
    "not_posted": "validated but not posted, by the capability's rule; ``reason`` says why (an estimated "
                  "interval mints no certificate and is no insured production; zero energy mints nothing); a "
                  "meter no capability settles (a prosumer's meter in a run without [vpp], or outside "
                  "vpp.members) has every validated reading ``not_posted`` with reason ``NO_CAPABILITY``",
    "rejected_vee": "rejected by VEE before anything was posted; ``reason`` is the VEE rule",
}


NO_CAPABILITY = "no capability settles this meter"
# Every row is a meter's validated period or a rejected raw reading, so that the table reconciles with the run's
# VEE counts: rows = summary.vee periods + rejected. A capability's other signed records (micro-DSR's outlet delay
# reports, per DR event, not per period) are not meter readings: they are in ledger.parquet.


def reading_row(meter_id: str, v, status: str = "", reason: str = "", energy_wh=None, **registers) -> dict:
    """A readings-log row for the validated reading ``v`` (``period``, ``raw_wh``, ``energy_wh``, ``quality``,
    ``rule``); ``energy_wh`` overrides ``v.energy_wh``; ``registers`` are extra columns placed after
    ``energy_wh``. ``status`` may be set later, once the contract answered."""
    return {"meter": meter_id, "period": v.period, "raw_wh": v.raw_wh,
            "energy_wh": v.energy_wh if energy_wh is None else energy_wh, **registers, "quality": v.quality,
            "rule": v.rule, "status": status, "reason": reason}


SIGNATURE_COLUMNS = ("signer", "sig_kind", "sig_contract", "sig_first", "sig_v", "sig_r", "sig_s")
# A posted reading's signature, so that anyone can check it (``gridledger verify``): the meter's address, what was
# signed (``reading``: this value alone; ``batch``: the meter's values of periods ``sig_first`` … under one
# signature, every row of the batch carrying it; ``heat``: a HeatReading, with its ``consumer``,
# ``vt_supply_mlmc`` and ``vt_return_mlmc``), the verifying contract of the EIP-712 domain, and v, r, s.


def signature_columns(signed, contract: str) -> dict:
    """The signature columns of a row posted as ``signed`` (``contracts.eip712``'s SignedReading,
    SignedReadingBatch or SignedHeatReading) to ``contract`` (address)."""
    batch, heat = hasattr(signed, "first_period"), hasattr(signed, "consumer")
    cols = {"signer": signed.meter, "sig_kind": "batch" if batch else "heat" if heat else "reading",
            "sig_contract": contract, "sig_first": signed.first_period if batch else signed.period,
            "sig_v": signed.v, "sig_r": "0x" + signed.r.hex(), "sig_s": "0x" + signed.s.hex()}
    if heat:
        cols.update(consumer=signed.consumer, vt_supply_mlmc=signed.vt_supply_mlmc,
                    vt_return_mlmc=signed.vt_return_mlmc)
    return cols


def rejected_row(r) -> dict:
    """A readings-log row for a raw reading VEE rejected (``r``: ``sim.measurement.vee.Rejected``)."""
    return {"meter": r.meter_id, "period": r.period, "raw_wh": r.raw_wh, "energy_wh": None, "quality": None,
            "rule": r.rule, "status": "rejected_vee", "reason": r.rule}


class ReadingsLog:
    """Append rows (dicts; a row may add a column, earlier rows get NaN there); ``frame()`` is the table, as
    ``pd.DataFrame`` of every row in order would give it. Full chunks are written to ``spill`` if given."""

    def __init__(self, spill: SpillDir | None = None):
        self._rows: list[dict] = []
        self._chunks: list[pd.DataFrame | Path] = []
        self._n = 0
        self._spill = spill

    def append(self, row: dict) -> None:
        self._rows.append(row)
        self._n += 1
        if len(self._rows) >= CHUNK_ROWS:
            self._flush()

    def extend(self, rows) -> None:
        for row in rows:
            self.append(row)

    def __len__(self) -> int:
        return self._n

    @property
    def rows_in_memory(self) -> int:
        """Rows held in memory now, not yet spilled (count)."""
        return sum(len(c) for c in self._chunks if isinstance(c, pd.DataFrame)) + len(self._rows)

    def _flush(self, spill: bool = True) -> None:
        if self._rows:
            chunk = pd.DataFrame(self._rows)
            self._chunks.append(self._spill.write(chunk, "readings") if spill and self._spill else chunk)
            self._rows = []

    def frame(self) -> pd.DataFrame:
        """Every row as one table; spilled chunks are read back for it and not kept (each call reads them)."""
        self._flush(spill=False)
        chunks = [self._spill.read(c) if isinstance(c, Path) else c for c in self._chunks]
        if not chunks:
            return pd.DataFrame()
        if len(chunks) > 1:
            chunks = [pd.concat(chunks, ignore_index=True).infer_objects()]
        if not any(isinstance(c, Path) for c in self._chunks):
            self._chunks = chunks
        return chunks[0]
