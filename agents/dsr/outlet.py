"""Smart outlets: each switches one appliance, holds it during demand-response events within its customer's
limits, meters what it held and reports each delay signed with its own key.

A delay is one contiguous run of held minutes inside one DR event (at most one per outlet and event). Before
every held minute the outlet checks, in this order: the event is still on; the minute is not in a local
no-delay hour; one more minute keeps the delay within the per-event limit and, with what the outlet already
delayed on the local day the delay started, within the daily limit; and the appliance can be held (a
deferrable job still finishes by its deadline; a thermostatic load stays inside its temperature band). The
contract checks the same limits again and refuses a report that breaks one.

What the appliance really did in a minute may be learned only after it (a HIL relay's read-back): each plug
corrects its appliance's model for the minute just run, ``cut(k)`` (no power, though not held: the appliance
pauses as under a hold, no delay to claim) and ``ran_while_held(k)`` (held, but it ran: the hold is undone).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import mesa
from eth_keys import keys

from contracts.eip712 import SignedDelay, sign_delay
from grid_models.appliances import DeferrableFleet, ThermostaticFleet

MINUTES_PER_DAY = 1440


@dataclass(frozen=True)
class Limits:
    """The customer's limits for one outlet [min]; ``no_delay_hours``: local ``[from, to)`` hour windows."""

    max_delay_per_event_min: int
    max_delay_per_day_min: int
    no_delay_hours: tuple[tuple[int, int], ...] = ()

    def hour_allowed(self, local_hour: int) -> bool:
        return not any(a <= local_hour < b for a, b in self.no_delay_hours)


class FleetHoldable:
    """``ThermostaticFleet.holdable`` of every appliance of ``fleet`` at once, computed once per step and state:
    the outlets of a fleet ask one by one during a dispatch, and the fleet's arithmetic is elementwise, so each
    answer is the one ``holdable(k, [i])`` gives. The answers are kept while the step and the fleet's temperature
    and thermostat arrays are the same objects (``demand`` and ``step`` replace them; ``rerun`` changes the
    temperatures of a step already run, before the next ``demand``)."""

    def __init__(self, fleet: ThermostaticFleet):
        self.fleet = fleet
        self._state: tuple[int, object, object] | None = None  # (step, temp_c, wants) the answers are of
        self._holdable = None

    def __call__(self, k: int, i: int) -> bool:
        f, state = self.fleet, self._state
        if state is None or state[0] != k or state[1] is not f.temp_c or state[2] is not f.wants:
            self._holdable = f.holdable(k, slice(None)).tolist()
            self._state = (k, f.temp_c, f.wants)
        return self._holdable[i]


class ThermostaticPlug:
    """The outlet's view of appliance ``i`` of a thermostatic fleet (holds are collected in ``held``).

    While held it meters what the appliance would have drawn: a shadow of its thermostat and temperature,
    started from the state at the first held minute and run as if never held. ``holdable``: the fleet's
    ``FleetHoldable``, shared by its plugs (one of its own if None)."""

    def __init__(self, fleet: ThermostaticFleet, i: int, held, holdable: FleetHoldable | None = None):
        self.fleet, self.i, self.held = fleet, i, held
        self._holdable = holdable if holdable is not None else FleetHoldable(fleet)
        self._shadow: tuple[int, float, bool] | None = None  # (next minute, temperature, on)

    def requested_kw(self, k: int) -> float:
        """What the appliance would draw in minute ``k`` without DSR [kW]."""
        f = self.fleet
        if self._shadow is not None and self._shadow[0] == k:
            return float(f.p_w[self.i]) / 1000.0 if f.shadow_step(k, self.i, *self._shadow[1:])[1] else 0.0
        return float(f.p_w[self.i]) / 1000.0 if f.wants[self.i] else 0.0

    def holdable(self, k: int) -> bool:
        return self._holdable(k, self.i)

    def hold(self, k: int) -> float:
        f = self.fleet
        if self._shadow is None or self._shadow[0] != k:
            self._shadow = (k, float(f.temp_c[self.i]), bool(f.on[self.i]))
        temp_c, on = f.shadow_step(k, self.i, *self._shadow[1:])
        self._shadow = (k + 1, temp_c, on)
        self.held[self.i] = True
        return float(f.p_w[self.i]) / 1000.0 if on else 0.0

    def cut(self, k: int) -> float:
        """Minute ``k``, just run, had no power: the element was off. Returns the power no longer drawn [kW]."""
        p_w = float(self.fleet.power_w[self.i])
        return (p_w - self.fleet.rerun(k, self.i, False)) / 1000.0

    def ran_while_held(self, k: int) -> float:
        """Minute ``k``, just run, was held but had power: the element ran as its thermostat asked; the hold's
        shadow ends. Returns the power drawn in minute ``k`` [kW]."""
        self._shadow = None
        return self.fleet.rerun(k, self.i, bool(self.fleet.wants[self.i])) / 1000.0


