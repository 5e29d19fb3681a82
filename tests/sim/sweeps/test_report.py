"""The sweep's report on a hand-made sweep table (no runs): points named by their settings, the first point the
baseline, paired differences over the common seeds with a t-interval, units, a table that fits the page."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
from scipy import stats

from sim.sweeps.paired import paired
from sim.sweeps.report import point_settings, write_sweep_report

SWEEP = """[sweep]
name = "grid"
seeds = 4
[[points]]
name = "flat"
scenario = "flat.toml"
[[points]]
name = "dynamic"
scenario = "dynamic.toml"
[grid]
"prices.penalty_eur_per_kwh" = [0.25, 0.5]
"""


def _folder(tmp_path):
    (tmp_path / "sweep.toml").write_text(SWEEP)
    rng = np.random.default_rng(1)
    common = rng.normal(100, 20, 4)  # what the seeds share: the paired differences are far tighter than the spread
    rows = []
    for point, shift in (("flat-g0", 0.0), ("flat-g1", 1.0), ("dynamic-g0", -5.0), ("dynamic-g1", -4.0)):
        penalty = 0.25 if point.endswith("g0") else 0.5
        for i in range(4):
            rows.append({"run_id": f"{point}-seed{i}", "point": point, "seed_index": i, "seed": 1000 + i,
                         "overrides": json.dumps({"prices.penalty_eur_per_kwh": penalty, "run.seed": 1000 + i}),
                         "vpp.revenue_eur": common[i] + shift + rng.normal(0, 0.1),
                         "physics.import_kwh": 118234.66 + i, "vpp.periods_with_penalty": float(i)})
    table = pd.DataFrame(rows).sort_values(["point", "seed_index"]).reset_index(drop=True)
    table.to_parquet(tmp_path / "sweep.parquet", index=False)
    (tmp_path / "sweep.json").write_text(json.dumps({"name": "grid", "runs": len(table), "skipped": 0,
                                                     "sweep_file": str(tmp_path / "sweep.toml")}))
    return table


def test_points_are_named_by_their_settings_and_the_first_is_the_baseline(tmp_path):
    table = _folder(tmp_path)
    labels = point_settings(table, json.loads((tmp_path / "sweep.json").read_text()), tmp_path)
    assert labels["flat-g1"] == "flat (flat.toml), prices.penalty_eur_per_kwh = 0.5"
    assert labels["dynamic-g0"] == "dynamic (dynamic.toml), prices.penalty_eur_per_kwh = 0.25"
    html = write_sweep_report(tmp_path).read_text()
    assert "Baseline: <b>flat (flat.toml), prices.penalty_eur_per_kwh = 0.25</b>" in html
    assert "<th>flat, penalty_eur_per_kwh = 0.5</th>" in html  # the table's columns: settings, not g0/g1
    assert "t-interval on the paired differences" in html
    assert "€" in html and "118,236 kWh" in html and "[EUR]" in html and "[kWh]" in html
    assert "table-layout:fixed;width:100%" in html  # the comparison fits the page's width
    for repr_ in ("True", "None", "e+0", "nan"):
        assert repr_ not in html.split("<h2>Runs</h2>")[0], repr_


def test_paired_differences_use_the_common_seeds_and_a_t_interval(tmp_path):
    table = _folder(tmp_path)
    d = (table[table.point == "flat-g1"].set_index("seed_index")["vpp.revenue_eur"]
         - table[table.point == "flat-g0"].set_index("seed_index")["vpp.revenue_eur"])
    p = paired(table, "vpp.revenue_eur", "flat-g1", "flat-g0")
    half = stats.t.ppf(0.975, 3) * d.std(ddof=1) / math.sqrt(4)
    assert p["n"] == 4 and math.isclose(p["mean"], d.mean())
    assert math.isclose(p["lo"], d.mean() - half) and math.isclose(p["hi"], d.mean() + half)
    assert 0 < p["lo"] < 1 < p["hi"] < 2  # paired: the shift of 1 EUR is resolved despite a spread of 20 EUR
    one = paired(table[(table.point != "flat-g1") | (table.seed_index == 0)], "vpp.revenue_eur", "flat-g1", "flat-g0")
    assert one["n"] == 1 and math.isnan(one["lo"])  # one common seed: no interval
