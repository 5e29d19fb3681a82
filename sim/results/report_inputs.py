"""The report's "Scenario inputs" section: what the run was given (site, period, population, prices, rules), read
from the scenario the manifest records — the settings as validated, defaults included."""

from __future__ import annotations

from typing import Any

import pandas as pd

from sim.results import report_html as H
from sim.results.fmt import quantity, words
from sim.results.headline import is_table
from sim.results.plotting import RunInfo


def _duration(seconds: float) -> str:
    s = int(seconds)
    days, rest = divmod(s, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [f"{days} day{'s' * (days != 1)}" if days else "", f"{hours} h" if hours else "",
             f"{minutes} min" if minutes else ""]
    return " ".join(p for p in parts if p) or f"{s} s"


def _flat(tree: dict, prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for k, v in tree.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v and not is_table(v):
            out += _flat(v, f"{key}.")
        else:
            out.append((key, v))
    return out


def _block(title: str, anchor: str, tree: dict | list | None) -> list[str]:
    """A scenario section as a key–value table, its lists of records as tables of their own."""
    if tree is None or tree == {} or tree == []:
        return []
    if isinstance(tree, list):
        tree = {"": tree}
    rows, tables = [], []
    for key, v in _flat(tree):
        if is_table(v):
            if isinstance(v, dict):
                frame = pd.DataFrame(v).T.rename_axis("name")
            elif all("name" in r for r in v):
                frame = pd.DataFrame(v).set_index("name")
            else:
                frame = pd.DataFrame(v, index=pd.RangeIndex(1, len(v) + 1, name="#"))
            label = f"{title}: {words(key.split('.')[-1])}" if key else title
            tables.append(H.entity_table(f"input-{anchor}-{key.replace('.', '-') or 'list'}", label, frame, {}))
        else:
            label = " · ".join(words(p) for p in key.split("."))
            rows.append((label, quantity(key.split(".")[-1], v)))
    return ([f"<h3>{H.e(title)}</h3>", H.kv_table(rows)] if rows else []) + tables


def inputs_section(scenario: dict, info: RunInfo, capabilities: list[tuple[str, tuple[str, ...]]]) -> list[str]:
    """The scenario's inputs: run and site, weather, feeder, population, then every enabled capability's sections
    (``capabilities``: its title and section names, in the registry's order)."""
    if not scenario:
        return ["<h2 id='inputs'>Scenario inputs</h2><p>The manifest does not record the scenario.</p>"]
    run = scenario.get("run", {})
    end = info.start + pd.Timedelta(seconds=run.get("duration_s", 0))
    when = [("scenario name", run.get("name", "")),
            ("start (local time)", f"{info.start:%Y-%m-%d %H:%M %Z}"), ("end (local time)", f"{end:%Y-%m-%d %H:%M %Z}"),
            ("duration", _duration(run.get("duration_s", 0))), ("time step", _duration(run.get("step_s", 0))),
            ("settlement period", _duration(run.get("settlement_s", 0))), ("seed", str(run.get("seed", "")))]
    site = scenario.get("site", {})
    where = [("latitude", f"{site.get('lat')}°"), ("longitude", f"{site.get('lon')}°"),
             ("time zone", str(site.get("tz"))), ("altitude", quantity("altitude_m", site.get("altitude_m")))]
    out = ["<h2 id='inputs'>Scenario inputs</h2>",
           "<p>What the run was given, as validated (defaults included).</p>",
           "<h3>Period</h3>", H.kv_table(when), "<h3>Site</h3>", H.kv_table(where)]
    out += _block("Population (prosumer groups)", "population", scenario.get("population"))
    out += _block("Feeder", "feeder", scenario.get("feeder"))
    out += _block("Weather", "weather", scenario.get("weather"))
    for title, keys in capabilities:
        for key in keys:
            out += _block(f"{title}: {words(key)}", key, scenario.get(key))
    out += _block("Meters (faults injected)", "meters", scenario.get("meters"))
    out += _block("Chain", "chain", scenario.get("chain"))
    return out
