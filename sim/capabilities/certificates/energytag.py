"""Export a run's certificates as EnergyTag GC bundles (``gridledger certificates export RESULTS --format
energytag``), from the results folder's ledger (which ids, holders, beneficiaries exist) and the contract's own
state on the replayed chain (how many Wh each holds, has retired, was minted): ``onchain.chain_view``.

Status mapping (the contract's state -> the EnergyTag status):
- live Wh, ``balanceOf(holder, id)`` -> ``Active``, ``account_id`` = holder;
- retired Wh, ``Retired(id, holder, beneficiary, amount, consumption_interval)`` events summed in ``retired_wh(id)``
  -> ``Cancelled``, ``account_id`` = holder, with ``beneficiary`` and the consumption interval.

The contract has no expiry, withdrawal, lock or reservation, and a retirement is the cancellation and the claim at
once (``retire`` checks the beneficiary's metered consumption in that interval): ``Claimed``, ``Expired``,
``Withdrawn``, ``Locked`` and ``Reserved`` never appear. GC ids: each Wh is one GC; a device's GCs are numbered from
0 in the order of its production intervals (``bundle_id_range_*``); within an issuance the cancelled bundles come
first (in the order of their first retirement on chain), then the active ones (in the order each holder first
received the certificate): the contract does not tell Wh of one id apart, so that order is this export's convention.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from eth_utils import to_checksum_address

from contracts.certificates import split_id
from sim.capabilities.certificates.energytag_model import (
    FORMAT,
    STANDARD,
    GcBundle,
    GcExport,
    Registry,
    Totals,
    bundle_hash,
)
from sim.capabilities.certificates.onchain import CONTRACT, ChainView, chain_view
from sim.results.summary import event_args

ZERO = "0x" + "00" * 20
TECHNOLOGY = {"pv": ("Solar", "Solar PV"), "wind": ("Wind", "Onshore Wind Turbine")}  # energy_source, technology
REGISTRY_CONFIGURATION = 1  # the reference registry's default (GranularCertificateBundleRead.registry_configuration)


class ChainMismatch(RuntimeError):
    """The results folder's ledger does not say what the contract holds on the replayed chain."""


@dataclass
class Certificate:
    """One certificate id as the contract holds it [Wh]: minted, live per holder, retired per (holder,
    beneficiary)."""

    id: int
    minted_wh: int
    active: dict[str, int] = field(default_factory=dict)
    cancelled: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def device_id(self) -> int:
        return split_id(self.id)[0]

    @property
    def period(self) -> int:
        return split_id(self.id)[1]


def _utc(t0: int, period_s: int, period: int) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.fromtimestamp(t0 + period * period_s, dt.UTC)
    return start, start + dt.timedelta(seconds=period_s)


def certificates_from_chain(ledger: pd.DataFrame, view: ChainView) -> list[Certificate]:
    """Every minted certificate, amounts read from the contract; the ledger only names ids, holders and
    beneficiaries. ChainMismatch where the ledger's events and the contract's counters disagree."""
    issued = event_args(ledger, CONTRACT, "Issued")
    ids = sorted(int(i) for i in issued.id) if len(issued) else []
    minted = view.per_id("minted_wh", ids)
    totals = view.totals()
    if sum(minted.values()) != totals["minted_wh"]:
        raise ChainMismatch(f"ledger.parquet's Issued events cover {sum(minted.values())} Wh of the contract's "
                            f"total_minted_wh {totals['minted_wh']}: issuances are missing from the ledger")
    moves = event_args(ledger, CONTRACT, "TransferSingle")
    holders: dict[int, list[str]] = defaultdict(list)
    for id_, receiver in zip(moves.get("id", []), moves.get("receiver", [])):
        if receiver != ZERO and receiver not in holders[int(id_)]:
            holders[int(id_)].append(receiver)
    balances = view.per_pair("balanceOf", [(h, i) for i in ids for h in holders[i]])
    retired = event_args(ledger, CONTRACT, "Retired")
    cancelled: dict[int, dict[tuple[str, str], int]] = defaultdict(dict)
    for r in retired.itertuples():
        key = (r.holder, r.beneficiary)
        cancelled[int(r.id)][key] = cancelled[int(r.id)].get(key, 0) + int(r.amount_wh)
    _check_retired(view, ids, cancelled, totals)
    out = []
    for i in ids:
        active = {h: balances[(h, i)] for h in holders[i] if balances[(h, i)]}
        cert = Certificate(i, minted[i], active, cancelled.get(i, {}))
        if sum(active.values()) + sum(cert.cancelled.values()) != cert.minted_wh:
            raise ChainMismatch(f"certificate {i:#x}: live {sum(active.values())} + retired "
                                f"{sum(cert.cancelled.values())} Wh != minted {cert.minted_wh} Wh on the contract")
        out.append(cert)
    return out


