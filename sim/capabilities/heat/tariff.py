"""The Danish motivation tariff as published by utilities: a table-driven rule, and presets for published tariffs.

Over a billing period a consumer's flow-weighted return temperature T_r = Σ V·T_return / Σ V is compared with
the return temperature the utility expects, T_exp, read from a table: piecewise linear in the consumer's
flow-weighted supply temperature (flat outside the table), or one value per calendar month. With d = T_r − T_exp:

- a neutral zone ``neutral_below_c`` below and ``neutral_above_c`` above T_exp (each side its own width; the
  edge itself is inside the zone) gives neither rebate nor surcharge;
- outside the zone, ``counting = "from_edge"`` counts the degrees beyond the zone's edge (|d| − width), and
  ``"whole_difference"`` the whole |d| once outside (Skive: 7.3 °C above counts 7.3, not 2.3);
- a surcharge of ``surcharge_per_c`` and a rebate of ``rebate_per_c`` per counted °C, in ``rate_unit``:
  ``"percent_of_energy_price"`` (% of the variable energy price, so % of heat MWh x price) or ``"eur_per_mwh"``
  (money per MWh of heat, in the energy price's currency: EUR in the scenarios, DKK in the published examples);
- capped per side (``surcharge_cap`` / ``rebate_cap``, in the same unit; ``None``: no cap).

It applies to the variable energy charge only (MWh x energy price), never to fixed charges: every tariff found
says so ("forbrugsbidraget", "variabel pris", "MWh-prisen").

Presets (``PRESETS``; each with its source) are the published rules found; see docs/validation.md for
each against its published worked example. Between a table's published points the expected return is
interpolated linearly, and held at the end values outside them: the utilities publish integer supply
temperatures and do not say what happens in between or beyond (an assumption, flagged where it matters).

The tariff runs in Python, from totals read back from the ``HeatEfficiency`` contract (the same signed readings
that mint the tokens): a billing formula applied once per billing period, it moves no money in the twin, and as a
pure function it can be varied across a sweep without redeploying anything. See the README for the choice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BASES = ("supply_temperature", "month")
COUNTINGS = ("from_edge", "whole_difference")
RATE_UNITS = ("percent_of_energy_price", "eur_per_mwh")

# Published rules. "table" keys: (supply points [degC], expected returns [degC]); None where no table was found.
PRESETS: dict[str, dict] = {
    "lemvig_2021": {
        "source": "Lemvig Varmeværk a.m.b.a., 'Incitamentstarif, gældende fra 1. januar 2021 til 31. december "
                  "2021', https://www.lemvig-varmevaerk.dk/oekonomi/ (2021)",
        "worked_example": None,  # none published there: tested against the table and the rate themselves
        "rule": {
            "basis": "supply_temperature",
            "expected_return_supply_c": [60.0, 61.0, 62.0, 63.0, 64.0, 65.0, 66.0, 67.0, 68.0, 69.0, 70.0, 71.0,
                                         72.0],
            "expected_return_c": [41.0, 40.0, 39.0, 38.0, 37.0, 36.0, 35.0, 35.0, 35.0, 35.0, 32.0, 31.0, 30.0],
            "neutral_below_c": 0.0, "neutral_above_c": 0.0, "counting": "whole_difference",
            "surcharge_per_c": 1.5, "rebate_per_c": 0.0,  # "Tillægget er 1,5 % pr. °C ... over forventet"
            "rate_unit": "percent_of_energy_price", "surcharge_cap": None, "rebate_cap": None,
        },
    },
    "skive": {
        "source": "Skive Fjernvarme, 'Motivationstarif: Eksempler', "
                  "https://www.skivefjernvarme.dk/%C3%B8konomi/motivationstarif/eksempler/ (undated page)",
        "missing_table": "Skive Fjernvarme's expected-return table was not found in the published material (its "
                         "examples give one point: 40.7 °C at 68.0 °C supply)",
        "worked_example": "18 MWh, 545 DKK/MWh incl. VAT, supply 68.0 °C, expected 40.7 °C: return 38.0 °C → "
                          "rebate 530 DKK; 43.0 °C → nothing; 48.0 °C → surcharge 716 DKK",
        "rule": {
            "basis": "supply_temperature",
            # Skive's expected-return table ("skema") was not found; only its value at 68.0 °C (40.7 °C) is
            # published in the examples. A scenario using this preset must give the table itself.
            "expected_return_supply_c": None, "expected_return_c": None,
            "neutral_below_c": 0.0, "neutral_above_c": 5.0, "counting": "whole_difference",
            "surcharge_per_c": 1.0, "rebate_per_c": 2.0,  # "2 * 2,7% * 18 * 545"; "7,3% * 18 * 545"
            "rate_unit": "percent_of_energy_price", "surcharge_cap": None, "rebate_cap": None,
        },
    },
    "gues": {
        "source": "Gudenådalens Energiselskab (GUES), 'Incitamentsberegning' with the table of its price sheet "
                  "(prisblad), https://www.gues.dk/oekonomi/incitamentsberegning/ (undated page)",
        "worked_example": "13.010 MWh, supply 62.71 °C, return 32.46 °C, table 34 °C: "
                          "-1.54 x variable price/100 x 13.010 = -120.21 DKK",
        "rule": {
            "basis": "supply_temperature",
            "expected_return_supply_c": [55.0, 56.0, 57.0, 58.0, 59.0, 60.0, 61.0, 62.0, 63.0, 64.0, 65.0, 66.0,
                                         67.0, 68.0, 69.0, 70.0],
            "expected_return_c": [38.0, 38.0, 37.0, 37.0, 35.0, 35.0, 35.0, 34.0, 34.0, 32.0, 32.0, 32.0, 31.0,
                                  31.0, 31.0, 30.0],
            "neutral_below_c": 0.0, "neutral_above_c": 0.0, "counting": "whole_difference",
            "surcharge_per_c": 1.0, "rebate_per_c": 1.0,  # "1% af variabel pris i kr. pr. grad pr. MWh", both
            "rate_unit": "percent_of_energy_price", "surcharge_cap": None, "rebate_cap": None,
        },
    },
}
DEFAULT_PRESET = "lemvig_2021"


def expected_return_c(t_supply_c, supply_points_c, return_points_c):
    """Expected return temperature [degC] for a (flow-weighted) supply temperature [degC]: linear between the
    points, flat outside them. Works on scalars and arrays."""
    return np.interp(t_supply_c, supply_points_c, return_points_c)


@dataclass(frozen=True)
class TariffRule:
    """One utility's motivation tariff (see the module docstring). ``table_c``: expected returns [degC] at
    ``table_x`` (supply temperatures [degC]) for the ``supply_temperature`` basis; twelve values, January first,
    for the ``month`` basis (``table_x`` empty)."""

    basis: str
    table_x: tuple[float, ...]
    table_c: tuple[float, ...]
    neutral_below_c: float = 0.0
    neutral_above_c: float = 0.0
    counting: str = "whole_difference"
    surcharge_per_c: float = 0.0
    rebate_per_c: float = 0.0
    rate_unit: str = "percent_of_energy_price"
    surcharge_cap: float | None = None
    rebate_cap: float | None = None

    def __post_init__(self):
        if self.basis not in BASES or self.counting not in COUNTINGS or self.rate_unit not in RATE_UNITS:
            raise ValueError(f"basis in {BASES}, counting in {COUNTINGS}, rate_unit in {RATE_UNITS}")
        if self.basis == "month":
            if len(self.table_c) != 12 or self.table_x:
                raise ValueError("a month table has twelve expected returns (January first) and no supply points")
        elif not self.table_x or len(self.table_x) != len(self.table_c):
            raise ValueError("the supply points and the expected returns need the same (non-zero) length")
        elif any(b <= a for a, b in zip(self.table_x, self.table_x[1:])):
            raise ValueError("the supply points must be strictly increasing")

    def expected_return_c(self, t_supply_c=None, month=None):
        """Expected return [degC]: at supply temperature(s) ``t_supply_c`` [degC] (supply basis), or in calendar
        month(s) ``month`` (1-12; month basis)."""
        if self.basis == "month":
            return np.asarray(self.table_c)[np.asarray(month, dtype=int) - 1]
        return expected_return_c(t_supply_c, self.table_x, self.table_c)

    def adjustment(self, heat_mwh: float, price_per_mwh: float, t_return_c: float,
                   expected_c: float) -> TariffResult:
        """Surcharge (positive) or rebate (negative) for one billing period, in the price's currency."""
        d = t_return_c - expected_c
        if d > self.neutral_above_c:
            counted = d - self.neutral_above_c if self.counting == "from_edge" else d
            rate, cap, sign = self.surcharge_per_c, self.surcharge_cap, 1.0
        elif d < -self.neutral_below_c:
            counted = -d - self.neutral_below_c if self.counting == "from_edge" else -d
            rate, cap, sign = self.rebate_per_c, self.rebate_cap, -1.0
        else:
            counted, rate, cap, sign = 0.0, 0.0, None, 0.0
        per_unit = rate * counted if cap is None else min(rate * counted, cap)
        bill = heat_mwh * price_per_mwh
        if self.rate_unit == "percent_of_energy_price":
            money = sign * per_unit / 100.0 * bill
        else:
            money = sign * per_unit * heat_mwh
        pct = 100.0 * money / bill if bill else 0.0
        return TariffResult(heat_mwh, t_return_c, expected_c, sign * counted, pct, money)


