"""OpenADR 2.0b <-> FlexDelays: the one place where a DR event and a delay become OpenADR messages and back.

Time: a minute ``m`` of the run is the UTC instant ``t0_s + 60 m`` (``t0_s``: Unix time of ``run.start`` [s]).

**Events.** A DR event as ``FlexDelays`` records it (``DrEventCreated``: id, first minute, duration [min],
requested reduction [W]) is one OpenADR event with id ``flexdelays-<id>`` and one ``LOAD_DISPATCH`` signal of type
``delta``: one interval from the event's first minute for its duration, payload ``-requested_w / 1000`` [kW] (a
negative delta: a reduction). ``from_oadr`` reads such an event back, as a VEN received it, and checks every
field it uses; the round trip is exact (requested reductions are whole watts).

**Delays.** The VEN reports each delay of an outlet (resource id = the outlet's name ``<prosumer>/<appliance>``)
in a ``TELEMETRY_USAGE`` report with two data points per outlet, ``<outlet>:delay_min`` [min] and
``<outlet>:shifted_wh`` [Wh]; each interval's dtstart is the delay's first minute. The DR event of a delay is the
one containing its first minute (DR events never overlap on chain).

OpenADR 3 (JSON over REST; its Python client needs Python >= 3.12) would get a sibling module with the same
four functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from openleadr import objects

EVENT_ID_PREFIX = "flexdelays-"
SIGNAL_NAME, SIGNAL_TYPE = "LOAD_DISPATCH", "delta"
MARKET_CONTEXT = "oadr://gridledger/micro-dsr"
QUANTITIES = ("delay_min", "shifted_wh")  # per outlet, the report's data points (r_id "<outlet>:<quantity>")
# each quantity's measurement in the VEN's report registration: (openleadr measurement, unit, its description)
MEASUREMENTS = {"delay_min": ("delay", "min", "delay"), "shifted_wh": ("energy_real", "Wh", "RealEnergy")}


@dataclass(frozen=True)
class DrEvent:
    """A DR event as FlexDelays records it: id, first minute [min from t0], duration [min], reduction [W]."""

    event_id: int
    start_min: int
    duration_min: int
    requested_w: int

    @property
    def end_min(self) -> int:
        """First minute after the event."""
        return self.start_min + self.duration_min


@dataclass(frozen=True, order=True)
class Delay:
    """One delay of one outlet as reported to the VTN: first minute [min from t0], length [min], shifted [Wh]."""

    outlet: str
    start_min: int
    delay_min: int
    shifted_wh: int


def minute_time(t0_s: int, minute: int) -> datetime:
    """The UTC instant of minute ``minute`` of the run."""
    return datetime.fromtimestamp(t0_s, UTC) + timedelta(minutes=minute)


def time_minute(t0_s: int, t: datetime, what: str) -> int:
    """The minute of the run at UTC instant ``t`` (a whole minute, else ValueError naming ``what``)."""
    if t.tzinfo is None:
        raise ValueError(f"{what}: expected a time zone aware date-time, got {t!r}")
    s = (t - datetime.fromtimestamp(t0_s, UTC)).total_seconds()
    if s % 60:
        raise ValueError(f"{what}: expected a whole minute of the run, got {t.isoformat()} ({s:g} s after start)")
    return int(s // 60)


def to_oadr(ev: DrEvent, t0_s: int, ven_id: str) -> objects.Event:
    """The OpenADR event for the VEN ``ven_id`` (its status, far/active/completed, is openleadr's, from the wall
    clock)."""
    start, duration = minute_time(t0_s, ev.start_min), timedelta(minutes=ev.duration_min)
    eid = f"{EVENT_ID_PREFIX}{ev.event_id}"
    signal = objects.EventSignal(intervals=[objects.Interval(dtstart=start, duration=duration, uid=0,
                                                             signal_payload=-ev.requested_w / 1000.0)],
                                 signal_name=SIGNAL_NAME, signal_type=SIGNAL_TYPE, signal_id=f"{eid}-signal")
    return objects.Event(event_descriptor=objects.EventDescriptor(event_id=eid, modification_number=0,
                                                                  market_context=MARKET_CONTEXT, event_status="far"),
                         event_signals=[signal], targets=[objects.Target(ven_id=ven_id)],
                         active_period=objects.ActivePeriod(dtstart=start, duration=duration),
                         response_required="always")


def from_oadr(event: dict, t0_s: int) -> DrEvent:
    """The DR event in an OpenADR event as openleadr's VEN parsed it (``on_event``'s argument); ValueError naming
    the field when it is not an event of ``to_oadr``'s form."""
    eid = str(event.get("event_descriptor", {}).get("event_id", ""))
    where = f"OpenADR event {eid!r}"
    if not eid.startswith(EVENT_ID_PREFIX) or not eid.removeprefix(EVENT_ID_PREFIX).isdigit():
        raise ValueError(f"{where}: event_descriptor.event_id: expected '{EVENT_ID_PREFIX}<FlexDelays event id>'")
    signals = event.get("event_signals") or []
    kinds = [(s.get("signal_name"), s.get("signal_type")) for s in signals]
    if kinds != [(SIGNAL_NAME, SIGNAL_TYPE)]:
        raise ValueError(f"{where}: event_signals: expected one {SIGNAL_NAME} signal of type {SIGNAL_TYPE!r}, got "
                         f"{kinds}")
    intervals = signals[0].get("intervals") or []
    if len(intervals) != 1:
        raise ValueError(f"{where}: event_signals[0].intervals: expected one interval, got {len(intervals)}")
    iv = intervals[0]
    duration_s = iv["duration"].total_seconds()
    if duration_s <= 0 or duration_s % 60:
        raise ValueError(f"{where}: interval duration: expected whole minutes > 0, got {iv['duration']}")
    requested_w = round(-float(iv["signal_payload"]) * 1000.0)
    if requested_w <= 0:
        raise ValueError(f"{where}: interval signal_payload: expected a reduction (a negative delta in kW), "
                         f"got {iv['signal_payload']}")
    start = iv.get("dtstart") or event["active_period"]["dtstart"]
    return DrEvent(int(eid.removeprefix(EVENT_ID_PREFIX)), time_minute(t0_s, start, f"{where}: interval dtstart"),
                   int(duration_s // 60), requested_w)


def quantity_of(description: str) -> str | None:
    """The quantity of a registered data point, from its measurement's description (None: not ours)."""
    return next((q for q, (_, _, d) in MEASUREMENTS.items() if d == description), None)


def r_id(outlet: str, quantity: str) -> str:
    return f"{outlet}:{quantity}"


def report_points(delays: list[Delay], t0_s: int) -> dict[str, list[tuple[datetime, int]]]:
    """The report's values: r_id -> [(dtstart, value)], in the order of ``delays``."""
    points: dict[str, list[tuple[datetime, int]]] = {}
    for d in delays:
        t = minute_time(t0_s, d.start_min)
        for q in QUANTITIES:
            points.setdefault(r_id(d.outlet, q), []).append((t, int(getattr(d, q))))
    return points


def delays_from_points(points: dict[str, list[tuple[datetime, float]]], t0_s: int) -> list[Delay]:
    """The delays in a report's values (r_id -> [(dtstart, value)]), as the VTN received them, sorted by outlet
    and start (a value sent again unchanged counts once); ValueError when a delay lacks one of its quantities, a value
    is not a whole number, or one quantity of a delay is reported twice with different values."""
    found: dict[tuple[str, int], dict[str, int]] = {}
    for rid, values in points.items():
        outlet, _, q = rid.rpartition(":")
        if q not in QUANTITIES or not outlet:
            raise ValueError(f"report r_id {rid!r}: expected '<outlet>:<quantity>' with a quantity in {QUANTITIES}")
        for t, v in values:
            if float(v) != int(float(v)):
                raise ValueError(f"report r_id {rid!r} at {t.isoformat()}: expected a whole number, got {v}")
            qs = found.setdefault((outlet, time_minute(t0_s, t, f"report r_id {rid!r} dtstart")), {})
            if qs.setdefault(q, int(float(v))) != int(float(v)):
                raise ValueError(f"report r_id {rid!r} at {t.isoformat()}: reported twice with different values "
                                 f"({qs[q]} and {int(float(v))})")
    out = []
    for (outlet, start), qs in sorted(found.items()):
        missing = [q for q in QUANTITIES if q not in qs]
        if missing:
            raise ValueError(f"report of outlet {outlet!r}, delay starting at minute {start}: missing {missing}")
        out.append(Delay(outlet, start, qs["delay_min"], qs["shifted_wh"]))
    return out


def reconcile(received: list[Delay], chain_delays, names: dict[str, str], show: int = 10) -> dict:
    """The delays the VTN received against the chain's delay log (``DelayLogged`` rows of
    ``sim.capabilities.dsr.audit.rebuild``: outlet address, start_min, delay_min, shifted_wh); ``names``: outlet
    address -> outlet name. Every delay is compared whole (outlet, first minute, length, shifted Wh)."""
    logged = {Delay(names.get(r.outlet, r.outlet), int(r.start_min), int(r.delay_min), int(r.shifted_wh))
              for r in chain_delays.itertuples()}
    reported = set(received)
    only_reported, only_logged = sorted(reported - logged), sorted(logged - reported)
    return {"delays_reported": len(received), "delays_logged": len(logged),
            "delay_min_reported": sum(d.delay_min for d in received),
            "shifted_wh_reported": sum(d.shifted_wh for d in received),
            "reports_match_chain": not only_reported and not only_logged and len(reported) == len(received),
            "reported_not_logged": [vars(d) for d in only_reported[:show]],
            "logged_not_reported": [vars(d) for d in only_logged[:show]]}
