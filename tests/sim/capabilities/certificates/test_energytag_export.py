"""EnergyTag export, import and hourly matching on real runs: the export validates against the committed JSON
Schema under a third-party validator (``jsonschema``), its totals equal the contract's as another EVM reads them
(``gridledger verify``'s replay), import gives back the certificates the contract holds and refuses a tampered
bundle naming it, and the matching statement's figures are the contract's."""

from __future__ import annotations

import json
import shutil

import jsonschema
import pandas as pd
import pytest

from sim.capabilities.certificates.energytag import certificates_from_chain, export_energytag, write_export
from sim.capabilities.certificates.energytag_import import EnergyTagImportError, import_energytag
from sim.capabilities.certificates.energytag_model import bundle_hash
from sim.capabilities.certificates.ledger import consumer_scores
from sim.capabilities.certificates.matching import statement
from sim.capabilities.certificates.onchain import chain_view
from sim.cli import main
from sim.results.summary import event_args
from sim.verify import verify
from tests.conftest import ROOT

pytestmark = pytest.mark.slow
SCHEMA = ROOT / "docs" / "energytag.schema.json"


@pytest.fixture(scope="module")
def view(certs_run):
    v = chain_view(certs_run.folder)
    yield v
    v.close()


@pytest.fixture(scope="module")
def exported(certs_run, view, tmp_path_factory):
    path = tmp_path_factory.mktemp("energytag") / "export.json"
    write_export(export_energytag(certs_run.folder, view), path)
    return path


@pytest.fixture(scope="module")
def other_evm(certs_run):
    """The run's chain re-executed by ``gridledger verify`` on the EVM that did not make it."""
    verdict = verify(certs_run.folder)
    assert verdict.ok, verdict.message
    yield verdict
    verdict.close()


def _jsonschema_errors(doc_path) -> list[str]:
    """Errors of the document under jsonschema's Draft 2020-12 validator (the schema itself checked first)."""
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(json.loads(doc_path.read_text()))]


def test_export_validates_against_the_schema(exported, tmp_path):
    assert _jsonschema_errors(exported) == []
    doc = json.loads(exported.read_text())
    doc["bundles"][0]["certificate_status"] = "Retired"  # the validator is awake: a status not in the standard
    del doc["bundles"][1]["face_value"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    errors = _jsonschema_errors(bad)
    assert len(errors) == 2 and any("'Retired' is not one of" in e for e in errors)


def test_totals_are_the_contracts_on_another_evm(exported, other_evm, certs_run):
    doc = json.loads(exported.read_text())
    bundles, totals = doc["bundles"], doc["totals"]
    cancelled = sum(b["bundle_quantity"] * b["face_value"] for b in bundles if b["certificate_status"] == "Cancelled")
    active = sum(b["bundle_quantity"] * b["face_value"] for b in bundles if b["certificate_status"] == "Active")
    assert cancelled == totals["cancelled_wh"] == other_evm.read("Certificates", "total_retired_wh") > 0
    assert active + cancelled == other_evm.read("Certificates", "total_minted_wh")
    assert active > 0 and {b["certificate_status"] for b in bundles} == {"Active", "Cancelled"}
    held: dict[tuple[str, int], int] = {}
    for b in bundles:
        if b["certificate_status"] == "Active":
            key = (b["account_id"], int(b["issuance_id"], 16))
            held[key] = held.get(key, 0) + b["bundle_quantity"]
    for (holder, id_), wh in held.items():  # every live holding, per holder and certificate
        assert other_evm.read("Certificates", "balanceOf", holder, id_) == wh
    for b in bundles:  # quantity = end - start + 1, 1 Wh each, ranges of a device disjoint
        assert b["bundle_quantity"] == b["bundle_id_range_end"] - b["bundle_id_range_start"] + 1
    by_device = sorted((b["device_id"], b["bundle_id_range_start"], b["bundle_id_range_end"]) for b in bundles)
    for (d1, _, e1), (d2, s2, _) in zip(by_device, by_device[1:]):
        assert d1 != d2 or s2 == e1 + 1  # contiguous: every Wh of the device numbered once


def test_import_gives_back_the_contracts_certificates(exported, view, other_evm, certs_run):
    certs = import_energytag(exported, view=view)
    issued = event_args(pd.read_parquet(certs_run.folder / "ledger.parquet"), "Certificates", "Issued")
    assert sorted(c.id for c in certs) == sorted(int(i) for i in issued.id) and len(certs) > 10
    ledger = pd.read_parquet(certs_run.folder / "ledger.parquet")
    assert certs == certificates_from_chain(ledger, view)  # bundles -> the same certificates, holder by holder
    for c in certs:
        assert other_evm.read("Certificates", "minted_wh", c.id) == c.minted_wh
        assert other_evm.read("Certificates", "retired_wh", c.id) == sum(c.cancelled.values())
        for holder, wh in c.active.items():
            assert other_evm.read("Certificates", "balanceOf", holder, c.id) == wh


def _tampered(exported, tmp_path, edit, rehash=True) -> str:
    doc = json.loads(exported.read_text())
    edit(doc)
    if rehash:  # the forger recomputes the hashes and the totals
        for b in doc["bundles"]:
            b["hash"] = bundle_hash({k: v for k, v in b.items() if k != "hash"})
        wh = {s: sum(b["bundle_quantity"] for b in doc["bundles"] if b["certificate_status"] == s)
              for s in ("Active", "Cancelled")}
        doc["totals"] = {"issued_wh": sum(wh.values()), "active_wh": wh["Active"], "cancelled_wh": wh["Cancelled"]}
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(doc))
    return path


