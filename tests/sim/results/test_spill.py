"""Spilling long logs to disk as the run goes (``sim.results.spill``, ``ReadingsLog``, ``contracts.event_log.EventLog``):
what is read back is exactly what would have stayed in memory, a run whose logs spill gives the same results
as one whose logs do not, and a finished run leaves no spill folder behind."""

from __future__ import annotations

import pandas as pd
import pytest

import contracts.event_log as event_log
import sim.measurement.readings_log as readings_log
from contracts.event_log import EventLog
from sim.measurement.readings_log import ReadingsLog
from sim.results.spill import SPILL_FOLDER, SpillDir
from sim.runner import run_scenario


def rows(n):
    """Readings-log rows with the awkward cases: None and NaN, a column that appears late, mixed objects."""
    out = []
    for i in range(n):
        row = {"meter": f"meter/{i % 3}", "period": i, "raw_wh": None if i % 4 == 0 else i * 1.5,
               "energy_wh": i, "quality": i % 2, "rule": "measured" if i % 5 else "interpolated"}
        if i >= n - 3:
            row["status"], row["reason"] = "refused", f"r{i}"
        out.append(row)
    return out


def test_a_spilled_readings_log_reads_back_what_memory_would_hold(monkeypatch, tmp_path):
    monkeypatch.setattr(readings_log, "CHUNK_ROWS", 7)
    spill = SpillDir(tmp_path / "spill")
    spilled, kept = ReadingsLog(spill), ReadingsLog()
    for row in rows(45):
        spilled.append(dict(row))
        kept.append(dict(row))
        assert spilled.rows_in_memory < 7
    assert len(list((tmp_path / "spill").iterdir())) == 6 and len(spilled) == 45
    pd.testing.assert_frame_equal(spilled.frame(), kept.frame(), check_exact=True)
    pd.testing.assert_frame_equal(spilled.frame(), pd.DataFrame(rows(45)).infer_objects(), check_exact=True)
    spill.remove()
    assert not (tmp_path / "spill").exists()


def test_an_event_log_spills_old_chunks_and_reads_like_a_list(tmp_path):
    spill = SpillDir(tmp_path / "spill")
    log, plain = EventLog(chunk_events=4), []
    log.spill_to(spill)
    for i in range(23):
        (log.append if i % 2 else lambda e: log.extend([e]))(("event", i))
        plain.append(("event", i))
        assert log.in_memory < 8
    assert len(log) == 23 and log == plain and list(log) == plain
    assert len(list((tmp_path / "spill").iterdir())) == 4
    for index in (0, 5, 16, 22, -1, -23, slice(3, 9), slice(17, None), slice(None, None, 2), slice(-5, None)):
        assert log[index] == plain[index]
    with pytest.raises(IndexError):
        log[23]
    del log[18:]  # a revert into the memory tail
    del plain[18:]
    assert log == plain
    del log[2:]  # and into the spilled part
    del plain[2:]
    assert log == plain and len(log) == 2
    log.extend(("event", i) for i in range(100, 120))
    plain.extend(("event", i) for i in range(100, 120))
    assert log == plain and log.in_memory < 8
    log.unspill()
    assert log == plain and log.in_memory == len(plain)


@pytest.mark.slow
def test_a_run_whose_logs_spill_gives_the_same_results(small_scenario, tmp_path, monkeypatch):
    scenario = small_scenario.with_overrides({"run.duration_s": 2 * 86_400})
    reference = run_scenario(scenario)
    writes = []
    write = SpillDir.write

    def counted(self, obj, stem="chunk"):
        path = write(self, obj, stem)
        writes.append((stem, path.parent.name))
        return path

    monkeypatch.setattr(SpillDir, "write", counted)
    monkeypatch.setattr(readings_log, "CHUNK_ROWS", 50)
    monkeypatch.setattr(event_log, "CHUNK_EVENTS", 40)
    spilled = run_scenario(scenario, out=tmp_path / "run")
    assert {stem for stem, _ in writes} == {"readings", "events"}
    assert {folder for _, folder in writes} == {SPILL_FOLDER}  # inside the results folder
    assert not (tmp_path / "run" / SPILL_FOLDER).exists()
    assert not any(SPILL_FOLDER in name for name in spilled.manifest["files"])
    for name in ("timeseries", "ledger", "readings"):
        pd.testing.assert_frame_equal(getattr(spilled, name), getattr(reference, name), check_exact=True)
    assert spilled.summary == reference.summary
    assert spilled.twin.chain.events == reference.twin.chain.events
