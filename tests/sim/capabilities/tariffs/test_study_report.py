"""The tariff study's sweep report opens in headless Chromium (as the run and sweep reports do,
tests/sim/test_report_browser.py): the five shipped designs over 2 seeds (shrunk: three hours, 6 households, a
small feeder), and the page shows the bill-change distribution per customer type, revenue neutrality and the feeder's
peak, each paired against the baseline, with the figures equal to the runs' own files."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from sim.results.fmt import quantity
from tests.conftest import ROOT
from tests.sim.test_report_browser import CHROMIUM, REQUIRED, _open

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None and not REQUIRED, reason="Debian's chromium is not installed"),
]
SHRINK = ('overrides = { "run.start" = 2025-06-02T09:00:00, "run.duration_s" = 10800, "feeder.network" = "kerber_landnetz_kabel_2", '
          '"population.0.count" = 4, "population.1.count" = 2, "vpp.members" = ["pv-only-01", "pv-only-02"] }\n')


def test_tariff_study_report(tmp_path):
    from sim.sweeps.sweep import run_sweep

    study = ROOT / "scenarios" / "tariffs"
    text = (study / "study.toml").read_text().replace('scenario = "', f'scenario = "{study}/')
    text = text.replace("seeds = 4", "seeds = 2").replace("[sweep]\n", "[sweep]\n" + SHRINK, 1)
    (tmp_path / "study.toml").write_text(text)
    table = run_sweep(tmp_path / "study.toml", tmp_path / "out", workers=2)
    assert sorted(table.point.unique()) == ["capacity", "community", "dynamic", "flat", "time_of_use"]
    got = _open(tmp_path / "out" / "report.html", "tariff-study")
    page = got["text"]
    assert got["errors"] == [] and [u for u in got["requests"] if not u.startswith(("file:", "data:"))] == []
    assert got["overflow"][0] <= got["overflow"][2], got["overflow"]
    for words in ("Tariff study", "Bill change per customer type", "winners", "90th percentile Δ",
                  "Revenue neutrality and the feeder, paired against the baseline", "feeder peak import [kW]",
                  "of the baseline's", "flat (baseline)"):
        assert words in page, words
    # the capacity design's winners and losers among the pv-only households, recomputed from the bills files
    deltas = []
    for seed in (0, 1):
        def totals(point):
            b = pd.read_parquet(tmp_path / "out" / f"{point}-seed{seed}" / "bills.parquet")
            return b[b.group == "pv-only"].groupby("household").total_eur.sum()
        deltas += list(totals("capacity") - totals("flat"))
    d = np.array(deltas)
    row = f"capacity pv-only {len(d)} {int((d < -0.005).sum())} {int((d > 0.005).sum())}"
    assert row in " ".join(page.split()), row
    # revenue: the page's paired mean equals the runs' summaries
    rev = {p: [json.loads((tmp_path / "out" / f"{p}-seed{s}" / "summary.json").read_text())["tariffs"]
               ["utility_revenue_eur"] for s in (0, 1)] for p in ("flat", "dynamic")}
    mean = float(np.mean(np.subtract(rev["dynamic"], rev["flat"])))
    shown = f"Δ {quantity('tariffs.utility_revenue_eur', mean)}"
    assert shown in " ".join(page.split()), (shown, rev)
    assert all(ok for _, ok, _ in got["images"])
