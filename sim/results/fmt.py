"""How the report writes numbers: money to the cent with the euro sign, quantities with their unit, never
scientific notation, never a Python repr.

Style (chosen once, for an English-language page): comma as the thousands separator, point as the decimal mark,
the euro sign before the amount and the true minus sign (U+2212) before both: 421.45 EUR is ``€421.45``,
118 234.66 EUR is ``€118,234.66``, −3.2 EUR is ``−€3.20``. Money is rounded half-to-even to the cent, which is what
``round(x, 2)`` gives. Quantities keep four significant digits (at least the integer part): 951.833 kWh is
``951.8 kWh``, 49 056.2 kWh is ``49,056 kWh``, 0.00431 kWh is ``0.00431 kWh``. The CSV downloads keep the raw
numbers of ``summary.json``.

The unit of a summary figure is read from its key's suffix (``paid_eur``, ``delivered_kwh``, ``delay_min``…),
the one convention of ``summary.json``."""

from __future__ import annotations

import math
import re

MINUS = "\u2212"
ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
HEX = re.compile(r"^0x[0-9a-fA-F]{40,}$")  # an address or a hash: chain data

# key suffix -> (unit shown, factor applied to the value); the longest matching suffix wins
UNITS: dict[str, tuple[str, float]] = {
    "_ueur": ("EUR", 1e-6), "_eur": ("EUR", 1.0), "_eur_per_mwh": ("EUR/MWh", 1.0),
    "_eur_per_kwh": ("EUR/kWh", 1.0), "_eur_per_year": ("EUR/year", 1.0), "_eur_per_mwh_bonus": ("EUR/MWh", 1.0),
    "_wh": ("Wh", 1.0), "_kwh": ("kWh", 1.0), "_mwh": ("MWh", 1.0), "_kw": ("kW", 1.0), "_kwp": ("kWp", 1.0),
    "_w": ("W", 1.0), "_percent": ("%", 1.0), "_bps": ("%", 0.01), "_min": ("min", 1.0), "_h": ("h", 1.0),
    "_hours": ("h", 1.0), "_s": ("s", 1.0), "_c": ("°C", 1.0), "_k": ("K", 1.0), "_pu": ("p.u.", 1.0),
    "_m": ("m", 1.0), "_m3": ("m³", 1.0), "_bar": ("bar", 1.0), "_deg": ("°", 1.0), "_m_per_s": ("m/s", 1.0),
    "_w_per_mk": ("W/(m·K)", 1.0), "_per_mwh": ("per MWh", 1.0), "_per_kwh": ("per kWh", 1.0),
    "_score": ("%", 100.0), "_share": ("%", 100.0),
}
DIMENSIONLESS = ("ratio", "index", "factor", "count")
_SUFFIXES = sorted(UNITS, key=len, reverse=True)


def unit_of(key: str) -> tuple[str, float]:
    """The unit of a summary key and the factor to show it in ('' and 1 when the key names none)."""
    k = key.lower()
    if any(w in k for w in DIMENSIONLESS) and not k.endswith(("_score", "_percent")):
        return "", 1.0  # solvency_ratio_min, jain_index_delay_min: a minimum of a ratio, not minutes
    return next((UNITS[s] for s in _SUFFIXES if k.endswith(s)), ("", 1.0))


def words(key: str) -> str:
    """A summary key in words, without its unit suffix: ``payouts_eur`` -> ``payouts``."""
    k = key
    for s in _SUFFIXES:
        if k.lower().endswith(s) and len(k) > len(s) and UNITS[s][1] != 100.0:
            k = k[: -len(s)]
            break
    return k.replace("_", " ").replace("/", " / ")


def heading(key: str) -> str:
    """A column heading: words and unit, ``payouts [EUR]``."""
    unit = unit_of(key)[0]
    return f"{words(key)} [{unit}]" if unit else words(key)


def money(value: float) -> str:
    """EUR to the cent: ``€421.45``, ``€118,234.66``, ``−€3.20``."""
    cents = round(float(value), 2)
    text = f"€{abs(cents):,.2f}"
    return MINUS + text if cents < 0 else text


def number(value: float) -> str:
    """Four significant digits (the integer part always whole), thousands separated, no exponent."""
    v = float(value)
    if not math.isfinite(v):
        return "—" if math.isnan(v) else (MINUS if v < 0 else "") + "∞"
    if v == int(v) and abs(v) < 1e15:
        text = f"{abs(int(v)):,}"
    else:
        a = abs(v)
        digits = 0 if a >= 1000 else max(0, 3 - math.floor(math.log10(a))) if a > 0 else 0
        text = f"{a:,.{min(digits, 9)}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
    return MINUS + text if v < 0 and text.strip("0.,") else text


def quantity(key: str, value, names: dict[str, str] | None = None) -> str:
    """A summary value as the report writes it, its unit from the key."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        unit, factor = unit_of(key)
        if unit == "EUR":
            return money(value * factor)
        shown = number(value * factor)
        return f"{shown} {unit}" if unit else shown
    if isinstance(value, str):
        if ADDRESS.match(value) and names is not None:
            return names.get(value.lower(), value)
        return value
    if isinstance(value, (list, tuple)):
        if not value:
            return "none"
        if all(not isinstance(v, (dict, list)) for v in value):
            return ", ".join(quantity(key, v, names) for v in value)
        return f"{len(value)} entr{'y' if len(value) == 1 else 'ies'}"
    if isinstance(value, dict):
        return "none" if not value else f"{len(value)} entries"
    return str(value)
