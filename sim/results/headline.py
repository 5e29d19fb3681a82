"""What a capability puts in the run report (its hook ``CapabilityInfo.report``: ``f(summary) -> Section``, the
capability's own part of summary.json in, plain data out; the report writes the HTML), and how a summary is cut
into figures and per-entity tables.

A ``Figure`` names a number of summary.json by its dotted key (``paid_eur``, ``on_chain_totals_eur.paid``) and says
in words what it is; the report shows it with its unit (from the key's suffix, see ``sim.results.fmt``). Every
per-entity table of the summary (a mapping of names to records, or a list of records) is found by
``entity_tables`` without the capability listing it; ``Section.tables`` only gives them titles."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sim.results.fmt import HEX


@dataclass(frozen=True)
class Figure:
    key: str  # dotted path into the capability's summary
    words: str  # what it is, for an analyst: "paid out to members"
    of: str | None = None  # dotted key of a total it is out of ("2 of 8 periods")


@dataclass(frozen=True)
class Section:
    title: str
    lead: str = ""  # one or two sentences: what the capability does in this run
    figures: tuple[Figure, ...] = ()
    tables: dict[str, str] = field(default_factory=dict)  # dotted key of a per-entity table -> its title


def lookup(tree: dict, key: str) -> Any:
    """The value at a dotted key (KeyError when absent)."""
    node: Any = tree
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(key)
        node = node[part]
    return node


def _is_record(v: Any) -> bool:
    return isinstance(v, dict) and bool(v) and all(not isinstance(x, (dict, list)) or x == [] for x in v.values())


def is_table(v: Any) -> bool:
    """A per-entity table: names -> records (flat dicts), or a list of records."""
    if isinstance(v, dict) and v:
        return all(_is_record(x) for x in v.values())
    if isinstance(v, list) and v:
        return all(_is_record(x) for x in v)
    return False


def entity_tables(tree: dict, prefix: str = "") -> dict[str, pd.DataFrame]:
    """Every per-entity table under ``tree`` (dotted key -> frame indexed by name or row number)."""
    out: dict[str, pd.DataFrame] = {}
    for k, v in tree.items():
        key = f"{prefix}{k}"
        if is_table(v):
            frame = pd.DataFrame(v).T if isinstance(v, dict) else pd.DataFrame(v)
            frame.index.name = "name" if isinstance(v, dict) else "#"
            if isinstance(v, list):
                frame.index = range(1, len(frame) + 1)
                frame.index.name = "#"
            out[key] = frame
        elif isinstance(v, dict):
            out.update(entity_tables(v, f"{key}."))
    return out


def flat_figures(tree: dict, prefix: str = "") -> dict[str, Any]:
    """Every other value under ``tree`` by dotted key (tables left out; chain data — addresses, hashes — too)."""
    out: dict[str, Any] = {}
    for k, v in tree.items():
        key = f"{prefix}{k}"
        if is_table(v):
            continue
        if isinstance(v, dict) and v:
            out.update(flat_figures(v, f"{key}."))
        elif isinstance(v, str) and HEX.match(v):
            continue
        else:
            out[key] = v
    return out


def chain_data(tree: dict, prefix: str = "") -> dict[str, str]:
    """The addresses and hashes a capability's summary holds outside its tables (for the chain section)."""
    out: dict[str, str] = {}
    for k, v in tree.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and not is_table(v):
            out.update(chain_data(v, f"{key}."))
        elif isinstance(v, str) and HEX.match(v):
            out[key] = v
    return out