@dataclass(frozen=True)
class TariffResult:
    heat_mwh: float
    t_return_c: float
    expected_return_c: float
    counted_c: float  # degrees counted: positive above, negative below, 0 inside the neutral zone
    adjustment_percent: float  # of the energy bill; positive: surcharge; negative: rebate
    adjustment_eur: float  # in the energy price's currency


def preset_rule(name: str, **overrides) -> TariffRule:
    """The rule of preset ``name`` with ``overrides`` (the scenario's key names; ``None``: take the preset's)
    replacing its values. The expected-return table is inherited only as a whole: when neither
    ``expected_return_supply_c`` nor ``expected_return_c`` is given and the basis is the preset's."""
    if name not in PRESETS:
        raise ValueError(f"unknown tariff preset {name!r}; expected one of {sorted(PRESETS)}")
    given = {k: v for k, v in overrides.items() if v is not None}
    values = {**PRESETS[name]["rule"], **given}
    table_given = "expected_return_supply_c" in given or "expected_return_c" in given
    if not table_given and values["basis"] != PRESETS[name]["rule"]["basis"]:
        values["expected_return_supply_c"] = values["expected_return_c"] = None
    if values["basis"] == "month" and "expected_return_supply_c" not in given:
        values["expected_return_supply_c"] = None
    if values["expected_return_c"] is None:
        missing = PRESETS[name].get("missing_table")
        raise ValueError((f"preset {name!r}: {missing}; " if missing and not table_given else "")
                         + "give the expected-return table: expected_return_supply_c and expected_return_c "
                         "(or, with basis = \"month\", expected_return_c alone: twelve values, January first)")
    return rule_from(values)


def rule_from(values: dict) -> TariffRule:
    """A TariffRule from the scenario's key names (``expected_return_supply_c``, ``expected_return_c``, …)."""
    v = dict(values)
    xs, cs = v.pop("expected_return_supply_c", None), v.pop("expected_return_c", None)
    return TariffRule(table_x=tuple(xs or ()), table_c=tuple(cs or ()), **v)
