"""A retail import price as the customers see it: each settlement period's price [EUR/kWh] and the time from
which it is known. A customer deciding at time ``t`` may use only the prices of periods with
``known_from_s <= t`` (time-of-use bands: always known; a day-ahead price: from the auction result the day
before). Published by the tariff capability under a ``response`` that includes the appliances it names."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PriceSignal:
    """``eur_per_kwh[p]``: the import price of settlement period ``p``; ``known_from_s[p]``: seconds from the run's
    start from which it is known (negative: known before the run); ``period_s``: the settlement period [s]."""

    eur_per_kwh: np.ndarray
    known_from_s: np.ndarray
    period_s: int

    def per_minute(self, n_min: int, step_s: int = 60) -> tuple[np.ndarray, np.ndarray]:
        """The price [EUR/kWh] and the time it is known from [s] of each of ``n_min`` steps of ``step_s`` seconds
        (minutes past the last period repeat its values: a job's tail past the horizon is priced like the last
        period)."""
        period = np.minimum(np.arange(n_min) * step_s // self.period_s, len(self.eur_per_kwh) - 1)
        return self.eur_per_kwh[period], self.known_from_s[period]
