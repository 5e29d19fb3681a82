"""``gridledger verify``: a run re-executes identically on the other EVM, and a changed byte anywhere in the
evidence is named."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sim.cli import main
from sim.verify import verify


@pytest.fixture(scope="session")
def small_revm_run(small_scenario, tmp_path_factory):
    from sim.runner import run_scenario

    return run_scenario(small_scenario.with_overrides({"chain.backend": "revm"}),
                        out=tmp_path_factory.mktemp("runs") / "small-revm")


def test_py_evm_run_verifies_on_revm(small_run, capsys):
    assert main(["verify", str(small_run.folder)]) == 0
    assert "re-executes identically on revm" in capsys.readouterr().out


@pytest.mark.slow
def test_revm_run_verifies_on_py_evm(small_revm_run):
    verdict = verify(small_revm_run.folder)
    assert verdict.ok, verdict.message
    assert verdict.evm == "py-evm" and verdict.checked["signatures"] > 0
    me = small_revm_run.summary["chain"]["accounts"]["prosumer/pv-battery-01"]  # a member reads their payout
    assert verdict.read("EuroToken", "balanceOf", me) / 1e6 == \
        small_revm_run.summary["vpp"]["member_detail"]["pv-battery-01"]["token_balance_eur"]


def test_the_same_evm_is_refused(small_run):
    assert not verify(small_run.folder, evm="py-evm").ok


def _edit_parquet(path, column, index, change):
    table = pq.read_table(path)
    values = table.column(column).to_pylist()
    values[index] = change(values[index])
    pq.write_table(table.set_column(table.schema.get_field_index(column), column,
                                    pa.array(values, table.schema.field(column).type)), path)


def _flip(b: bytes) -> bytes:
    return b[:-1] + bytes([b[-1] ^ 1])


def _tamper_calldata(f):
    txs = f / "chain" / "txs-00000.parquet"
    i = next(i for i, d in enumerate(pq.read_table(txs).column("data").to_pylist()) if len(d) > 4 and i > 20)
    _edit_parquet(txs, "data", i, _flip)
    return f"tx {i}"


def _tamper_log(f):
    _edit_parquet(f / "chain" / "logs-00000.parquet", "data", 5, _flip)
    tx = pq.read_table(f / "chain" / "logs-00000.parquet").column("tx")[5].as_py()
    return f"tx {tx}"


def _tamper_timestamp(f):
    path = f / "chain" / "blocks-00000.parquet"
    _edit_parquet(path, "timestamp", 30, lambda t: t + 1)
    return f"block {pq.read_table(path).column('number')[30].as_py()}"


def _tamper_reading(f):
    df = pd.read_parquet(f / "readings.parquet")
    i = df.index[df.status.eq("accepted") & df.energy_wh.gt(0)][3]
    df.loc[i, "energy_wh"] += 1
    df.to_parquet(f / "readings.parquet", index=False)
    return f"reading {df.meter[i]} period {df.period[i]}"


def _tamper_signature(f):
    df = pd.read_parquet(f / "readings.parquet")
    i = df.index[df.status.eq("accepted")][7]
    df.loc[i, "sig_s"] = df.sig_s[i][:-1] + ("0" if df.sig_s[i][-1] != "0" else "1")
    df.to_parquet(f / "readings.parquet", index=False)
    return f"reading {df.meter[i]} period {df.period[i]}"


def _tamper_bytecode(f):
    header = json.loads((f / "chain" / "header.json").read_text())
    c = header["contracts"][1]
    c["bytecode"] = c["bytecode"][:-2] + ("00" if c["bytecode"][-2:] != "00" else "01")
    (f / "chain" / "header.json").write_text(json.dumps(header))
    return f"contract {c['name']}"


@pytest.mark.parametrize("tamper", [_tamper_calldata, _tamper_log, _tamper_timestamp, _tamper_reading,
                                    _tamper_signature, _tamper_bytecode], ids=lambda t: t.__name__[8:])
def test_a_changed_byte_is_named(small_run, tmp_path, tamper, capsys):
    copy = tmp_path / "copy"
    shutil.copytree(small_run.folder, copy)
    place = tamper(copy)
    assert main(["verify", str(copy)]) == 1
    err = capsys.readouterr().err
    assert place in err, err
