"""The reports open in a real headless Chromium: each shipped scenario's run report (shrunk: a few hours to two
days, few members) and the tariff sweep's report. Checked in the rendered page: headline figures present and equal
to summary.json (money to the cent), names not addresses in tables and plot labels, local time axes, no horizontal
overflow at 1280 px (the chain section opened too), nothing fetched from the network, no console error, every
per-entity table there with its CSV download. Screenshots are written for a person to look at:
``results/report-screenshots/`` (or ``$GRIDLEDGER_SCREENSHOTS``).

The shipped HIL scenarios (hil_demo, hil_dsr, on their device tables simulated on loopback) and a HIL run with a
device meter and a relay are checked in ``tests/sim/hil/test_hil_runs.py``. Not here: the
insurance seed sweep (a sweep like the tariffs')."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
REQUIRED = os.environ.get("GRIDLEDGER_REQUIRE_BROWSER") == "1"  # set by .ci/run, which installs Chromium

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None and not REQUIRED, reason="Debian's chromium is not installed"),
]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
SHOTS = Path(os.environ.get("GRIDLEDGER_SCREENSHOTS", ROOT / "results" / "report-screenshots"))
SMALL_FEEDER = {"feeder.network": "kerber_landnetz_kabel_2", "population.0.count": 4, "population.1.count": 2}
SHIPPED = {  # scenario file -> overrides that shrink it
    "community.toml": {"run.start": dt.datetime(2025, 3, 10, 17), "run.duration_s": 2 * 3600},
    "district_heating.toml": {"run.duration_s": 4 * 3600, "heat.buildings.0.count": 4, "heat.buildings.1.count": 2},
    "insurance.toml": {"run.duration_s": 2 * 86_400},
    "micro_dsr.toml": {"run.start": dt.datetime(2025, 1, 13, 16), "run.duration_s": 2 * 3600},
    "vpp_year_100_prosumers.toml": {"run.start": dt.datetime(2025, 6, 2), "run.duration_s": 86_400, **SMALL_FEEDER},
    "year_tmy3.toml": {"run.start": dt.datetime(2025, 6, 2), "run.duration_s": 2 * 86_400},
    "own_data/own_data.toml": {"run.duration_s": 86_400},
}


def _open(path: Path, shot: str):
    """Open ``path`` at 1280 px; what the checks need from the page, and two screenshots."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "chromium is required here (GRIDLEDGER_REQUIRE_BROWSER=1)"
    requests, errors = [], []
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("request", lambda r: requests.append(r.url))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(path.resolve().as_uri())
        page.wait_for_load_state("load")
        page.screenshot(path=SHOTS / f"{shot}-first-screen.png")
        got = page.evaluate("""() => {
          const outside = Array.from(document.body.children).filter(n => n.id !== 'chain');
          const chain = document.getElementById('chain');
          const width = () => document.documentElement.scrollWidth;
          const w = width();
          if (chain) chain.open = true;
          return {
            overflow: [w, width(), document.documentElement.clientWidth],
            title: document.title,
            figures: Object.fromEntries(Array.from(document.querySelectorAll('.card [data-key]'))
                       .map(n => [n.dataset.key, n.querySelector('.v').textContent])),
            text: outside.map(n => n.innerText).join('\\n'),
            images: Array.from(document.images).map(i => [i.alt, i.complete && i.naturalWidth > 0,
                                                        !!(chain && chain.contains(i))]),
            tables: Array.from(document.querySelectorAll('table.entities')).map(t => [t.dataset.table,
                       t.tBodies[0].rows.length, !!(chain && chain.contains(t))]),
            csv: Object.fromEntries(Array.from(document.querySelectorAll('a[download]'))
                       .map(a => [a.getAttribute('download'), a.href.slice(0, 22)])),
          };
        }""")
        first = page.locator("table.entities thead th").nth(1)
        if first.count():  # sorting works: a click sorts the first table by its second column
            first.click()
            got["sorted"] = page.locator("table.entities thead th").nth(1).get_attribute("aria-sort")
        page.screenshot(path=SHOTS / f"{shot}-full.png", full_page=True)
        browser.close()
    got.update(requests=requests, errors=errors)
    return got


