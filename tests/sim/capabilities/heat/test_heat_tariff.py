"""The motivation tariff against published Danish tariffs: each preset against its utility's own worked example
(or, where none was published, its table and rate), the rule's counting modes, units and caps against the
published examples that show them. Sources and figures: docs/validation.md."""

from __future__ import annotations

from typing import get_args

import numpy as np
import pytest

from sim.capabilities.heat.spec import MotivationTariffSpec
from sim.capabilities.heat.tariff import DEFAULT_PRESET, PRESETS, TariffRule, preset_rule


def test_default_is_lemvig_2021_and_every_preset_cites_its_source():
    assert DEFAULT_PRESET == "lemvig_2021" == MotivationTariffSpec().preset
    assert set(get_args(MotivationTariffSpec.model_fields["preset"].annotation)) == {*PRESETS, "custom"}
    for name, p in PRESETS.items():
        assert "https://" in p["source"], name
        assert (p["worked_example"] is None) == (name == "lemvig_2021")  # said so in the docs


def test_lemvig_2021_table_and_rate():
    """Lemvig Varmeværk 2021: no worked example is published; the table and the rate are: expected return 41 °C at
    60 °C supply ... 32 °C at 70 °C ... 30 °C at 72 °C; +1.5 % per °C above it; nothing below."""
    rule = preset_rule("lemvig_2021")
    supply = np.arange(60.0, 73.0)
    published = [41, 40, 39, 38, 37, 36, 35, 35, 35, 35, 32, 31, 30]
    assert rule.expected_return_c(supply).tolist() == published
    assert rule.expected_return_c(70.0) == 32.0  # the old default said 39.5 here
    for t_s, t_exp in zip(supply, published):
        above = rule.adjustment(10.0, 100.0, t_exp + 4.0, rule.expected_return_c(t_s))
        assert above.adjustment_percent == pytest.approx(6.0) and above.adjustment_eur == pytest.approx(60.0)
        assert rule.adjustment(10.0, 100.0, t_exp - 4.0, rule.expected_return_c(t_s)).adjustment_eur == 0.0
    # outside the published 60-72 °C the end values are held (an assumption: the table stops there)
    assert rule.expected_return_c(80.0) == 30.0 and rule.expected_return_c(55.0) == 41.0


@pytest.mark.parametrize(("t_return", "published_dkk"), [(38.0, -530), (43.0, 0), (48.0, 716)],
                         ids=["rebate", "free-zone", "surcharge"])
def test_skive_worked_examples(t_return, published_dkk):
    """Skive Fjernvarme's three examples: 18 MWh at 545 DKK/MWh (incl. VAT), supply 68.0 °C, expected 40.7 °C
    ("findes i skema"): 38.0 °C → rebate 530 DKK (2 x 2.7 % x 18 x 545); 43.0 °C → nothing (within 5 °C above);
    48.0 °C → surcharge 716 DKK (7.3 % x 18 x 545: the whole 7.3 °C once outside the zone). Published to the krone.
    Skive's table was not found: the test gives the one published point."""
    rule = preset_rule("skive", expected_return_supply_c=[68.0], expected_return_c=[40.7])
    r = rule.adjustment(18.0, 545.0, t_return, rule.expected_return_c(68.0))
    assert round(r.adjustment_eur) == published_dkk


def test_skive_counts_the_whole_difference_not_from_the_edge():
    rule = preset_rule("skive", expected_return_supply_c=[68.0], expected_return_c=[40.7])
    assert rule.adjustment(18.0, 545.0, 48.0, 40.7).counted_c == pytest.approx(7.3)
    edge = preset_rule("skive", expected_return_supply_c=[68.0], expected_return_c=[40.7], counting="from_edge")
    assert edge.adjustment(18.0, 545.0, 48.0, 40.7).adjustment_eur == pytest.approx(0.023 * 18 * 545)  # 226 ≠ 716


def test_skive_without_a_table_is_refused_naming_what_is_missing():
    with pytest.raises(ValueError, match="Skive.*not found.*40.7"):
        preset_rule("skive")


def test_gues_worked_example():
    """GUES (Gudenådalens Energiselskab): 13.010 MWh, supply 62.71 °C, return 32.46 °C, table 34 °C:
    32.46 − 34 = −1.54 → "−1.54 x variable price/100 x 13.010 = −120.21 kr". The page does not state the
    variable price; −120.21 kr implies 600 kr/MWh (120.21 / (0.0154 x 13.010) = 599.99)."""
    rule = preset_rule("gues")
    expected = float(rule.expected_return_c(62.71))
    assert expected == 34.0
    r = rule.adjustment(13.010, 600.0, 32.46, expected)
    assert r.adjustment_percent == pytest.approx(-1.54)
    assert round(r.adjustment_eur, 2) == -120.21
    assert rule.adjustment(13.010, 600.0, 35.46, expected).adjustment_percent == pytest.approx(1.46)  # 1 % both sides


