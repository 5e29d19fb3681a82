"""The run report opens in a real headless Chromium: it renders, every plot loads, nothing is fetched from the
network and the console shows no error."""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
REQUIRED = os.environ.get("GRIDLEDGER_REQUIRE_BROWSER") == "1"  # set by .ci/run, which installs Chromium

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None and not REQUIRED, reason="Debian's chromium is not installed"),
]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def _open(path):
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "chromium is required here (GRIDLEDGER_REQUIRE_BROWSER=1)"
    requests, errors = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(path.resolve().as_uri())
        page.wait_for_load_state("load")
        images = page.evaluate("Array.from(document.images).map(i => [i.alt, i.complete && i.naturalWidth > 0])")
        title = page.title()
        browser.close()
    return requests, errors, images, title


def test_run_report_renders_offline_with_every_plot(small_run):
    requests, errors, images, title = _open(small_run.folder / "report.html")
    assert title.startswith("gridledger — ")
    assert errors == []
    external = [u for u in requests if not u.startswith(("file:", "data:"))]
    assert external == []
    plots = sorted(p.stem for p in (small_run.folder / "plots").glob("*.png"))
    assert sorted(alt for alt, _ in images) == plots and len(plots) >= 3
    assert all(ok for _, ok in images)
