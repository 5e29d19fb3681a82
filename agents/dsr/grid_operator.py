"""The distribution grid operator: watches the feeder's power flow every minute, opens demand-response events on
chain when a limit is (or would be) passed, and dispatches smart outlets so that delays are spread fairly.

**Excess.** After each power flow the operator computes, to first order (loading and voltage drop both
proportional to the load), the share of the feeder's import above the binding limit:
``f = max(1 - trafo_limit / trafo_loading, 1 - line_limit / line_loading, 1 - (1 - vm_limit) / (1 - vm_min))``,
and ``excess_kw = f x import``, negative when there is headroom.

**Events.** With no event on, it opens one (``FlexDelays.create_event``) for the next ``duration_min`` minutes
when the last power flow passed a limit, or when an event ends with holds whose release at once would pass
one (``excess + held > 0``: a rebound), asking for ``(excess + held) x (1 + margin)``.

**Dispatch rule (fair).** During an event, each minute ``k``, the outlets say what their appliances would draw
if not held (``requested``, the smart outlet's start request). The operator needs held, to first order,
``need = B + sum(requested) - P_limit x (1 - margin)`` with ``B`` the feeder's import in minute ``k-1`` minus
what the outlets drew then and ``P_limit = import - excess``. Outlets already holding continue while their
limits allow; when more is held than needed, customers with the **most** delay minutes so far are released
first, each only if its release still leaves ``need`` held; when less, outlets whose appliance asks for power
and can be held are added, **customers with the fewest delay minutes so far first** — the contract's public
counter ``delay_min_of`` (read after every posting) plus the customer's delay minutes not yet on chain — ties
broken by a seeded random order of customers fixed at the start, and within a customer the outlet asking for
the most power first.

**External DR signal** (default off; ``sim/cosim``, docs/mosaik.md). With ``follow_external()`` another simulator
drives the events instead of the feeder's limits: ``external_request(k, request_kw, event_w)`` before minute ``k``
opens an event on chain starting at ``k`` (``event_w``, else the request, as its ``requested_w``) when none is on
and something is asked, and the power the operator then holds in minute ``k`` is ``request_kw`` in place of
``need``. The dispatch rule, the outlets' limits and the chain's delay log stay the same.
"""

from __future__ import annotations

from dataclasses import dataclass

import mesa
import numpy as np

from grid_models.feeder import FlowResult


@dataclass(frozen=True)
class Thresholds:
    trafo_percent: float
    line_percent: float
    vm_min_pu: float


@dataclass(frozen=True)
class ActiveEvent:
    event_id: int
    start_min: int
    end_min: int  # first minute after the event
    requested_kw: float
    requested_w: int = 0  # the request as the contract records it [W]


def excess_fraction(flow: FlowResult, th: Thresholds) -> float:
    """Share of the feeder's import above the binding limit, to first order; negative: headroom."""
    parts = [1.0 - th.trafo_percent / max(flow.trafo_loading_percent, 1e-9),
             1.0 - th.line_percent / max(flow.line_loading_max_percent, 1e-9)]
    if flow.vm_min_pu < 1.0:
        parts.append(1.0 - (1.0 - th.vm_min_pu) / (1.0 - flow.vm_min_pu))
    return max(parts)


