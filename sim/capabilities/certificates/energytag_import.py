"""Import an EnergyTag GC bundle export (``gridledger certificates import FILE RESULTS``): bundles -> the
certificates they describe (``energytag.Certificate``: minted, live per holder, retired per holder and
beneficiary [Wh]), each checked, then checked against the contract on the results folder's replayed chain.

Refused, with the file, the bundle (index and issuance id), the field and what was expected:
1. a document that is not JSON or does not fit the schema (``energytag_model``: fields, types, statuses,
   quantity = range end - start + 1, interval at most 1 h, a cancelled bundle's beneficiary and consumption
   interval);
2. a bundle whose ``hash`` is not the sha256 of its properties (an edit that forgot the hash);
3. a status the contract has no state for (anything but Active and Cancelled);
4. a bundle that does not fit its issuance: the device or production interval its issuance id names, or the same
   device attributes as the issuance's other bundles; GC id ranges of a device that overlap;
5. totals other than the bundles' sums;
6. against the chain: each certificate's minted, live (per holder) and retired (per holder) Wh, and the
   contract's totals (``total_minted_wh``, ``total_retired_wh``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pydantic

from contracts.certificates import split_id
from sim.capabilities.certificates.energytag import Certificate, _utc
from sim.capabilities.certificates.energytag_model import GcBundle, GcExport
from sim.capabilities.certificates.onchain import ChainView, chain_view
from sim.schema import checked_path

MAX_EXPORT_BYTES = 2**30  # a year of a large community's bundles stays far below
IMPORTED_STATUSES = ("Active", "Cancelled")  # the states the Certificates contract has (energytag module doc)
ISSUANCE_FIELDS = ("energy_source", "device_id", "device_name", "device_technology_type", "device_capacity",
                   "device_location", "production_starting_interval", "production_ending_interval",
                   "issuance_datestamp", "issuing_body", "face_value")


class EnergyTagImportError(ValueError):
    """An export that cannot be imported: the message names the file, the bundle, the field and the expectation."""


def _where(path: Path, i: int, b: GcBundle | None = None) -> str:
    return f"{path}: bundles[{i}]" + (f" (issuance {b.issuance_id})" if b is not None else "")


def read_export(path: str | Path) -> GcExport:
    """Parse and validate an export file (checks 1, 2, 3 and 5 of the module doc)."""
    path = checked_path(Path(path), "EnergyTag export", MAX_EXPORT_BYTES)
    try:
        doc = GcExport.model_validate_json(path.read_bytes())
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"]).lstrip(".")
        got = first.get("input")
        got = "" if isinstance(got, dict | list) else f" (got {json.dumps(got, default=str)[:80]})"
        raise EnergyTagImportError(f"{path}: {loc or 'the document'}: {first['msg']}{got}"
                                   f"{f'; {exc.error_count() - 1} more error(s)' if exc.error_count() > 1 else ''}"
                                   ) from None
    for i, b in enumerate(doc.bundles):
        if b.computed_hash() != b.hash:
            raise EnergyTagImportError(f"{_where(path, i, b)}.hash: {b.hash} is not the sha256 of the bundle's "
                                       f"properties ({b.computed_hash()}): the bundle was changed after export")
        if b.certificate_status not in IMPORTED_STATUSES:
            raise EnergyTagImportError(f"{_where(path, i, b)}.certificate_status: {b.certificate_status}; the "
                                       f"Certificates contract holds only {' and '.join(IMPORTED_STATUSES)} GCs")
    sums = {"Active": 0, "Cancelled": 0}
    for b in doc.bundles:
        sums[b.certificate_status] += b.energy_wh
    want = {"active_wh": sums["Active"], "cancelled_wh": sums["Cancelled"], "issued_wh": sum(sums.values())}
    for key, wh in want.items():
        if getattr(doc.totals, key) != wh:
            raise EnergyTagImportError(f"{path}: totals.{key}: {getattr(doc.totals, key)} Wh, the bundles sum to "
                                       f"{wh} Wh")
    return doc


def certificates_of(doc: GcExport, path: Path) -> list[Certificate]:
    """The certificates the bundles describe (check 4 of the module doc), in issuance order."""
    certs: dict[int, Certificate] = {}
    first: dict[int, GcBundle] = {}
    ranges: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    reg = doc.registry
    for i, b in enumerate(doc.bundles):
        id_ = int(b.issuance_id, 16)
        device_id, period = split_id(id_)
        if device_id != b.device_id:
            raise EnergyTagImportError(f"{_where(path, i, b)}.device_id: {b.device_id}, the issuance id names device "
                                       f"{device_id}")
        start, end = _utc(reg.t0, reg.period_s, period)
        if (b.production_starting_interval, b.production_ending_interval) != (start, end):
            raise EnergyTagImportError(f"{_where(path, i, b)}.production_starting_interval: "
                                       f"{b.production_starting_interval.isoformat()}, the issuance id names interval "
                                       f"{period}: {start.isoformat()} to {end.isoformat()}")
        if b.certificate_status == "Cancelled" and (b.consumption_starting_interval, b.consumption_ending_interval) \
                != (start, end):
            raise EnergyTagImportError(f"{_where(path, i, b)}.consumption_starting_interval: the contract retires a "
                                       f"certificate against its own interval only ({start.isoformat()})")
        ref = first.setdefault(id_, b)
        for name in ISSUANCE_FIELDS:
            if getattr(b, name) != getattr(ref, name):
                raise EnergyTagImportError(f"{_where(path, i, b)}.{name}: {getattr(b, name)!r}, another bundle of the "
                                           f"issuance says {getattr(ref, name)!r}")
        ranges[b.device_id].append((b.bundle_id_range_start, b.bundle_id_range_end, i))
        c = certs.setdefault(id_, Certificate(id_, 0))
        c.minted_wh += b.energy_wh
        if b.certificate_status == "Active":
            c.active[b.account_id] = c.active.get(b.account_id, 0) + b.energy_wh
        else:
            key = (b.account_id, b.beneficiary)
            c.cancelled[key] = c.cancelled.get(key, 0) + b.energy_wh
    for device_id, rs in ranges.items():
        rs.sort()
        for (_, end_a, i), (start_b, _, j) in zip(rs, rs[1:]):
            if start_b <= end_a:
                raise EnergyTagImportError(f"{path}: bundles[{j}].bundle_id_range_start: {start_b}, inside the range "
                                           f"of bundles[{i}] (up to {end_a}) of the same device {device_id}: a GC "
                                           "counted twice")
    return [certs[k] for k in sorted(certs, key=lambda k: split_id(k))]


def check_against_chain(certs: list[Certificate], view: ChainView, path: Path) -> None:
    """Check 6 of the module doc: the certificates against the contract's state."""
    ids = [c.id for c in certs]
    minted, retired = view.per_id("minted_wh", ids), view.per_id("retired_wh", ids)
    live = view.per_pair("balanceOf", [(h, c.id) for c in certs for h in c.active])
    by_holder: dict[tuple[str, int], int] = defaultdict(int)
    for c in certs:
        for (holder, _), wh in c.cancelled.items():
            by_holder[(holder, c.id)] += wh
    retired_by = view.per_pair("retired_by", sorted(by_holder))
    for c in certs:
        where = f"{path}: issuance {c.id:#x}"
        if minted[c.id] != c.minted_wh:
            raise EnergyTagImportError(f"{where}: its bundles hold {c.minted_wh} Wh, the contract minted "
                                       f"{minted[c.id]} Wh")
        if retired[c.id] != sum(c.cancelled.values()):
            raise EnergyTagImportError(f"{where}: {sum(c.cancelled.values())} Wh Cancelled in the bundles, the "
                                       f"contract retired {retired[c.id]} Wh")
        for holder, wh in c.active.items():
            if live[(holder, c.id)] != wh:
                raise EnergyTagImportError(f"{where}: Active {wh} Wh for {holder}, the contract's balanceOf is "
                                           f"{live[(holder, c.id)]} Wh")
    for (holder, id_), wh in by_holder.items():
        if retired_by[(holder, id_)] != wh:
            raise EnergyTagImportError(f"{path}: issuance {id_:#x}: Cancelled {wh} Wh by {holder}, the contract's "
                                       f"retired_by is {retired_by[(holder, id_)]} Wh")
    totals = view.totals()
    have = {"minted_wh": sum(c.minted_wh for c in certs),
            "retired_wh": sum(sum(c.cancelled.values()) for c in certs)}
    for key, wh in have.items():
        if wh != totals[key]:
            raise EnergyTagImportError(f"{path}: the bundles hold {wh} Wh {key.split('_')[0]}, the contract's "
                                       f"total_{key} is {totals[key]} Wh: certificates are missing")


def import_energytag(path: str | Path, results: str | Path | None = None, view: ChainView | None = None
                     ) -> list[Certificate]:
    """The certificates of the export at ``path``; with ``results`` (a results folder, its chain replayed) or
    ``view``, checked against the contract that issued them (the registry's chain id and address must match)."""
    path = Path(path)
    doc = read_export(path)
    certs = certificates_of(doc, path)
    if results is None and view is None:
        return certs
    own = view is None
    view = view or chain_view(results)
    try:
        if (view.chain_id, view.address.lower()) != (doc.registry.chain_id, doc.registry.contract.lower()):
            raise EnergyTagImportError(f"{path}: registry: chain {doc.registry.chain_id} contract "
                                       f"{doc.registry.contract}, the results folder's is chain {view.chain_id} "
                                       f"contract {view.address}")
        check_against_chain(certs, view, path)
    finally:
        if own:
            view.close()
    return certs
