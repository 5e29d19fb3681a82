"""Revenue shares in basis points (sum exactly 10 000), from the scenario's share rule."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from agents.allocation import largest_remainder
from sim.capabilities.vpp.spec import SHARE_TOTAL_BPS, member_ids

if TYPE_CHECKING:
    from sim.scenario import Scenario


def shares_bps(weights: np.ndarray) -> list[int]:
    """Integer basis points proportional to ``weights`` summing to exactly 10 000 (largest remainder)."""
    return largest_remainder(SHARE_TOTAL_BPS, weights)


def member_weights(scenario: Scenario, pv_kwp: dict[str, float]) -> np.ndarray:
    """Weights of the VPP members under ``vpp.share_rule`` (``equal``, ``pv_kwp`` or ``explicit``)."""
    members = member_ids(scenario)
    rule = scenario.vpp.share_rule
    if rule == "explicit":
        return np.array([scenario.vpp.shares_percent[m] for m in members])
    if rule == "pv_kwp":
        return np.array([pv_kwp[m] for m in members])
    return np.ones(len(members))
