"""The report's number style (sim/results/fmt.py): money to the cent with comma thousands, units from the key,
no exponent, no Python repr."""

from __future__ import annotations

import pytest

from sim.results.fmt import MINUS, heading, money, number, quantity, unit_of


@pytest.mark.parametrize("value, text", [
    (421.45, "€421.45"), (118234.66, "€118,234.66"), (0.005049, "€0.01"), (0.0, "€0.00"), (-0.0, "€0.00"),
    (-3.2, f"{MINUS}€3.20"), (1234567.891, "€1,234,567.89"), (0.1061, "€0.11"),
])
def test_money_is_written_to_the_cent_with_comma_thousands(value, text):
    assert money(value) == text


@pytest.mark.parametrize("value, text", [
    (951.833, "951.8"), (49056.2, "49,056"), (0.00431, "0.00431"), (1.1208e-05, "0.00001121"), (24, "24"),
    (1620.0, "1,620"), (-2.5, f"{MINUS}2.5"), (33.743831590407055, "33.74"),
])
def test_numbers_keep_four_significant_digits_and_never_an_exponent(value, text):
    assert number(value) == text
    assert "e" not in number(value * 1e-3) and "e" not in number(value * 1e9)


@pytest.mark.parametrize("key, value, text", [
    ("paid_eur", 118234.66, "€118,234.66"), ("amount_ueur", 421_450_000, "€421.45"),
    ("delivered_kwh", 0.76, "0.76 kWh"), ("trafo_loading_max_percent", 33.74, "33.74 %"),
    ("hourly_cfe_score", 0.5, "50 %"), ("delay_min", 12, "12 min"), ("solvency_ratio_min", 1.5, "1.5"),
    ("jain_index_delay_min", 1.0, "1"), ("money_conserved_every_period", True, "yes"),
    ("pool_never_negative", False, "no"), ("double_counting_violations", [], "none"),
    ("unsettled_periods", {}, "none"), ("fixed_at", None, "—"), ("expected_return_c", [40.0, 38.0], "40 °C, 38 °C"),
    ("pools", [{"address": "0xab", "members": 3}], "1 entry"),
])
def test_summary_values_are_written_with_their_unit_and_never_as_a_repr(key, value, text):
    assert quantity(key, value) == text


def test_addresses_are_named_when_the_address_book_knows_them():
    addr = "0x6ee34c7dd0164d8F72F5bDaf5fFe7b4eB89016d8"
    assert quantity("beneficiary", addr, {addr.lower(): "bakery-01"}) == "bakery-01"


def test_headings_say_words_and_unit():
    assert heading("payouts_eur") == "payouts [EUR]"
    assert heading("share_bps") == "share [%]" and unit_of("share_bps") == ("%", 0.01)
    assert heading("consumers") == "consumers"
