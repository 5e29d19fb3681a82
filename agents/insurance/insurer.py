"""The mutual's actors: the insurer, who prices and collects premiums (in advance) and records solvency, and
the insured producers, who claim for the periods whose outages the oracle has recorded.

Pricing: the premium is the expected **claimable** loss divided by the target loss ratio. Per member, with
``n`` identical units failing independently (two-state model, unavailability U = MTTR / (MTBF + MTTR) per
unit) the number of units down in a period is Binomial(n, U) in the steady state, and with ``k`` down the
site measures (1 - k/n) of its expected production E_t. The contract pays a period only when an outage is
recorded, E_t > 0, the shortfall k/n is *above* the threshold, and a measured reading is on chain:

    L = price x sum_t E_t x sum_{k: k/n > threshold} P(k) x (k/n) x m_t,k          (indemnity)
    L = cover x sum_{t: E_t > 0} sum_{k: k/n > threshold} P(k) x f(1 - k/n) x m_t,k  (parametric)
    premium per period = L / target loss ratio / periods

with m_t,k = 1 when VEE would accept the site's reading in period t with k units down (a 0/1 mask; without it
every reading counts) and f(r) = clip((trigger - r) / (trigger - exit), 0, 1) the parametric index. Then the
expected loss ratio (payouts / premiums) is the target. Assumptions: units stay up or down for a whole period
(exact at hourly steps and periods, close when MTTR >> period); the steady state holds from the first period
(units start up, which lowers the first MTTR-long stretch a little). The sum insured caps what a member is
paid over the run: L is multiplied by E[min(L, SI)] / E[L], estimated on seeded outage paths
(``sum_insured_factor``; 1 when no path reaches it, as for the indemnity variant's half-year-of-revenue cover;
well below 1 for a parametric cover of a day's share per period, which a long outage of a one-unit site exhausts).

References
----------
Billinton, R., Allan, R. N. (1996). Reliability Evaluation of Power Systems, ch. 2 (unavailability U) and
ch. 11 (independent identical units: binomial capacity-outage table).
Etherisc (2019). Parametric crop and flight insurance designs (trigger/exit payout).
"""

from __future__ import annotations

from math import comb

import mesa
import numpy as np

from contracts.chain import ChainRevert


def units_down_pmf(n_units: int, unavailability: float) -> np.ndarray:
    """P(k of ``n_units`` independent units down), k = 0..n [1]: Binomial(n, U)."""
    if n_units < 1 or not 0.0 <= unavailability <= 1.0:
        raise ValueError(f"need n_units >= 1 and 0 <= unavailability <= 1, got {n_units}, {unavailability}")
    return np.array([comb(n_units, k) * unavailability**k * (1.0 - unavailability) ** (n_units - k)
                     for k in range(n_units + 1)])


def _claimable(expected_wh, n_units: int, threshold: float, measurable) -> tuple[np.ndarray, np.ndarray,
                                                                                  np.ndarray]:
    e = np.asarray(expected_wh, dtype=float)
    if e.ndim != 1 or (e < 0).any():
        raise ValueError("expected_wh must be a 1-d series of non-negative energies [Wh]")
    down_share = np.arange(n_units + 1) / n_units
    opens = (down_share > threshold).astype(float)  # the contract: measured < expected x (1 - threshold)
    mask = np.ones((len(e), n_units + 1)) if measurable is None else np.asarray(measurable, dtype=float)
    if mask.shape != (len(e), n_units + 1):
        raise ValueError(f"measurable must have shape (periods, n_units + 1) = {(len(e), n_units + 1)}, "
                         f"got {mask.shape}")
    return e, down_share, opens * mask * (e[:, None] > 0)


def indemnity_loss_table_wh(expected_wh, n_units: int, threshold: float, measurable=None) -> np.ndarray:
    """Lost energy the indemnity variant pays in each period if k units are down, shape (periods, n_units + 1)
    [Wh]: E_t x k/n where a claim opens (E_t > 0, k/n > ``threshold``) x ``measurable``, else 0."""
    e, down_share, weight = _claimable(expected_wh, n_units, threshold, measurable)
    return e[:, None] * weight * down_share[None, :]


def parametric_index_table(expected_wh, n_units: int, threshold: float, *, trigger: float, exit: float,
                           measurable=None) -> np.ndarray:
    """Share of the cover the parametric variant pays in each period if k units are down, shape
    (periods, n_units + 1) [1]: clip((trigger - r) / (trigger - exit), 0, 1) at r = 1 - k/n where a claim opens."""
    _, down_share, weight = _claimable(expected_wh, n_units, threshold, measurable)
    index = np.clip((trigger - (1.0 - down_share)) / (trigger - exit), 0.0, 1.0)
    return weight * index[None, :]