def _check_run(folder: Path, shot: str) -> None:
    from sim.registry import REGISTRY
    from sim.results.headline import entity_tables, lookup
    from sim.results.report import shown, unit_key

    summary = json.loads((folder / "summary.json").read_text())
    tz = json.loads((folder / "manifest.json").read_text())["scenario"]["site"]["tz"]
    got = _open(folder / "report.html", shot)
    assert got["title"].startswith("gridledger — ")
    assert got["errors"] == []
    assert [u for u in got["requests"] if not u.startswith(("file:", "data:"))] == []
    before, opened, client = got["overflow"]
    assert before <= client and opened <= client, got["overflow"]
    # headline figures: every capability of the run has its card, each figure equals summary.json
    caps = [i.name for i in REGISTRY if i.name in summary]
    assert {k.split(".")[0] for k in got["figures"]} >= set(caps)
    for key, text in got["figures"].items():
        cap, _, rest = key.partition(".")
        value = lookup(summary, key)
        if unit_key(key).endswith("_eur") and not isinstance(value, bool):
            assert float(text.replace("\u2212", "-").replace("€", "").replace(",", "")) == round(value, 2), key
        fig = type("F", (), {"key": rest, "of": None})
        assert text.startswith(shown(summary[cap], fig, {})), (key, text)
    # names, not addresses, outside the chain section: text, tables and plot words
    assert ADDRESS.search(got["text"]) is None
    assert not any(ADDRESS.search(alt) for alt, _, _ in got["images"])
    assert all(ok for _, ok, _ in got["images"]) and len(got["images"]) >= 2
    timed = [alt for alt, _, _ in got["images"] if re.search(r"\btime \(", alt)]
    assert timed and all(f"local time ({tz})" in alt for alt in timed)
    assert not any("(UTC)" in alt for alt, _, _ in got["images"]) or tz == "UTC"
    # every per-entity table of every capability, with rows and a CSV download
    tables = {t: n for t, n, in_chain in got["tables"] if not in_chain}
    for cap in caps:
        for key, frame in entity_tables(summary[cap]).items():
            tid = f"{cap}-{key.replace('.', '-')}"
            assert tables.get(tid) == len(frame), tid
            assert got["csv"].get(f"{tid}.csv", "").startswith("data:text/csv"), tid
    assert got.get("sorted") in ("ascending", "descending")


def test_vpp_report(small_run):
    _check_run(small_run.folder, "vpp")


def test_certificates_report(certs_run):
    _check_run(certs_run.folder, "certificates")


@pytest.mark.parametrize("scenario", sorted(SHIPPED))
def test_shipped_scenario_report(scenario, tmp_path):
    from sim.runner import run_scenario
    from sim.scenario import load_scenario

    result = run_scenario(load_scenario(ROOT / "scenarios" / scenario).with_overrides(SHIPPED[scenario]),
                          out=tmp_path / "run")
    _check_run(result.folder, scenario.removesuffix(".toml").replace("/", "-"))


def test_tariff_sweep_report(tmp_path):
    from sim.sweeps.sweep import run_sweep

    tariffs = ROOT / "scenarios" / "tariffs"
    text = (tariffs / "sweep.toml").read_text().replace('scenario = "', f'scenario = "{tariffs}/')
    text = text.replace("seeds = 4", "seeds = 2").replace("[sweep]\n", "[sweep]\noverrides = { \"run.start\" = "
                        "2025-06-02T09:00:00, \"run.duration_s\" = 10800, \"feeder.network\" = "
                        "\"kerber_landnetz_kabel_2\", \"population.0.count\" = 4, \"population.1.count\" = 2 }\n", 1)
    (tmp_path / "sweep.toml").write_text(text)
    run_sweep(tmp_path / "sweep.toml", tmp_path / "out", workers=2)
    got = _open(tmp_path / "out" / "report.html", "tariff-sweep")
    assert got["errors"] == [] and got["title"] == "gridledger sweep — tariffs"
    assert [u for u in got["requests"] if not u.startswith(("file:", "data:"))] == []
    before, opened, client = got["overflow"]
    assert before <= client, got["overflow"]
    assert "Baseline: flat" in got["text"] and "t-interval on the paired differences" in got["text"]
    assert all(ok for _, ok, _ in got["images"]) and all("[" in alt for alt, _, _ in got["images"])
    assert got["csv"]["sweep-tariffs.csv"].startswith("data:text/csv")
