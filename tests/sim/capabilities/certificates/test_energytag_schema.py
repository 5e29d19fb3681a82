"""The EnergyTag export's schema: the committed JSON Schema is the model's, its bundle fields are the published
field list's (EnergyTag GC Registry API Specification v2, as its reference implementation spells them), and the
model refuses what the standard rules out. No run needed."""

from __future__ import annotations

import datetime as dt
import json

import pydantic
import pytest

from sim.capabilities.certificates.energytag_model import STATUSES, GcBundle, export_json_schema
from tests.conftest import ROOT

SCHEMA_FILE = ROOT / "docs" / "energytag.schema.json"

# Field names of GranularCertificateBundleBase / GranularCertificateBundle in Future-Energy-Associates/
# granular_certificate_registry, gc_registry/datamodel/schemas/gc_entities.py (commit 943ecca5129d), the reference
# implementation of the EnergyTag GC Registry API Specification v2, plus ``hash`` and ``beneficiary`` from
# gc_registry/certificate/schemas.py (commit 051bc42868d7). Copied by hand from the source, not from our model.
SPEC_FIELDS = {
    "certificate_status", "account_id", "bundle_id_range_start", "bundle_id_range_end", "bundle_quantity",
    "energy_carrier", "energy_source", "face_value", "issuance_post_energy_carrier_conversion",
    "registry_configuration", "device_id", "device_name", "device_technology_type", "device_production_start_date",
    "device_capacity", "device_location", "device_type", "production_starting_interval",
    "production_ending_interval", "issuance_datestamp", "expiry_datestamp", "storage_device_id",
    "sdr_allocation_id", "discharging_start_datetime", "discharging_end_datetime", "storage_device_location",
    "storage_efficiency_factor", "country_of_issuance", "connected_grid_identification", "issuing_body",
    "legal_status", "issuance_purpose", "support_received", "quality_scheme_reference", "dissemination_level",
    "issue_market_zone", "emissions_factor_production_device", "emissions_factor_source", "issuance_id",
    "hash", "beneficiary",
}
OUR_EXTENSIONS = {"consumption_starting_interval", "consumption_ending_interval"}  # the claim's interval (issue 27)
# What issue 27 asks a bundle to carry: range, quantity, face value, production interval, device and technology,
# location, issuer, status
ISSUE_FIELDS = {"bundle_id_range_start", "bundle_id_range_end", "bundle_quantity", "face_value",
                "production_starting_interval", "production_ending_interval", "device_id", "device_name",
                "device_technology_type", "device_location", "issuing_body", "certificate_status"}
# CertificateStatus in gc_registry/core/models/base.py (commit 27cd94313b9b), less its internal "Bundle Split"
SPEC_STATUSES = ["Active", "Cancelled", "Claimed", "Expired", "Withdrawn", "Locked", "Reserved"]


def test_committed_schema_file_is_the_models():
    assert json.loads(SCHEMA_FILE.read_text()) == export_json_schema(), \
        "docs/energytag.schema.json is stale: gridledger certificates schema > docs/energytag.schema.json"


def test_bundle_fields_are_the_published_field_list():
    bundle = export_json_schema()["$defs"]["GcBundle"]
    names = set(bundle["properties"])
    assert names - SPEC_FIELDS == OUR_EXTENSIONS
    assert ISSUE_FIELDS <= set(bundle["required"])
    assert bundle["additionalProperties"] is False
    assert bundle["properties"]["certificate_status"]["enum"] == SPEC_STATUSES == list(STATUSES)
    assert bundle["properties"]["energy_carrier"]["const"] == "Electricity"


def _bundle(**change) -> dict:
    start = dt.datetime(2025, 4, 7, 5, tzinfo=dt.UTC)
    b = {"issuance_id": "0x100000000000000000000000000000007", "hash": "0" * 64, "certificate_status": "Active",
         "account_id": "0x" + "ab" * 20, "bundle_id_range_start": 0, "bundle_id_range_end": 999,
         "bundle_quantity": 1000, "energy_carrier": "Electricity", "energy_source": "Solar", "face_value": 1,
         "issuance_post_energy_carrier_conversion": False, "registry_configuration": 1, "device_id": 1,
         "device_name": "pv", "device_technology_type": "Solar PV", "device_capacity": 1000,
         "device_location": (53.6, 9.48), "device_type": "Production", "production_starting_interval": start,
         "production_ending_interval": start + dt.timedelta(hours=1), "issuance_datestamp": start.date(),
         "issuing_body": "issuer"}
    return b | change


def test_a_well_formed_bundle_is_accepted():
    b = GcBundle(**_bundle())
    assert b.energy_wh == 1000 and b.computed_hash() != b.hash  # the hash covers the properties, not itself


@pytest.mark.parametrize("change, message", [
    ({"bundle_quantity": 999}, "bundle_quantity 999 != bundle_id_range_end - bundle_id_range_start"),
    ({"production_ending_interval": dt.datetime(2025, 4, 7, 6, 30, tzinfo=dt.UTC)}, "at most 1 h"),
    ({"production_ending_interval": dt.datetime(2025, 4, 7, 5, tzinfo=dt.UTC)}, "more than 0"),
    ({"certificate_status": "Cancelled"}, "names its beneficiary and consumption interval"),
    ({"beneficiary": "0x" + "cd" * 20}, "has no beneficiary"),
    ({"certificate_status": "Burnt"}, "certificate_status"),
    ({"energy_carrier": "Hydrogen"}, "energy_carrier"),
    ({"account_id": "alice"}, "account_id"),
    ({"face_value": 0}, "face_value"),
    ({"surplus": 1}, "surplus"),
])
def test_the_model_refuses_what_the_standard_rules_out(change, message):
    with pytest.raises(pydantic.ValidationError, match=message):
        GcBundle(**_bundle(**change))