def _first(doc, status):
    return next(b for b in doc["bundles"] if b["certificate_status"] == status)


def _grow(doc):
    b = _first(doc, "Active")
    b["bundle_quantity"] += 5
    b["bundle_id_range_end"] += 5


def _cancel(doc):
    b = _first(doc, "Active")
    b.update(certificate_status="Cancelled", beneficiary=b["account_id"],
             consumption_starting_interval=b["production_starting_interval"],
             consumption_ending_interval=b["production_ending_interval"])


def _overlap(doc):
    twin = dict(_first(doc, "Active"))
    twin["account_id"] = "0x" + "12" * 20
    doc["bundles"].append(twin)


@pytest.mark.parametrize("edit, rehash, message", [
    (lambda d: _first(d, "Active").update(bundle_quantity=1), False, r"bundle_quantity .* != bundle_id_range_end"),
    (_grow, False, r"hash: .* is not the sha256 of the bundle's properties"),
    (_grow, True, r"a GC counted twice|its bundles hold \d+ Wh, the contract minted \d+ Wh"),
    (lambda d: _first(d, "Active").update(account_id="0x" + "12" * 20), True,
     r"Active \d+ Wh for 0x1212.*, the contract's balanceOf is 0 Wh"),
    (_cancel, True, r"Cancelled in the bundles, the contract retired"),
    (lambda d: _first(d, "Active").update(certificate_status="Claimed"), True, "holds only Active and Cancelled"),
    (lambda d: d["bundles"].pop(0), True, "the contract minted|certificates are missing"),
    (_overlap, True, "a GC counted twice"),
    (lambda d: _first(d, "Active").update(device_id=99), True, "device_id: 99, the issuance id names device"),
    (lambda d: _first(d, "Cancelled").update(consumption_starting_interval="2020-01-01T00:00:00Z",
                                             consumption_ending_interval="2020-01-01T01:00:00Z"), True,
     "against its own interval only"),
    (lambda d: d["totals"].update(cancelled_wh=1), False, r"totals.cancelled_wh: 1 Wh, the bundles sum to"),
])
def test_import_refuses_a_tampered_bundle(exported, view, tmp_path, edit, rehash, message):
    path = _tampered(exported, tmp_path, edit, rehash)
    with pytest.raises(EnergyTagImportError, match=message) as exc:
        import_energytag(path, view=view)
    assert str(path) in str(exc.value)


