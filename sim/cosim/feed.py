"""What another simulator hands the twin for a step, written in before the step runs: a certificate site's
generation [kW] (into the certificates capability's per-step generation, which its meter integrates) and an
external DR signal to the micro-DSR grid operator (``GridOperator.external_request``: an event on chain, the power
to hold). A prosumer's PV and load go through ``Twin.feed_step_kw``."""

from __future__ import annotations

from sim.twin import Twin


def _check_step(twin: Twin, k: int) -> None:
    if k < 0 or k >= twin.n_steps or twin.env.now > k * twin.step_s:
        raise ValueError(f"step {k} cannot be fed: the clock is at {twin.env.now:g} s, the run has "
                         f"{twin.n_steps} steps of {twin.step_s} s")


def feed_site_kw(twin: Twin, k: int, site_kw: dict[int, float]) -> None:
    """Replace step ``k``'s generation of certificate sites (by their index) [kW, mean over the step]. The oracle's
    weather caps stay the model's: a site is minted at most its interval's cap."""
    _check_step(twin, k)
    gen_kw = twin.capability("certificates").gen_kw
    for i, p_kw in site_kw.items():
        gen_kw[k, i] = p_kw


def follow_dr_signal(twin: Twin) -> None:
    """From now on the grid operator opens DR events on the external signal only (``request_dr``)."""
    twin.capability("dsr").operator.follow_external()


def request_dr(twin: Twin, k: int, request_kw: float, event_w: int) -> None:
    """Step ``k``'s DR signal: hold ``request_kw`` [kW]; with no event on, open one from ``k`` on chain, recording
    ``event_w`` [W] (0: the request's) as its requested reduction."""
    _check_step(twin, k)
    twin.capability("dsr").operator.external_request(k, request_kw, event_w)
