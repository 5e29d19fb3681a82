"""The run report as HTML text (no browser): headline figures equal summary.json (money to the cent), every
per-entity table with a CSV download, names (not addresses) outside the chain section, no Python repr, the
capabilities in the registry's order, local time axes in the plots' words."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from sim.registry import REGISTRY
from sim.results.headline import entity_tables, lookup
from sim.results.report import shown, unit_key, write_report

pytestmark = pytest.mark.slow  # the small VPP run of tests/conftest.py (shared with the browser test)

ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


class _Cards(HTMLParser):
    """data-key -> shown text of the headline cards."""

    def __init__(self):
        super().__init__()
        self.figures, self._key, self._in_value = {}, None, False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "data-key" in a:
            self._key = a["data-key"]
        elif self._key and a.get("class") == "v":
            self._in_value = True

    def handle_data(self, data):
        if self._in_value:
            self.figures[self._key] = data
            self._in_value, self._key = False, None


@pytest.fixture(scope="module")
def report(small_run):
    path = write_report(small_run.folder)
    return path.read_text(), json.loads((small_run.folder / "summary.json").read_text())


def parse_money(text: str) -> float:
    return float(text.replace("\u2212", "-").replace("€", "").replace(",", ""))


def test_headline_figures_equal_the_summary_money_to_the_cent(report):
    html, summary = report
    cards = _Cards()
    cards.feed(html)
    assert {k.split(".")[0] for k in cards.figures} >= {"vpp", "physics", "vee"}
    for key, text in cards.figures.items():
        value = lookup(summary, key)
        if unit_key(key).endswith("_eur"):
            assert text.startswith(("€", "\u2212€")), (key, text)
            assert parse_money(text) == round(value, 2), (key, text, value)
        if isinstance(value, bool):
            assert text == ("yes" if value else "no")
    assert cards.figures["vpp.paid_eur"] == shown(summary["vpp"], type("F", (), {"key": "paid_eur", "of": None}),
                                                  {})


def test_no_python_repr_and_no_address_outside_the_chain_section(report):
    html, _ = report
    before, chain = html.split("<details id='chain'>", 1)
    text = re.sub(r"<[^>]+>", " ", re.sub(r"(src|href)='[^']*'", "", before))
    assert ADDRESS.search(text) is None
    for repr_ in ("True", "False", "None", "[{'", "{'", "nan", "e+0"):
        assert repr_ not in text, repr_
    assert ADDRESS.search(chain)  # the address book is there, collapsed


def test_every_per_entity_table_is_there_with_a_csv_download(report):
    html, summary = report
    for cap in ("vpp",):
        for key in entity_tables(summary[cap]):
            tid = f"{cap}-{key.replace('.', '-')}"
            assert f"data-table='{tid}'" in html, tid
            assert f"download='{tid}.csv' href='data:text/csv" in html
    assert "pv-battery-01" in html.split("data-table='vpp-member_detail'", 1)[1][:3000]


def test_sections_follow_the_registry_and_plots_have_local_time_and_names(report):
    html, summary = report
    order = [html.index(f"<h2 id='{i.name}'>") for i in REGISTRY if i.name in summary]
    assert order == sorted(order) and order
    alts = re.findall(r"<img alt='([^']*)'", html)
    assert any("local time (Europe/Berlin)" in a for a in alts)
    assert not any("(UTC)" in a for a in alts)
    assert not any(ADDRESS.search(a) or re.search(r"\b0x[0-9a-fA-F]{6}", a) for a in alts)
    assert any("pv-battery-01" in a for a in alts)