def expected_claimable_loss_wh(expected_wh, n_units: int, unavailability: float, threshold: float,
                               measurable=None) -> float:
    """Expected lost energy the indemnity variant pays over the periods of ``expected_wh`` [Wh].

    ``expected_wh``: the site's expected production per period at full availability [Wh]; ``threshold``:
    shortfall share below which no claim opens [1]; ``measurable``: optional (periods, n_units + 1) 0/1 mask,
    1 where a reading with k units down would be accepted."""
    table = indemnity_loss_table_wh(expected_wh, n_units, threshold, measurable)
    return float(np.sum(table * units_down_pmf(n_units, unavailability)[None, :]))


def expected_parametric_payout_ueur(expected_wh, n_units: int, unavailability: float, threshold: float, *,
                                    trigger: float, exit: float, cover_ueur: float, measurable=None) -> float:
    """Expected parametric payout over the periods of ``expected_wh`` [ueur]: ``cover_ueur`` x the index
    clip((trigger - r) / (trigger - exit), 0, 1) at the measured ratio r = 1 - k/n (shares [1])."""
    table = parametric_index_table(expected_wh, n_units, threshold, trigger=trigger, exit=exit,
                                   measurable=measurable)
    return float(cover_ueur * np.sum(table * units_down_pmf(n_units, unavailability)[None, :]))


def sum_insured_factor(payout_table_ueur: np.ndarray, units_down_paths: np.ndarray, sum_insured_ueur: float
                       ) -> float:
    """E[min(L, sum insured)] / E[L] over sampled outage paths [1], L = sum_t payout_table[t, k_t] the payout
    of one path (``units_down_paths``: units down per draw and period, shape (draws, periods)). 1 when no path
    reaches the sum insured; the analytic expected payout times this factor is what the capped contract pays."""
    table = np.asarray(payout_table_ueur, dtype=float)
    paths = np.asarray(units_down_paths)
    if paths.ndim != 2 or paths.shape[1] != table.shape[0]:
        raise ValueError(f"units_down_paths must have shape (draws, {table.shape[0]}), got {paths.shape}")
    totals = table[np.arange(table.shape[0])[None, :], paths].sum(axis=1)
    mean = totals.mean()
    return float(np.minimum(totals, sum_insured_ueur).mean() / mean) if mean > 0 else 1.0


def premium_ueur(expected_claimable_loss_ueur: float, target_loss_ratio: float, periods: int) -> int:
    """Premium per period [ueur]: the expected claimable loss over ``periods`` / target loss ratio / periods."""
    if not 0.0 < target_loss_ratio <= 1.0 or periods < 1:
        raise ValueError(f"need 0 < target_loss_ratio <= 1 and periods >= 1, got {target_loss_ratio}, {periods}")
    return int(round(expected_claimable_loss_ueur / target_loss_ratio / periods))


class Insurer(mesa.Agent):
    def __init__(self, model: mesa.Model, *, account: str, insurance):
        super().__init__(model)
        self.account = account
        self._ins = insurance

    def collect(self, period: int) -> None:
        self._ins.collect_premiums(period, sender=self.account)

    def record_solvency(self, period: int) -> None:
        self._ins.record_solvency(period, sender=self.account)


class InsuredProducer(mesa.Agent):
    """A producer in the mutual: after a period with units down (the oracle has recorded the outage) it claims
    the loss (expected - measured, read back from the contract; the contract caps the payout at what is left of
    the sum insured) or, in the parametric variant, the index payout."""

    def __init__(self, model: mesa.Model, *, site: str, account: str, insurance, parametric: bool):
        super().__init__(model)
        self.site, self.account, self._ins, self.parametric = site, account, insurance, parametric

    def after_period(self, period: int, available_share: float) -> str | None:
        """Claim if units were down. Returns None when nothing was down, "" when a claim was paid (or queued),
        else the contract's reason for refusing it (e.g. a shortfall below the threshold)."""
        if available_share >= 1.0:
            return None
        loss_wh = 0
        if not self.parametric:
            expected = self._ins.call("expected_wh", period, self.account)
            measured = self._ins.call("measured_wh", period, self.account)
            loss_wh = max(0, expected - measured)
        try:
            self._ins.claim(period, loss_wh, sender=self.account)
            return ""
        except ChainRevert as exc:
            return exc.reason
