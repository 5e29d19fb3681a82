"""The EnergyTag granular certificate (GC) bundle as a run's certificates are exported: the field list of the
EnergyTag GC Registry API Specification (v2, accompanying v2 of the EnergyTag Standard), written as frozen pydantic
models. ``docs/energytag.schema.json`` is their JSON Schema (``gridledger certificates schema``), kept equal to
``export_json_schema()`` by a test.

One GC is 1 Wh (``face_value``); a bundle is a contiguous range of GC ids of one issuance (one device and
production interval, at most 1 h) held by one account in one status, and ``bundle_quantity`` =
``bundle_id_range_end`` - ``bundle_id_range_start`` + 1.

References
----------
- EnergyTag, *GC Registry API Specification* (v2, 4 March 2024, with Future Energy Associates) and *Granular
  Certificate Scheme Standard* (4 March 2024): energytag.org/resources (Standards).
- Its reference implementation, Future-Energy-Associates/granular_certificate_registry:
  ``gc_registry/datamodel/schemas/gc_entities.py`` (commit 943ecca5129de5c683782863798d3cf76e56fec7), class
  ``GranularCertificateBundleBase``: the field names, descriptions and units used here;
  ``gc_registry/core/models/base.py`` (commit 27cd94313b9b61104eb14028378e157aaf44b690), ``CertificateStatus``:
  the status names; ``gc_registry/certificate/schemas.py`` (commit 051bc42868d7c370b17268aa98d435e3ad7fbd8a):
  ``hash`` (sha256 of the bundle's properties) and the cancellation's ``beneficiary``.
- EnergyTag knowledge base, *Granular Certificates Guide*, "List of Crucial Attributes" (energytag.atlassian.net):
  unit Wh, volume rounded down to the Wh, interval at most one hour, GPS coordinates where available.

Fields of the specification left out, because the contract holds nothing to fill them truthfully:
``device_production_start_date``, ``expiry_datestamp`` (certificates never expire on chain),
``country_of_issuance``, ``connected_grid_identification``, ``issue_market_zone``, the storage fields and the
optional legal/emission fields. Added (not in the API's bundle model; the cancellation's claim as the contract
records it): ``consumption_starting_interval`` / ``consumption_ending_interval``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

FORMAT = "gridledger-energytag/1"
# CertificateStatus of the reference registry, in its order (Bundle Split is its internal bookkeeping, not a status
# of a held bundle)
STATUSES = ("Active", "Cancelled", "Claimed", "Expired", "Withdrawn", "Locked", "Reserved")
Status = Literal["Active", "Cancelled", "Claimed", "Expired", "Withdrawn", "Locked", "Reserved"]
ADDRESS = r"^0x[0-9a-fA-F]{40}$"
MAX_INTERVAL = dt.timedelta(hours=1)  # the Standard: a production interval of at most one hour


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GcBundle(_Frozen):
    """One GC bundle (field names, meanings and units of the EnergyTag GC Registry API Specification v2)."""

    issuance_id: str = Field(pattern=r"^0x[0-9a-f]+$", description=(
        "Unique id of the issuance, kept by every bundle split from it: the contract's certificate id "
        "(device_id << 128 | interval index), hex."))
    hash: str = Field(pattern=r"^[0-9a-f]{64}$", description=(
        "sha256 of the bundle's other properties (canonical JSON: sorted keys, no spaces)."))
    certificate_status: Status = Field(description="One of: " + ", ".join(STATUSES) + ".")
    account_id: str = Field(pattern=ADDRESS, description=(
        "The account holding the bundle (for a cancelled bundle: the account that cancelled it), a chain address."))
    bundle_id_range_start: int = Field(ge=0, description=(
        "Lowest GC id of the bundle; GC ids are sequential integers per production device, inclusive range."))
    bundle_id_range_end: int = Field(ge=0, description="Highest GC id of the bundle (inclusive).")
    bundle_quantity: int = Field(ge=1, description=(
        "Number of GCs in the bundle, = bundle_id_range_end - bundle_id_range_start + 1."))
    energy_carrier: Literal["Electricity"] = Field(description="Always Electricity in v2 of the Standard.")
    energy_source: str = Field(min_length=1, description="Fuel type: Solar, Wind, ...")
    face_value: int = Field(ge=1, description="Energy per GC [Wh].")
    issuance_post_energy_carrier_conversion: bool = Field(description=(
        "Whether the bundle was issued after an energy carrier conversion."))
    registry_configuration: int = Field(ge=1, le=3, description="Configuration of the issuing registry (1, 2 or 3).")
    device_id: int = Field(ge=1, description="The production device (the contract's device number).")
    device_name: str = Field(min_length=1, description="Name of the production device.")
    device_technology_type: str = Field(min_length=1, description="Technology: Solar PV, Onshore Wind Turbine, ...")
    device_capacity: int = Field(ge=1, description="Maximum capacity of the device [W].")
    device_location: tuple[float, float] = Field(description="GPS coordinates of the device: [latitude, longitude] "
                                                             "[degrees].")
    device_type: Literal["Production", "Storage"] = Field(description=(
        "Whether the energy was generated by a production device or released by a storage unit."))
    production_starting_interval: dt.datetime = Field(description="Start of the production interval (UTC).")
    production_ending_interval: dt.datetime = Field(description="End of the production interval (UTC), at most 1 h "
                                                                "after its start.")
    issuance_datestamp: dt.date = Field(description="Date (UTC) the bundle was issued to the device's account.")
    issuing_body: str = Field(min_length=1, description="The body that issued the bundle.")
    beneficiary: str | None = Field(default=None, pattern=ADDRESS, description=(
        "Cancelled bundles: the entity that may claim the cancelled GCs' attributes (a chain address)."))
    consumption_starting_interval: dt.datetime | None = Field(default=None, description=(
        "Cancelled bundles: start of the consumption interval claimed against (UTC)."))
    consumption_ending_interval: dt.datetime | None = Field(default=None, description=(
        "Cancelled bundles: end of the consumption interval claimed against (UTC)."))

    @model_validator(mode="after")
    def _consistent(self) -> GcBundle:
        if self.bundle_quantity != self.bundle_id_range_end - self.bundle_id_range_start + 1:
            raise ValueError(f"bundle_quantity {self.bundle_quantity} != bundle_id_range_end - bundle_id_range_start "
                             f"+ 1 = {self.bundle_id_range_end - self.bundle_id_range_start + 1}")
        for name in ("production", "consumption"):
            start, end = getattr(self, f"{name}_starting_interval"), getattr(self, f"{name}_ending_interval")
            if start is None and end is None:
                continue
            if start is None or end is None or start.tzinfo is None or end.tzinfo is None:
                raise ValueError(f"{name} interval: both ends expected, as UTC datetimes")
            if not dt.timedelta(0) < end - start <= MAX_INTERVAL:
                raise ValueError(f"{name} interval {start.isoformat()} to {end.isoformat()}: expected more than 0 "
                                 "and at most 1 h")
        cancelled = self.certificate_status == "Cancelled"
        claim = (self.beneficiary, self.consumption_starting_interval)
        if cancelled and None in claim:
            raise ValueError("a Cancelled bundle names its beneficiary and consumption interval")
        if not cancelled and claim != (None, None):
            raise ValueError(f"a {self.certificate_status} bundle has no beneficiary nor consumption interval")
        return self

    def computed_hash(self) -> str:
        """sha256 (hex) of the bundle's properties other than ``hash`` (canonical JSON)."""
        return bundle_hash(self.model_dump(mode="json", exclude={"hash"}))

    @property
    def energy_wh(self) -> int:
        return self.bundle_quantity * self.face_value