def test_import_refuses_what_is_not_an_export(tmp_path, view):
    path = tmp_path / "x.json"
    path.write_text("{not json")
    with pytest.raises(EnergyTagImportError, match=r"x.json: .*(json|JSON)"):
        import_energytag(path, view=view)


def test_matching_statement_is_the_contracts(certs_run, view, other_evm):
    s = statement(certs_run.folder, view)
    reference = consumer_scores(pd.read_parquet(certs_run.folder / "ledger.parquet"))  # the run's own KPI code
    assert s["totals"]["matched_wh"] == other_evm.read("Certificates", "total_retired_wh")
    assert [c["consumer"] for c in s["consumers"]] == list(reference.index)
    for c in s["consumers"]:
        t, ref = c["totals"], reference.loc[c["consumer"]]
        assert (t["consumption_wh"], t["matched_wh"]) == (ref.consumed_wh, ref.matched_wh)
        assert t["hourly_matching_score"] == pytest.approx(ref.hourly_cfe_score)
        assert t["hours"] == certs_run.summary["run"]["periods"]
        for h in c["hours"][::5]:  # hour by hour, against the contract's own per-interval views
            assert h["consumption_wh"] == other_evm.read("Certificates", "consumed_wh", c["account"], h["interval"])
            assert h["matched_wh"] == other_evm.read("Certificates", "claimed_wh", c["account"], h["interval"])
            assert h["matched_wh"] <= h["consumption_wh"] and sum(h["matched_by_device_wh"].values()) == \
                h["matched_wh"]
    assert any(h["estimated"] for c in s["consumers"] for h in c["hours"])  # the drops are in, not filtered out


def test_cli_round_trip_on_a_two_day_revm_run(tmp_path, capsys):
    folder, out = tmp_path / "run", tmp_path / "gc.json"
    assert main(["run", str(ROOT / "scenarios" / "certificates.toml"), "--out", str(folder), "--chain", "revm",
                 "--set", "run.duration_s=172800", "--set", "certificates.consumers.2.count=1"]) == 0
    assert main(["certificates", "export", str(folder), "--format", "energytag", "--out", str(out)]) == 0
    summary = json.loads((folder / "summary.json").read_text())
    retired_wh = summary["chain"]["state"]["Certificates"]["total_retired_wh"]
    assert f"{retired_wh} Wh Cancelled" in capsys.readouterr().out
    assert main(["certificates", "import", str(out), str(folder)]) == 0
    assert "every certificate as the contract" in capsys.readouterr().out
    assert main(["certificates", "matching", str(folder), "--out", str(tmp_path / "m.json")]) == 0
    assert "total_retired_wh" in capsys.readouterr().out
    doc = json.loads(out.read_text())
    _grow(doc)
    out.write_text(json.dumps(doc))
    assert main(["certificates", "import", str(out), str(folder)]) == 1
    assert "is not the sha256" in capsys.readouterr().err


def test_a_chain_archive_that_does_not_re_execute_is_not_read(certs_run, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from sim.capabilities.certificates.onchain import ChainUnreadable

    folder = tmp_path / "run"
    shutil.copytree(certs_run.folder, folder)
    part = folder / "chain" / "logs-00000.parquet"
    logs = pq.read_table(part)
    data = logs.column("data").to_pylist()
    i = len(data) // 2
    data[i] = bytes(len(data[i]))  # one archived event's data zeroed
    pq.write_table(logs.set_column(logs.schema.get_field_index("data"), "data", pa.array(data, pa.binary())), part)
    with pytest.raises(ChainUnreadable, match=r"tx \d+ \(block \d+, from .*\): log \d+ differs .*: run gridledger verify"):
        export_energytag(folder)
    shutil.rmtree(folder / "chain")
    with pytest.raises(ChainUnreadable, match="no chain archive"):
        export_energytag(folder)
