"""The mutual's actors: the insurer, who prices and collects premiums and records solvency, and the insured
producers, who report their outages and claim.

Premium per member and period (risk premium plus a solvency loading):

    premium = E_year x U x price x (1 + loading) / periods per year,   U = MTTR / (MTBF + MTTR)

with E_year the site's expected annual production (its weather potential over the run, scaled to a year) and
U the two-state model's forced unavailability. Without the claim threshold the expected loss ratio
(payouts / premiums) is 1 / (1 + loading); the threshold lowers it a little (shortfalls below it pay nothing).

References
----------
Billinton, R., Allan, R. N. (1996). Reliability Evaluation of Power Systems, ch. 2 (unavailability U).
Etherisc (2019). Parametric crop and flight insurance designs (trigger/exit payout).
"""

from __future__ import annotations

import mesa

from contracts.chain import ChainRevert


def premium_ueur(expected_year_wh: float, unavailability: float, price_ueur_per_kwh: int, loading: float,
                 periods_per_year: float) -> int:
    """Premium per period [ueur] for a member with ``expected_year_wh`` expected production."""
    expected_loss_ueur = expected_year_wh / 1000.0 * unavailability * price_ueur_per_kwh
    return int(round(expected_loss_ueur * (1.0 + loading) / periods_per_year))


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
    """A producer in the mutual: after a period with units down it reports the outage and claims the loss
    (expected - measured, read back from the contract) or, in the parametric variant, the index payout."""

    def __init__(self, model: mesa.Model, *, site: str, account: str, insurance, parametric: bool):
        super().__init__(model)
        self.site, self.account, self._ins, self.parametric = site, account, insurance, parametric

    def after_period(self, period: int, available_share: float, price_ueur_per_kwh: int) -> str | None:
        """Report and claim if units were down. Returns None when nothing was down, "" when a claim was paid
        (or queued), else the contract's reason for refusing it (e.g. a shortfall below the threshold)."""
        if available_share >= 1.0:
            return None
        self._ins.report_outage(period, int(available_share * 10_000), sender=self.account)
        loss_wh = 0
        if not self.parametric:
            expected = self._ins.call("expected_wh", period, self.account)
            measured = self._ins.call("measured_wh", period, self.account)
            cover_wh = self._ins.remaining_cover_ueur(self.account) * 1000 // max(1, price_ueur_per_kwh)
            loss_wh = min(max(0, expected - measured), cover_wh)
        try:
            self._ins.claim(period, loss_wh, sender=self.account)
            return ""
        except ChainRevert as exc:
            return exc.reason