def test_per_mwh_rate_against_gues_newer_example():
    """GUES's other example, in money per MWh: 10 kr per MWh per °C; 10.087 MWh, supply 71.38 °C, return
    45.42 °C, table 34 °C: 10 x 11.42 = 114.2 kr/MWh x 10.087 = 1 151.94 kr. (That page's table was not
    found, so this is a test of the rule, not a preset: the expected return is the published 34 °C.)"""
    rule = TariffRule("supply_temperature", (71.38,), (34.0,), surcharge_per_c=10.0, rebate_per_c=10.0,
                      rate_unit="eur_per_mwh")
    r = rule.adjustment(10.087, 500.0, 45.42, float(rule.expected_return_c(71.38)))
    assert round(r.adjustment_eur, 2) == 1151.94
    assert r.adjustment_percent == pytest.approx(100 * 1151.9354 / (10.087 * 500.0))


def test_from_edge_counting_against_haderslev_example():
    """Haderslev Fjernvarme (2018): rebate of 1 % per °C below 31 °C, surcharge of 1 % per °C above 36 °C, no change
    between: "a mean return of 27 °C saves 4 %" (counted from the edge)."""
    rule = TariffRule("supply_temperature", (70.0,), (31.0,), neutral_above_c=5.0, counting="from_edge",
                      surcharge_per_c=1.0, rebate_per_c=1.0)
    assert rule.adjustment(18.0, 500.0, 27.0, 31.0).adjustment_percent == pytest.approx(-4.0)
    assert rule.adjustment(18.0, 500.0, 36.0, 31.0).adjustment_eur == 0.0
    assert rule.adjustment(18.0, 500.0, 38.0, 31.0).adjustment_percent == pytest.approx(2.0)


def test_asymmetric_zones_rates_and_caps():
    """The rule's own mechanics (no published figures): zones, rates and caps differ by side."""
    rule = TariffRule("supply_temperature", (60.0, 80.0), (40.0, 30.0), neutral_below_c=1.0, neutral_above_c=5.0,
                      counting="from_edge", surcharge_per_c=1.0, rebate_per_c=2.0, surcharge_cap=25.0,
                      rebate_cap=14.0)
    assert rule.expected_return_c(70.0) == 35.0
    assert rule.adjustment(1.0, 100.0, 34.0, 35.0).adjustment_eur == 0.0  # on the lower edge: inside
    assert rule.adjustment(1.0, 100.0, 40.0, 35.0).adjustment_eur == 0.0  # on the upper edge: inside
    assert rule.adjustment(1.0, 100.0, 31.0, 35.0).adjustment_percent == pytest.approx(-6.0)  # (4 − 1) x 2
    assert rule.adjustment(1.0, 100.0, 20.0, 35.0).adjustment_percent == pytest.approx(-14.0)  # rebate cap
    assert rule.adjustment(1.0, 100.0, 50.0, 35.0).adjustment_percent == pytest.approx(10.0)  # (15 − 5) x 1
    assert rule.adjustment(1.0, 100.0, 80.0, 35.0).adjustment_percent == pytest.approx(25.0)  # surcharge cap
    assert rule.adjustment(1.0, 100.0, float("nan"), 35.0).adjustment_eur == 0.0  # no volume: no tariff


def test_old_design_example_still_holds_as_a_from_edge_rule():
    """The design's former example (not a utility's): 18.1 MWh at 50 EUR/MWh, expected 39 °C, actual 50 °C, 6 °C
    band counted from its edge ⇒ 5 % ⇒ 45.25 EUR."""
    rule = TariffRule("supply_temperature", (70.0,), (39.0,), neutral_below_c=6.0, neutral_above_c=6.0,
                      counting="from_edge", surcharge_per_c=1.0, rebate_per_c=1.0, surcharge_cap=20.0,
                      rebate_cap=20.0)
    assert rule.adjustment(18.1, 50.0, 50.0, 39.0).adjustment_eur == pytest.approx(45.25)


def test_month_table():
    rule = TariffRule("month", (), tuple(float(c) for c in (30, 30, 31, 32, 34, 36, 36, 36, 34, 32, 31, 30)),
                      surcharge_per_c=1.0)
    assert rule.expected_return_c(month=np.array([1, 6, 12])).tolist() == [30.0, 36.0, 30.0]
    with pytest.raises(ValueError, match="twelve"):
        TariffRule("month", (), (30.0,) * 11)
    with pytest.raises(ValueError, match="strictly increasing"):
        TariffRule("supply_temperature", (70.0, 60.0), (30.0, 35.0))
