"""The Danish motivation tariff, the reference design the token scheme is compared with.

Over a billing period, a consumer's flow-weighted return temperature T_r = Σ V·T_return / Σ V is compared with
the return temperature the utility expects for the flow-weighted supply temperature it delivered. Beyond a
neutral band either side of the expected return, the bill changes by ``percent_per_c`` (1 %) of the energy
price per degC, capped at ``cap_percent`` (20 %): a surcharge above, a rebate below.

Worked example: 18.1 MWh at 50 EUR/MWh, expected return 39 degC, actual 50 degC, band 6 degC: 11 − 6 = 5 degC
⇒ 5 % of 905 EUR = 45.25 EUR surcharge.

It runs in Python, from totals read back from the ``HeatEfficiency`` contract (the same signed readings that
mint the tokens): the tariff is a billing formula applied once per billing period to totals, it moves no money
in the twin (the energy bill itself is not settled on chain), and as a pure function it can be varied across a
sweep without redeploying anything. See the README for the choice.

References
----------
Grenaa Varmeværk, "Motivationstarif" (1 % of the heat price per degC outside a neutral band, 4 degC from 2023);
Lemvig Varmeværk, "Incitamentstarif" (expected return as a function of the supply temperature);
VEKS (2003), "Introduction of incentive tariffs" (Roskilde cooling tariff).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def expected_return_c(t_supply_c, supply_points_c, return_points_c):
    """Expected return temperature [degC] for a (flow-weighted) supply temperature [degC]: linear between the
    points, flat outside them. Works on scalars and arrays."""
    return np.interp(t_supply_c, supply_points_c, return_points_c)


@dataclass(frozen=True)
class TariffResult:
    heat_mwh: float
    t_return_c: float
    expected_return_c: float
    adjustment_percent: float  # positive: surcharge; negative: rebate
    adjustment_eur: float


def motivation_tariff(heat_mwh: float, price_eur_per_mwh: float, t_return_c: float, expected_c: float, *,
                      percent_per_c: float = 1.0, neutral_band_c: float = 4.0,
                      cap_percent: float = 20.0) -> TariffResult:
    """Surcharge (positive) or rebate (negative) of the motivation tariff for one billing period [EUR]."""
    excess = t_return_c - expected_c
    beyond = np.sign(excess) * max(0.0, abs(excess) - neutral_band_c)
    pct = float(np.clip(percent_per_c * beyond, -cap_percent, cap_percent))
    return TariffResult(heat_mwh, t_return_c, expected_c, pct, heat_mwh * price_eur_per_mwh * pct / 100.0)