class GridOperator(mesa.Agent):
    def __init__(self, model: mesa.Model, *, account: str, flex, thresholds: Thresholds, duration_min: int,
                 margin: float, customers: list[str], rng: np.random.Generator):
        super().__init__(model)
        self.account, self._flex, self.thresholds = account, flex, thresholds
        self.duration_min, self.margin = duration_min, margin
        self.customers = customers
        self.tie_rank = {c: int(r) for c, r in zip(customers, rng.permutation(len(customers)))}
        self.delay_min_on_chain = {c: 0 for c in customers}
        self.active: ActiveEvent | None = None
        self.events: list[ActiveEvent] = []
        self.import_kw = self.excess_kw = self.outlet_kw = 0.0
        self.held_kw = 0.0  # what the holds keep off the feeder this minute (appliances' requests) [kW]
        self.external_kw: float | None = None  # following an external DR signal: the power to hold [kW]

    def follow_external(self) -> None:
        """From now on events open on an external DR signal only (``external_request``), not on the feeder."""
        self.external_kw = 0.0

    def external_request(self, k: int, request_kw: float, event_w: int = 0) -> ActiveEvent | None:
        """Before minute ``k``: hold ``request_kw`` [kW] in it; with no event on, open one starting at ``k`` if
        ``event_w`` [W] (the request recorded on chain) or ``request_kw`` is above 0."""
        if self.external_kw is None:
            raise RuntimeError("external_request without follow_external(): the operator follows its feeder")
        if self.active is not None and k >= self.active.end_min:
            self.active = None
        if self.active is None and (event_w > 0 or request_kw > 0):
            if event_w > 0:
                self._open(k, event_w / 1000.0, event_w)
            else:
                self._open(k, request_kw, max(1, round(request_kw * 1000)))
        self.external_kw = request_kw
        return self.active

    def _open(self, start_min: int, requested_kw: float, requested_w: int) -> None:
        event_id = self._flex.create_event(start_min, self.duration_min, requested_w, sender=self.account)
        self.active = ActiveEvent(event_id, start_min, start_min + self.duration_min, requested_kw, requested_w)
        self.events.append(self.active)

    def refresh_counters(self) -> None:
        """Read every customer's delay minutes from the contract's public counters."""
        self.delay_min_on_chain = {c: self._flex.call("delay_min_of", c) for c in self.customers}

    def observe(self, k: int, flow: FlowResult, outlet_kw: float) -> ActiveEvent | None:
        """After the power flow of minute ``k`` (in which the outlets drew ``outlet_kw``): end an event that is
        over; open one if a limit was passed, or would be by releasing the holds at once."""
        self.import_kw = max(flow.slack_p_kw, 0.0)
        self.excess_kw = excess_fraction(flow, self.thresholds) * self.import_kw
        self.outlet_kw = outlet_kw
        if self.active is not None and k + 1 >= self.active.end_min:
            self.active = None
        would_be_kw = self.excess_kw + self.held_kw
        if self.external_kw is None and self.active is None and would_be_kw > 0 and self.import_kw > 0:
            requested_kw = would_be_kw * (1.0 + self.margin)
            self._open(k + 1, requested_kw, max(1, round(requested_kw * 1000)))
        return self.active

    def need_kw(self, requested_kw: np.ndarray) -> float:
        """Power to hold this minute so that the feeder stays ``margin`` below its binding limit [kW] (following an
        external DR signal: its request)."""
        if self.external_kw is not None:
            return self.external_kw
        limit_kw = self.import_kw - self.excess_kw
        return (self.import_kw - self.outlet_kw) + float(requested_kw.sum()) - limit_kw * (1.0 - self.margin)

    def _fairness_key(self, outlets: list):
        pending: dict[str, int] = {}
        for o in outlets:
            if o.holding or o.unposted:
                pending[o.customer] = pending.get(o.customer, 0) + o.pending_minutes()

        def key(i: int):
            c = outlets[i].customer
            return self.delay_min_on_chain[c] + pending.get(c, 0), self.tie_rank[c]
        return key

    def dispatch(self, k: int, outlets: list, requested_kw: np.ndarray, domain_separator: bytes,
                 event: ActiveEvent | None | str = "own", taking_part: set[int] | None = None) -> float:
        """Minute ``k``: continue, release and add holds (see the module docstring). ``requested_kw`` is what
        each outlet's appliance asks for in this minute. ``event``: the event the outlets act on; by default the
        operator's own ``active``, else the event as the outlets received it (OpenADR: None when their VEN opted
        out); ``taking_part``: if given, the indices of the only outlets that may start a hold in it. Returns the
        power held: what the held appliances would draw if released now [kW]."""
        ev = self.active if isinstance(event, str) else event
        on = ev is not None and ev.start_min <= k < ev.end_min
        keep = []
        for i, o in enumerate(outlets):
            if o.holding:
                if on and o.can_hold(k, ev.event_id, ev.end_min):
                    keep.append(i)
                else:
                    o.release(domain_separator)
        if not on:
            self.held_kw = 0.0
            return 0.0
        need = self.need_kw(requested_kw)
        held = float(sum(requested_kw[i] for i in keep))
        key = self._fairness_key(outlets)
        if held > need:
            for i in sorted(keep, key=key, reverse=True):
                if held - requested_kw[i] >= need:
                    outlets[i].release(domain_separator)
                    keep.remove(i)
                    held -= requested_kw[i]
        for i in keep:
            outlets[i].hold(k, ev.event_id, ev.end_min)
        if held < need:
            holding = set(keep)
            candidates = [i for i in np.flatnonzero(requested_kw > 0)
                          if i not in holding and (taking_part is None or i in taking_part)
                          and outlets[i].can_hold(k, ev.event_id, ev.end_min)]
            candidates.sort(key=lambda i: (*key(i), -requested_kw[i], i))
            for i in candidates:
                if held >= need:
                    break
                outlets[i].hold(k, ev.event_id, ev.end_min)
                held += requested_kw[i]
        self.held_kw = held
        return held
