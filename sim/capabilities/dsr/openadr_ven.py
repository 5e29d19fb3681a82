"""gridledger's outlets behind one OpenADR 2.0b VEN (openleadr's ``OpenADRClient``): it receives the grid
operator's DR events, opts in or out by the outlets' limits, and reports the outlets' delays back.

**Opt-in rule.** An outlet *may take part* in a DR event when its customer's limits leave it at least one minute
of the event: a minute outside the outlet's no-delay hours on a local day whose delay budget
(``max_delay_per_day_min``, counting the delays already booked, and the outlet's current hold, which ends before
the new event starts) has a minute left, and the outlet has not reported for this event already. The VEN opts in
when at least one outlet may take part, else out, and only the outlets that may take part are dispatched. An
outlet that may not take part could not hold a single minute of the event (``agents.dsr.outlet.Outlet.within_limits``
is stricter still: it also needs the minutes contiguous and within ``max_delay_per_event_min``), so the rule
never keeps from the event an outlet that could have held.

**Reports.** One ``TELEMETRY_USAGE`` report, two data points per outlet (``openadr_events``); the twin sends one
(``OpenADRClient.update_report``) each time delays are posted on chain.

openleadr's VEN answers (``oadrCreatedEvent``) only events that have not ended by the wall clock; a simulated
event is usually in the past, so then the VEN answers through the same message itself
(``OpenADRClient.created_event``). Runs on an ``AsyncLoopThread``; the methods marked *loop* run there.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial

from openleadr import OpenADRClient, utils

from sim.capabilities.dsr.openadr_events import MEASUREMENTS, QUANTITIES, Delay, DrEvent, from_oadr, r_id, report_points

REPORT_SPECIFIER = "gridledger-outlet-delays"


def may_take_part(outlet, ev: DrEvent) -> bool:
    """Whether the outlet's limits leave it at least one minute of ``ev`` (see the module docstring);
    ``outlet``: an ``agents.dsr.outlet.Outlet`` before the event's first minute."""
    limits, state = outlet.limits, outlet.state
    if ev.event_id in state.done_events:
        return False
    used = dict(state.used_min_by_day)
    h = state.hold
    if h is not None:
        if h.event_id == ev.event_id:
            return True
        day = outlet.local_day(h.start_min)
        used[day] = used.get(day, 0) + h.minutes
    return any(limits.hour_allowed(outlet.local_hour(m))
               and used.get(outlet.local_day(m), 0) + 1 <= limits.max_delay_per_day_min
               for m in range(ev.start_min, ev.end_min))


class OutletsVen:
    """``outlets``: the outlets' names (the VEN's resources); ``take_part(ev)``: the names of the outlets that may
    take part in ``ev`` (the opt-in rule)."""

    def __init__(self, *, t0_s: int, ven_name: str, vtn_url: str, outlets: list[str],
                 take_part: Callable[[DrEvent], list[str]]):
        self.t0_s, self.take_part = t0_s, take_part
        self.client = OpenADRClient(ven_name=ven_name, vtn_url=vtn_url, show_fingerprint=False,
                                    disable_signature=True)
        self.client.add_handler("on_event", self._on_event)
        for outlet in outlets:
            for q in QUANTITIES:
                measurement, unit, _ = MEASUREMENTS[q]
                self.client.add_report(callback=partial(self._take, r_id(outlet, q)), resource_id=outlet,
                                       measurement=measurement, unit=unit, r_id=r_id(outlet, q),
                                       report_specifier_id=REPORT_SPECIFIER, report_name="TELEMETRY_USAGE",
                                       report_duration=timedelta(days=1))
        self.received: dict[int, tuple[DrEvent, str, list[str]]] = {}  # event id -> (event, opt, outlets taking part)
        self.errors: list[str] = []
        self._pending: dict[str, list] = {}

    # loop ------------------------------------------------------------------------------------------------
    async def start(self) -> None:
        await self.client.run()
        if not self.client.registration_id:
            raise RuntimeError(f"OpenADR: the VEN was not registered by the VTN at {self.client.vtn_url}")

    async def stop(self) -> None:
        await self.client.stop()

    def poll_now(self) -> None:
        """Run the VEN's poll job now (it also runs every ``requested_oadr_poll_freq``): the job openleadr's
        ``run()`` scheduled for its ``_poll``, moved to now through APScheduler's ``Job.modify``."""
        for job in self.client.scheduler.get_jobs():
            if job.func == self.client._poll:
                job.modify(next_run_time=datetime.now(UTC))

    async def report(self, delays: list[Delay]) -> None:
        """Send one report with ``delays`` (each outlet's data points are taken by openleadr's callbacks)."""
        self._pending = report_points(delays, self.t0_s)
        request_id = next(r["report_request_id"] for r in self.client.report_requests
                          if r["report_specifier_id"] == REPORT_SPECIFIER)
        await self.client.update_report(request_id)
        left = [rid for rid, points in self._pending.items() if points]
        if left:
            raise RuntimeError(f"OpenADR: the VTN did not request the data points {left[:3]} of the VEN's report")

    def _take(self, rid: str) -> list:
        return self._pending.pop(rid, [])

    async def _on_event(self, event: dict) -> str:
        """Read the event, apply the opt-in rule, answer. A failure is kept (the twin raises it) and answered
        optOut, so that the VTN is never left waiting."""
        try:
            ev = from_oadr(event, self.t0_s)
            outlets = self.take_part(ev)
        except Exception as err:  # noqa: BLE001 -- kept and raised in the twin's thread (OpenAdrLink.publish)
            self.errors.append(f"{type(err).__name__}: {err}")
            ev, outlets = None, []
        opt = "optIn" if outlets else "optOut"
        if ev is not None:
            self.received[ev.event_id] = (ev, opt, outlets)
        if utils.determine_event_status(event["active_period"]) == "completed":  # openleadr will not answer it
            await self.client.created_event(request_id=utils.generate_id(),
                                            event_id=event["event_descriptor"]["event_id"], opt_type=opt,
                                            modification_number=event["event_descriptor"]["modification_number"])
        return opt