class DeferrablePlug:
    """The outlet's view of appliance ``i`` of a deferrable fleet. While held it meters what the job would have
    drawn: the samples following the one due at the first held minute."""

    def __init__(self, fleet: DeferrableFleet, i: int):
        self.fleet, self.i = fleet, i
        self._run: tuple[int, object, int] | None = None  # (next minute, job, counterfactual sample index)
        self._last_hold: tuple[int, object, int] | None = None  # (minute, job, sample moved out of it)

    def requested_kw(self, k: int) -> float:
        """What the appliance would draw in minute ``k`` without DSR [kW]."""
        if self._run is not None and self._run[0] == k:
            _, job, s = self._run
            return float(job.profile_kw[s]) if s < len(job.profile_kw) else 0.0
        return self.fleet.requested_kw(k, self.i)

    def holdable(self, k: int) -> bool:
        return self.fleet.holdable(k, self.i)

    def hold(self, k: int) -> float:
        p_kw = self.requested_kw(k)
        job, s = self.fleet.hold(k, self.i)
        self._last_hold = (k, job, s)
        if self._run is None or self._run[0] != k or self._run[1] is not job:
            self._run = (k, job, s)
        self._run = (k + 1, job, self._run[2] + 1)
        return p_kw

    def cut(self, k: int) -> float:
        """Minute ``k``, just run, had no power: the job pauses there (``DeferrableFleet.cut``). Returns the power
        no longer drawn [kW]."""
        return self.fleet.cut(k, self.i)

    def ran_while_held(self, k: int) -> float:
        """Minute ``k``, just run, was held but had power: the hold of minute ``k`` is undone (the job's samples
        move back). Returns the power drawn in minute ``k`` [kW]."""
        if self._last_hold is None or self._last_hold[0] != k:
            raise ValueError(f"appliance {self.i}: minute {k} was not held")
        _, job, s = self._last_hold
        self._last_hold = self._run = None
        return self.fleet.unhold(k, self.i, job, s)


@dataclass
class Hold:
    event_id: int
    start_min: int
    minutes: int = 0
    shifted_wh: float = 0.0
    wh_before_last: float = 0.0  # shifted_wh before the last held minute [Wh]


@dataclass
class OutletState:
    used_min_by_day: dict[int, int] = field(default_factory=dict)
    done_events: set[int] = field(default_factory=set)
    hold: Hold | None = None


