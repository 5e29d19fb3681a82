"""``gridledger trace`` on a tampered results folder exits 1 and names what does not fit: a retirement inflated
in ledger.parquet, a reading changed, deleted or added in readings.parquet. Each forgery is made consistent with
the manifest (its sha256 of the files recomputed), so what catches it is the folder's own records against each
other, not the hashes; one test checks the hashes alone."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from sim.cli import main
from sim.results.folder import MANIFEST, data_hashes
from sim.results.summary import event_args

pytestmark = pytest.mark.slow


@pytest.fixture
def copy(certs_run, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(certs_run.folder, folder)
    return folder


def _retired_id(folder) -> int:
    retired = event_args(pd.read_parquet(folder / "ledger.parquet"), "Certificates", "Retired")
    return int(retired.id.iloc[len(retired) // 2])


def _rehash(folder) -> None:
    """The forger's last step: the manifest's sha256 of each data file made to agree again."""
    m = json.loads((folder / MANIFEST).read_text())
    m["sha256"] = data_hashes(folder)
    (folder / MANIFEST).write_text(json.dumps(m))


def _trace(folder, capsys, id_=None) -> tuple[int, str]:
    code = main(["trace", str(folder), str(id_ if id_ is not None else _retired_id(folder))])
    return code, capsys.readouterr().out


def test_untouched_folder_passes_the_folder_checks(certs_run, capsys):
    code, out = _trace(certs_run.folder, capsys)
    assert code == 0 and "folder checks: 0 problem(s)" in out and "MISMATCH" not in out


def _inflate_retirement(folder, wh: int) -> int:
    ledger = pd.read_parquet(folder / "ledger.parquet")
    rows = ledger.index[(ledger.contract == "Certificates") & (ledger.event == "Retired")]
    i = rows[len(rows) // 2]
    args = json.loads(ledger.at[i, "args"])
    args["amount_wh"] += wh
    ledger.at[i, "args"] = json.dumps(args)
    ledger.to_parquet(folder / "ledger.parquet", index=False)
    return args["id"]


def test_inflated_retirement_is_caught(copy, capsys):
    id_ = _inflate_retirement(copy, 10**6)  # a MWh more than the consumer bought and consumed
    _rehash(copy)
    code, out = _trace(copy, capsys, id_)
    assert code == 1
    assert "claims above metered consumption" in out and "live + retired != minted" in out
    assert "ledger.parquet gives retired_kwh" in out
    assert "summary.json on_chain_totals" in out


def test_inflated_retirement_with_summary_rewritten_is_still_caught(copy, capsys):
    """The forger rewrites the summary's totals (and the copy of the contract's counters) to agree: the replayed
    ledger still does not balance (the burn and the sale say otherwise)."""
    _inflate_retirement(copy, 1)  # one Wh: within the consumer's consumption
    s = json.loads((copy / "summary.json").read_text())
    c = s["certificates"]
    for d in (c, c["on_chain_totals"]):
        d["retired_kwh"] = round(d["retired_kwh"] + 0.001, 3)
    (copy / "summary.json").write_text(json.dumps(s))
    _rehash(copy)
    code, out = _trace(copy, capsys)
    assert code == 1 and "live + retired != minted" in out


def _edit_readings(folder, edit) -> None:
    r = pd.read_parquet(folder / "readings.parquet")
    edit(r).to_parquet(folder / "readings.parquet", index=False)
    _rehash(folder)


def _consumer_row(r: pd.DataFrame) -> int:
    hit = r.index[r.meter.str.startswith("meter/office") & (r.status == "accepted") & (r.rule == "measured")]
    return hit[3]


def test_changed_reading_is_caught(copy, capsys):
    def edit(r):
        i = _consumer_row(r)
        r.loc[i, ["raw_wh", "energy_wh"]] = r.loc[i, "raw_wh"] + 1, r.loc[i, "energy_wh"] + 1
        return r

    _edit_readings(copy, edit)
    code, out = _trace(copy, capsys)
    assert code == 1 and "the ledger recorded" in out and "the meter's register over the stored power" in out


def test_changed_production_reading_is_caught(copy, capsys):
    def edit(r):  # a site's reading that minted: its value no longer the signed one the mint shows
        i = r.index[r.meter.str.startswith("meter/pv") & (r.status == "accepted")][0]
        r.loc[i, "energy_wh"] -= 100
        return r

    _edit_readings(copy, edit)
    code, out = _trace(copy, capsys)
    assert code == 1 and "the ledger recorded" in out


def test_deleted_reading_is_caught(copy, capsys):
    _edit_readings(copy, lambda r: r.drop(index=_consumer_row(r)))
    code, out = _trace(copy, capsys)
    assert code == 1 and "deleted" in out and "not show it accepted" in out


def test_added_reading_is_caught(copy, capsys):
    def add(r):
        row = r.loc[[_consumer_row(r)]].copy()
        extra = row.assign(period=row.period + 1000)  # an interval the run does not have
        return pd.concat([r, row, extra], ignore_index=True)

    _edit_readings(copy, add)
    code, out = _trace(copy, capsys)
    assert code == 1 and "a row added" in out and "outside the run's" in out


def test_a_plain_edit_is_caught_by_the_manifest_hashes(copy, capsys):
    s = json.loads((copy / "summary.json").read_text())
    s["certificates"]["hourly_cfe_score"] = 1.0  # a figure no other record repeats
    (copy / "summary.json").write_text(json.dumps(s))
    code, out = _trace(copy, capsys)
    assert code == 1 and "summary.json: sha256 differs from the manifest's" in out