class Registry(_Frozen):
    """Where the bundles live: the chain and the Certificates contract that issued them."""

    chain_id: int = Field(ge=1)
    contract: str = Field(pattern=ADDRESS)
    issuer: str = Field(pattern=ADDRESS)
    t0: int = Field(ge=0, description="Block time at which interval 0 starts [s].")
    period_s: int = Field(ge=1, le=3600, description="Interval length [s].")


class Totals(_Frozen):
    """Sums over the bundles [Wh]."""

    issued_wh: int = Field(ge=0)
    active_wh: int = Field(ge=0)
    cancelled_wh: int = Field(ge=0)


class GcExport(_Frozen):
    """An export: the registry, the totals and every bundle."""

    format: Literal["gridledger-energytag/1"]
    standard: str
    registry: Registry
    totals: Totals
    bundles: list[GcBundle]


def bundle_hash(fields: dict) -> str:
    """sha256 (hex) of ``fields`` as canonical JSON (sorted keys, no spaces)."""
    return hashlib.sha256(json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


STANDARD = ("EnergyTag GC Registry API Specification v2 (GranularCertificateBundle fields), EnergyTag Granular "
            "Certificate Scheme Standard (4 March 2024); face value 1 Wh per GC")


def export_json_schema() -> dict:
    """The JSON Schema (draft 2020-12) of an export document."""
    schema = GcExport.model_json_schema(mode="serialization")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema,
            "title": "gridledger EnergyTag GC bundle export", "$comment": "Field list: " + STANDARD + "; see "
            "docs/energytag.md for the sources (EnergyTag GC Registry API Specification v2 and its reference "
            "implementation Future-Energy-Associates/granular_certificate_registry, gc_entities.py)."}
