"""The scenario reference (``gridledger schema``, ``docs/scenario.md``) lists every key of every section, from the
models that validate, and the committed file is its current output."""

from __future__ import annotations

from sim.scenario import Scenario
from sim.schema_doc import _models, reference, unit_of
from tests.conftest import ROOT


def test_the_committed_reference_is_current():
    assert (ROOT / "docs" / "scenario.md").read_text(encoding="utf-8").rstrip() == reference(Scenario).rstrip(), (
        "docs/scenario.md is stale: python -m sim.cli schema > docs/scenario.md")


def test_every_key_of_every_section_is_listed():
    text = reference(Scenario)
    models = _models(Scenario)
    assert {m.__name__ for _, _, m in models} >= {"RunSpec", "VppSpec", "HeatSpec", "DsrSpec", "InsuranceSpec",
                                                   "CertificatesSpec", "DeviceSpec", "GeneratorSite"}
    for _, _, model in models:
        section = text.split(f"## {model.__name__}\n", 1)[1].split("\n## ", 1)[0]
        for name in model.model_fields:
            assert f"| `{name}` |" in section, (model.__name__, name)


def test_units_come_from_the_suffix():
    assert [unit_of(k) for k in ("duration_s", "pv_kwp", "energy_eur_per_kwh", "t_supply_c", "name")] == [
        "s", "kWp", "EUR/kWh", "°C", ""]