def _check_retired(view: ChainView, ids: list[int], cancelled: dict, totals: dict) -> None:
    on_chain = view.per_id("retired_wh", ids)
    for i in ids:
        from_events = sum(cancelled.get(i, {}).values())
        if from_events != on_chain[i]:
            raise ChainMismatch(f"certificate {i:#x}: ledger.parquet's Retired events sum to {from_events} Wh, "
                                f"the contract's retired_wh is {on_chain[i]} Wh")
    by_holder: dict[tuple[str, int], int] = defaultdict(int)
    for i, parts in cancelled.items():
        for (holder, _), wh in parts.items():
            by_holder[(holder, i)] += wh
    for pair, wh in view.per_pair("retired_by", sorted(by_holder)).items():
        if wh != by_holder[pair]:
            raise ChainMismatch(f"certificate {pair[1]:#x}: {pair[0]} retired {by_holder[pair]} Wh by the ledger, "
                                f"{wh} Wh by the contract's retired_by")
    if sum(on_chain.values()) != totals["retired_wh"]:
        raise ChainMismatch(f"retired_wh over the ledger's ids {sum(on_chain.values())} Wh != the contract's "
                            f"total_retired_wh {totals['retired_wh']} Wh")


def registry_of(view: ChainView) -> Registry:
    return Registry(chain_id=view.chain_id, contract=to_checksum_address(view.address),
                    issuer=to_checksum_address(view.call("issuer")), t0=int(view.call("t0")),
                    period_s=int(view.call("period_s")))


def _bundle(common: dict, start: int, quantity: int, status: str, account: str, **claim) -> GcBundle:
    fields = {**common, "certificate_status": status, "account_id": to_checksum_address(account),
              "bundle_id_range_start": start, "bundle_id_range_end": start + quantity - 1,
              "bundle_quantity": quantity, **claim}
    plain = GcBundle.model_construct(**fields, hash="0" * 64).model_dump(mode="json", exclude={"hash"})
    return GcBundle(**fields, hash=bundle_hash(plain))


def bundles_of(certs: list[Certificate], devices: pd.DataFrame, issued: pd.DataFrame, reg: Registry
               ) -> list[GcBundle]:
    """The GC bundles of ``certs`` (device registrations and Issued events from the ledger, as frames)."""
    dev = devices.set_index("device_id")
    issued_at = dict(zip(issued.id.astype(object), issued.issued_at)) if len(issued) else {}
    body = f"gridledger Certificates contract {reg.contract} (chain {reg.chain_id}), issuer {reg.issuer}"
    next_gc: dict[int, int] = defaultdict(int)
    out = []
    for c in sorted(certs, key=lambda c: (c.device_id, c.period)):
        d = dev.loc[c.device_id]
        source, technology = TECHNOLOGY.get(d.technology, (d.technology.title(), d.technology))
        start, end = _utc(reg.t0, reg.period_s, c.period)
        common = {
            "issuance_id": f"{c.id:#x}", "energy_carrier": "Electricity", "energy_source": source, "face_value": 1,
            "issuance_post_energy_carrier_conversion": False, "registry_configuration": REGISTRY_CONFIGURATION,
            "device_id": c.device_id, "device_name": d["name"], "device_technology_type": technology,
            "device_capacity": int(d.nameplate_w), "device_location": (d.latitude_e6 / 1e6, d.longitude_e6 / 1e6),
            "device_type": "Production", "production_starting_interval": start, "production_ending_interval": end,
            "issuance_datestamp": dt.datetime.fromtimestamp(int(issued_at[c.id]), dt.UTC).date(),
            "issuing_body": body,
        }
        gc = next_gc[c.device_id]
        for (holder, beneficiary), wh in c.cancelled.items():
            out.append(_bundle(common, gc, wh, "Cancelled", holder, beneficiary=to_checksum_address(beneficiary),
                               consumption_starting_interval=start, consumption_ending_interval=end))
            gc += wh
        for holder, wh in c.active.items():
            out.append(_bundle(common, gc, wh, "Active", holder))
            gc += wh
        next_gc[c.device_id] = gc
    return out


def export_energytag(folder: str | Path, view: ChainView | None = None) -> GcExport:
    """The EnergyTag export of the results folder ``folder`` (its chain replayed unless ``view`` is given)."""
    folder = Path(folder)
    own = view is None
    view = view or chain_view(folder)
    try:
        ledger = pd.read_parquet(folder / "ledger.parquet")
        certs = certificates_from_chain(ledger, view)
        reg = registry_of(view)
        bundles = bundles_of(certs, event_args(ledger, CONTRACT, "DeviceRegistered"),
                             event_args(ledger, CONTRACT, "Issued"), reg)
    finally:
        if own:
            view.close()
    cancelled = sum(b.energy_wh for b in bundles if b.certificate_status == "Cancelled")
    active = sum(b.energy_wh for b in bundles if b.certificate_status == "Active")
    return GcExport(format=FORMAT, standard=STANDARD, registry=reg,
                    totals=Totals(issued_wh=active + cancelled, active_wh=active, cancelled_wh=cancelled),
                    bundles=bundles)


def write_export(doc: GcExport, path: str | Path) -> Path:
    """Write ``doc`` as JSON (indented, UTF-8) to ``path``."""
    path = Path(path)
    path.write_text(doc.model_dump_json(indent=1) + "\n", encoding="utf-8")
    return path