class Outlet(mesa.Agent):
    """One smart outlet. ``plug`` is its appliance (a Thermostatic- or DeferrablePlug); ``day_offset_min`` is the
    local minute of the day at minute 0, so the local day of minute k is ``(day_offset_min + k) // 1440``."""

    def __init__(self, model: mesa.Model, *, name: str, customer: str, customer_index: int, household: int,
                 appliance: str, code: int, key: keys.PrivateKey, limits: Limits, rated_w: int, plug,
                 day_offset_min: int):
        super().__init__(model)
        self.name, self.customer, self.customer_index, self.household = name, customer, customer_index, household
        self.appliance, self.code, self.key, self.limits, self.rated_w = appliance, code, key, limits, rated_w
        self.address = key.public_key.to_checksum_address()
        self.plug, self.day_offset_min = plug, day_offset_min
        self._hour_allowed = tuple(limits.hour_allowed(h) for h in range(24))  # by local hour
        self.state = OutletState()
        self.unposted: list[SignedDelay] = []

    # limits ---------------------------------------------------------------------------------------------
    def local_day(self, minute: int) -> int:
        return (self.day_offset_min + minute) // MINUTES_PER_DAY

    def local_hour(self, minute: int) -> int:
        return (self.day_offset_min + minute) % MINUTES_PER_DAY // 60

    def within_limits(self, k: int, event_id: int, event_end: int) -> bool:
        """Whether holding minute ``k`` for ``event_id`` (ending before minute ``event_end``) keeps every limit."""
        h = self.state.hold
        if h is not None and (h.event_id != event_id or h.start_min + h.minutes != k):
            return False  # one contiguous delay per event
        if h is None and event_id in self.state.done_events:
            return False
        minutes = (h.minutes if h else 0) + 1
        day = self.local_day(h.start_min if h else k)
        return (k < event_end and self._hour_allowed[self.local_hour(k)]
                and minutes <= self.limits.max_delay_per_event_min
                and self.state.used_min_by_day.get(day, 0) + minutes <= self.limits.max_delay_per_day_min)

    def can_hold(self, k: int, event_id: int, event_end: int) -> bool:
        return self.within_limits(k, event_id, event_end) and self.plug.holdable(k)

    # actions --------------------------------------------------------------------------------------------
    def hold(self, k: int, event_id: int, event_end: int) -> float:
        """Hold the appliance in minute ``k`` for ``event_id``; returns the power moved out of minute ``k`` [kW]."""
        if not self.can_hold(k, event_id, event_end):
            raise ValueError(f"{self.name}: holding minute {k} for event {event_id} breaks a limit")
        if self.state.hold is None:
            self.state.hold = Hold(event_id, k)
        p_kw = self.plug.hold(k)
        h = self.state.hold
        h.minutes += 1
        h.wh_before_last = h.shifted_wh
        h.shifted_wh += p_kw * 1000.0 / 60.0
        return p_kw

    def retract_last_minute(self) -> None:
        """Take the last held minute out of the current delay: the outlet's relay did not confirm it was off
        (hardware in the loop), so the delay that is reported ends before it. Once per delay: release next."""
        h = self.state.hold
        if h is None or h.minutes == 0:
            raise ValueError(f"{self.name}: no held minute to retract")
        h.minutes -= 1
        h.shifted_wh = h.wh_before_last

    def release(self, domain_separator: bytes) -> SignedDelay | None:
        """End the current delay: book its minutes on its day and sign the report (shifted energy in whole Wh,
        rounded down: what the outlet metered as held). A delay left with no minute (see ``retract_last_minute``)
        ends the outlet's part in the event with no report."""
        h = self.state.hold
        if h is None:
            return None
        self.state.hold = None
        self.state.done_events.add(h.event_id)
        if h.minutes == 0:
            return None
        day = self.local_day(h.start_min)
        self.state.used_min_by_day[day] = self.state.used_min_by_day.get(day, 0) + h.minutes
        report = sign_delay(self.key, domain_separator, h.event_id, h.start_min, h.minutes,
                            int(math.floor(h.shifted_wh + 1e-9)), self.code)
        self.unposted.append(report)
        return report

    @property
    def holding(self) -> bool:
        return self.state.hold is not None

    def pending_minutes(self) -> int:
        """Delay minutes not yet on chain (the current hold and unposted reports)."""
        return (self.state.hold.minutes if self.state.hold else 0) + sum(r.delay_min for r in self.unposted)
