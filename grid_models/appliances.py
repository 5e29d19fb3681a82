"""Appliances at minute resolution, as fleets of arrays: thermostatic loads (fridge, freezer, water heater) and
deferrable loads (washing machine, dishwasher, EV charger). One step is one minute.

**Thermostatic** (first-order thermal model with a hysteresis thermostat, the standard model of
thermostatically controlled loads): over one step of ``dt_min`` with the element on (``m = 1``) or off,
``T' = T_eq + (T - T_eq) * exp(-dt / tau)``, ``T_eq = T_amb + m * gain_c - draw_c``, where ``gain_c`` is the
steady-state temperature change of running continuously (negative for a cooler) and ``draw_c`` the equilibrium
shift of a heat draw (hot water taken from a tank). The thermostat switches on at the edge of its dead band
away from the set point and off at the other edge. A DR hold keeps the element off while it asks to run, as
long as the temperature stays inside the customer's band ``[t_min_c, t_max_c]`` (wider than the dead band).
``tau`` and ``gain_c`` of the cold appliances are chosen so that the free-running cycle has richardsonpy's mean
on and off times (Appliances.csv: cycle length and restart delay).

**Deferrable**: a job is a power profile [kW per minute sample] with a release minute and a deadline (the
minute by which it must have finished). Holding a job for a minute moves its remaining samples one minute
later, so its energy is conserved exactly; a non-preemptible job (washing machine, dishwasher) can only be held
before it starts, a preemptible one (EV charging) also while it runs. A hold that would end the job after its
deadline is refused by ``holdable``.

**Power cut** (a relay read back off while the appliance was not held, known only after the minute): a
deferrable appliance's job pauses the same way, whatever its preemptibility or deadline (a cycle resumes where it
stopped when power returns: its energy is conserved, a deadline may be missed: ``late_jobs``), and its standby
draw in that minute is not drawn (lost); a thermostatic appliance's minute is run again with the element off
(``ThermostaticFleet.rerun``): its energy is made up later by its thermostat, through the thermal model.

References
----------
Mathieu, J. L., Koch, S., Callaway, D. S. (2013). State estimation and control of electric loads to manage
real-time energy imbalance. IEEE Trans. Power Systems 28(1), 430-440 (first-order TCL model).
Richardson, I., Thomson, M., Infield, D., Clifford, C. (2010). Domestic electricity use: a high-resolution
energy demand model. Energy and Buildings 42, 1878-1887 (appliance data, via richardsonpy).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HOLD_RESERVE_C = 0.5  # a hold ends this far inside the customer's temperature band

@dataclass(frozen=True)
class ThermalType:
    """A kind of thermostatic appliance. Temperatures [degC], power [W], times [min]."""

    p_w: float
    t_amb_c: float
    dead_band_c: tuple[float, float]  # thermostat switches at these edges
    t_min_c: float  # customer's band: a hold never takes the temperature outside it
    t_max_c: float
    tau_min: float
    gain_c: float  # < 0: cooling
    draw_c_per_wh: float = 0.0  # temperature drop per Wh of heat drawn (water heater)


def cold_type(p_w: float, on_min: float, off_min: float, dead_band_c: tuple[float, float], t_max_c: float,
              t_amb_c: float = 20.0) -> ThermalType:
    """A cooler whose free-running cycle is ``on_min`` on, ``off_min`` off between the dead-band edges.

    Off: T rises from lo to hi towards T_amb: ``off = tau ln((T_amb - lo) / (T_amb - hi))``. On: T falls from
    hi to lo towards ``T_amb + gain``: ``on = tau ln((hi - T_amb - gain) / (lo - T_amb - gain))``.
    """
    lo, hi = dead_band_c
    tau = off_min / np.log((t_amb_c - lo) / (t_amb_c - hi))
    q = np.exp(on_min / tau)  # (hi - T_amb - g) = q (lo - T_amb - g)  =>  g = (hi - T_amb - q (lo - T_amb)) / (1 - q)
    gain = (hi - t_amb_c - q * (lo - t_amb_c)) / (1 - q)
    return ThermalType(p_w, t_amb_c, dead_band_c, lo - 2.0, t_max_c, float(tau), float(gain))


def tank_type(p_w: float = 3000.0, volume_l: float = 150.0, ua_w_per_k: float = 2.0,
              dead_band_c: tuple[float, float] = (50.0, 55.0), t_min_c: float = 45.0,
              t_amb_c: float = 20.0) -> ThermalType:
    """An electric storage water heater: tank capacity from its volume, standing losses ``ua_w_per_k``."""
    c_wh_per_k = volume_l * 4.186 / 3.6  # 1 l of water: 4.186 kJ/K
    return ThermalType(p_w, t_amb_c, dead_band_c, t_min_c, dead_band_c[1] + 2.0,
                       tau_min=c_wh_per_k / ua_w_per_k * 60.0, gain_c=p_w / ua_w_per_k,
                       draw_c_per_wh=1.0 / c_wh_per_k)


def thermal_step(temp_c, on, draw_wh, *, t_amb_c, tau_min, gain_c, draw_c_per_wh, dt_min: float = 1.0):
    """Temperature after ``dt_min`` minutes [degC] (scalars or arrays): exact solution of the first-order model
    with the element ``on`` (bool) and ``draw_wh`` of heat drawn evenly over the step."""
    a = np.exp(-dt_min / np.asarray(tau_min, dtype=float))
    # a draw of E Wh over dt lowers the equilibrium so that, integrated, the tank loses E Wh: shift = E*k / (1-a)
    draw_shift = np.asarray(draw_wh, dtype=float) * draw_c_per_wh / np.maximum(1.0 - a, 1e-12)
    t_eq = t_amb_c + np.where(on, gain_c, 0.0) - draw_shift
    return t_eq + (np.asarray(temp_c, dtype=float) - t_eq) * a


def thermostat(temp_c, was_on, dead_band_lo_c, dead_band_hi_c, cooling):
    """Hysteresis thermostat: whether the element wants to run this step (arrays)."""
    start = np.where(cooling, temp_c >= dead_band_hi_c, temp_c <= dead_band_lo_c)
    stop = np.where(cooling, temp_c <= dead_band_lo_c, temp_c >= dead_band_hi_c)
    return np.where(start, True, np.where(stop, False, was_on))


class ThermostaticFleet:
    """Many thermostatic appliances stepped together, one minute per ``step``.

    ``draws_wh`` (steps x appliances) is the heat drawn per minute (zero for coolers). ``step(k, held)`` decides
    the thermostat, applies holds (an appliance held is off), records power and advances the temperature.
    """

    def __init__(self, types: list[ThermalType], draws_wh: np.ndarray, temp0_c: np.ndarray, on0: np.ndarray):
        def col(attr):
            return np.array([getattr(t, attr) for t in types], dtype=float)

        self.n = len(types)
        self.p_w, self.t_amb_c, self.tau_min, self.gain_c = col("p_w"), col("t_amb_c"), col("tau_min"), col("gain_c")
        self.draw_c_per_wh, self.t_min_c, self.t_max_c = col("draw_c_per_wh"), col("t_min_c"), col("t_max_c")
        self.lo_c = np.array([t.dead_band_c[0] for t in types], dtype=float)
        self.hi_c = np.array([t.dead_band_c[1] for t in types], dtype=float)
        self.cooling = self.gain_c < 0
        self.draws_wh = draws_wh
        self.temp_c = np.asarray(temp0_c, dtype=float).copy()
        self.on = np.asarray(on0, dtype=bool).copy()
        self.wants = self.on.copy()
        self.power_w = np.zeros(self.n)
        self.temp_min_c = self.temp_c.copy()
        self.temp_max_c = self.temp_c.copy()
        self._before: tuple[int, np.ndarray, np.ndarray, np.ndarray] | None = None  # (k, temp, min, max) before step k

    def _params(self, idx=slice(None)):
        return dict(t_amb_c=self.t_amb_c[idx], tau_min=self.tau_min[idx], gain_c=self.gain_c[idx],
                    draw_c_per_wh=self.draw_c_per_wh[idx])

    def demand(self, k: int) -> np.ndarray:
        """Whether each thermostat asks to run in step ``k`` (call once per step, before ``step``)."""
        self.wants = thermostat(self.temp_c, self.on, self.lo_c, self.hi_c, self.cooling)
        return self.wants

    def holdable(self, k: int, idx) -> np.ndarray:
        """Whether holding appliances ``idx`` off through step ``k`` keeps them inside the customer's band, with
        ``HOLD_RESERVE_C`` to spare (so that a draw in the minute after the release cannot cross it)."""
        nxt = thermal_step(self.temp_c[idx], False, self.draws_wh[k, idx], **self._params(idx))
        return (self.wants[idx] & (nxt <= self.t_max_c[idx] - HOLD_RESERVE_C)
                & (nxt >= self.t_min_c[idx] + HOLD_RESERVE_C))

    def shadow_step(self, k: int, i: int, temp_c: float, on: bool) -> tuple[float, bool]:
        """One minute of appliance ``i`` as if never held, from state (temp_c, on): returns the next state and,
        as ``on``, whether it ran in minute ``k`` (an outlet's counterfactual metering of a hold)."""
        on = bool(thermostat(temp_c, on, self.lo_c[i], self.hi_c[i], self.cooling[i]))
        return float(thermal_step(temp_c, on, self.draws_wh[k, i], **self._params(i))), on

    def step(self, k: int, held: np.ndarray) -> np.ndarray:
        """Run step ``k`` with appliances ``held`` (bool mask) kept off; returns each one's power [W]."""
        self._before = (k, self.temp_c.copy(), self.temp_min_c.copy(), self.temp_max_c.copy())
        self.on = self.wants & ~held
        self.power_w = np.where(self.on, self.p_w, 0.0)
        self.temp_c = thermal_step(self.temp_c, self.on, self.draws_wh[k], **self._params())
        np.minimum(self.temp_min_c, self.temp_c, out=self.temp_min_c)
        np.maximum(self.temp_max_c, self.temp_c, out=self.temp_max_c)
        return self.power_w

    def rerun(self, k: int, i: int, on: bool) -> float:
        """Run the last step ``k`` again for appliance ``i`` with its element ``on`` or off, from the state before
        it (what the appliance really did, learned after the step: a relay's read-back); returns its power in
        step ``k`` [W]. Only the last step run, before ``demand(k + 1)``."""
        if self._before is None or self._before[0] != k:
            raise ValueError(f"rerun of step {k}: the last step run is "
                             f"{None if self._before is None else self._before[0]}")
        _, temp_c, temp_min_c, temp_max_c = self._before
        self.on[i] = on
        self.power_w[i] = self.p_w[i] if on else 0.0
        self.temp_c[i] = thermal_step(temp_c[i], on, self.draws_wh[k, i], **self._params(i))
        self.temp_min_c[i] = min(temp_min_c[i], self.temp_c[i])
        self.temp_max_c[i] = max(temp_max_c[i], self.temp_c[i])
        return float(self.power_w[i])


@dataclass
class Job:
    """One run of a deferrable appliance. Minutes count from the run's start; ``minutes[i]`` is when sample ``i``
    of ``profile_kw`` runs (consecutive unless paused). Finished when ``minutes[-1] < now``."""

    outlet: int
    release: int
    deadline: int  # the job must have finished by this minute: minutes[-1] + 1 <= deadline
    profile_kw: np.ndarray
    preemptible: bool
    minutes: np.ndarray = None  # type: ignore[assignment]

    def __post_init__(self):
        if self.minutes is None:
            self.minutes = self.release + np.arange(len(self.profile_kw))
        if self.release + len(self.profile_kw) > self.deadline:
            raise ValueError(f"job of outlet {self.outlet} released at minute {self.release} cannot finish "
                             f"by its deadline {self.deadline}")

    @property
    def end(self) -> int:
        return int(self.minutes[-1]) + 1

    @property
    def energy_kwh(self) -> float:
        return float(self.profile_kw.sum()) / 60.0


class DeferrableFleet:
    """Deferrable appliances (one column each) with their jobs placed in a power matrix [kW], minute by minute.

    ``power_kw[k]`` is what every appliance draws in minute ``k`` with the holds so far; the matrix extends past
    the horizon by the longest job so that nothing is cut off by a hold.
    """

    def __init__(self, n: int, n_steps: int, jobs: list[Job], standby_kw: np.ndarray | None = None):
        self.n, self.n_steps = n, n_steps
        margin = max((j.deadline for j in jobs), default=n_steps) - n_steps
        self.power_kw = np.zeros((n_steps + max(margin, 0) + 1, n))
        self.standby_kw = np.zeros(n) if standby_kw is None else np.asarray(standby_kw, dtype=float)
        self.power_kw += self.standby_kw
        self.jobs = sorted(jobs, key=lambda j: (j.outlet, j.release))
        self.by_outlet: list[list[Job]] = [[] for _ in range(n)]
        for job in self.jobs:
            self.by_outlet[job.outlet].append(job)
            self.power_kw[job.minutes, job.outlet] += job.profile_kw
        for js in self.by_outlet:
            for a, b in zip(js, js[1:]):
                if b.release < a.deadline:
                    raise ValueError(f"jobs of outlet {a.outlet} overlap: deadline {a.deadline} after the next "
                                     f"release {b.release}")
        self._cursor = [0] * n

    def due(self, k: int, i: int) -> Job | None:
        """The job of appliance ``i`` that has a sample to run in minute ``k`` (or None)."""
        js, c = self.by_outlet[i], self._cursor[i]
        while c < len(js) and js[c].end <= k:
            c += 1
        self._cursor[i] = c
        if c < len(js) and js[c].minutes[0] <= k and k in js[c].minutes:
            return js[c]
        return None

    def requested_kw(self, k: int, i: int) -> float:
        """Power appliance ``i`` asks for in minute ``k`` from its due job [kW] (0 with none due)."""
        job = self.due(k, i)
        return float(job.profile_kw[np.searchsorted(job.minutes, k)]) if job is not None else 0.0

    def holdable(self, k: int, i: int) -> bool:
        """Whether appliance ``i`` can be held in minute ``k``: a job is due, it may be paused here (preemptible or
        not started) and one minute later it still finishes by its deadline."""
        job = self.due(k, i)
        if job is None:
            return False
        started = job.minutes[0] < k
        return (job.preemptible or not started) and job.end + 1 <= job.deadline

    def hold(self, k: int, i: int) -> tuple[Job, int]:
        """Hold appliance ``i`` in minute ``k``: its samples from ``k`` on move one minute later. Returns the job
        and the index of the sample that was due in minute ``k``."""
        if not self.holdable(k, i):
            raise ValueError(f"appliance {i} cannot be held in minute {k}")
        job = self.due(k, i)
        s = int(np.searchsorted(job.minutes, k))
        rest = job.minutes[s:].copy()
        self.power_kw[rest, i] -= job.profile_kw[s:]
        job.minutes[s:] = rest + 1
        self.power_kw[rest + 1, i] += job.profile_kw[s:]
        return job, s

    def unhold(self, k: int, i: int, job: Job, s: int) -> float:
        """Undo ``hold(k, i)`` (which returned ``job, s``): the appliance ran in minute ``k`` after all, so its
        samples from ``s`` on move one minute earlier again. Returns the power it drew in minute ``k`` [kW]."""
        if job.minutes[s] != k + 1:
            raise ValueError(f"appliance {i}: sample {s} of its job is not the one held in minute {k}")
        rest = job.minutes[s:].copy()
        self.power_kw[rest, i] -= job.profile_kw[s:]
        job.minutes[s:] = rest - 1
        self.power_kw[rest - 1, i] += job.profile_kw[s:]
        return float(self.power_kw[k, i])

    def cut(self, k: int, i: int) -> float:
        """Appliance ``i`` had no power in minute ``k`` (learned after the minute; it was not held): its due job,
        if any, pauses (samples from ``k`` on one minute later, whatever its preemptibility or deadline) and its
        standby is not drawn in ``k``. Returns the power no longer drawn in minute ``k`` [kW]."""
        p_kw = float(self.power_kw[k, i])
        job = self.due(k, i)
        if job is not None:
            s = int(np.searchsorted(job.minutes, k))
            rest = job.minutes[s:].copy()
            if rest[-1] + 1 >= len(self.power_kw):  # past the matrix's margin: rows of standby only
                extra = np.tile(self.standby_kw, (rest[-1] + 2 - len(self.power_kw), 1))
                self.power_kw = np.vstack([self.power_kw, extra])
            self.power_kw[rest, i] -= job.profile_kw[s:]
            job.minutes[s:] = rest + 1
            self.power_kw[rest + 1, i] += job.profile_kw[s:]
        self.power_kw[k, i] = 0.0
        return p_kw

    def start_later(self, job: Job, delay_min: int) -> None:
        """Start ``job`` (not begun) ``delay_min`` minutes later, all its samples moved (the customer's own choice
        of start, e.g. a cheaper tariff band); ValueError if it would then end after its deadline."""
        if job.end + delay_min > job.deadline:
            raise ValueError(f"job of outlet {job.outlet}: a start {delay_min} min later ends after its deadline")
        self.power_kw[job.minutes, job.outlet] -= job.profile_kw
        job.minutes = job.minutes + delay_min
        self.power_kw[job.minutes, job.outlet] += job.profile_kw

    def late_jobs(self) -> list[Job]:
        """Jobs that finish after their deadline (there should be none)."""
        return [j for j in self.jobs if j.end > j.deadline]


# The appliance kinds an outlet can switch, with the code logged on chain (uint8).
APPLIANCE_CODES = {"refrigerator": 1, "freezer": 2, "water_heater": 3, "washing_machine": 4, "dishwasher": 5,
                   "ev_charger": 6}
# Cold appliances from richardsonpy's Appliances.csv (power, cycle length, restart delay): refrigerator 110 W,
# 18 min on, 36 min off; upright freezer 155 W, 20 min on, 40 min off. Food-safety limits of the band: +8 degC
# for a fridge, -15 degC for a freezer. Water heater: 150 l tank, 3 kW element (richardsonpy's DESWH power).
THERMAL_TYPES = {
    "refrigerator": cold_type(110.0, 18.0, 36.0, (4.0, 6.0), t_max_c=8.0),
    "freezer": cold_type(155.0, 20.0, 40.0, (-20.0, -18.0), t_max_c=-15.0),
    "water_heater": tank_type(),
}
PREEMPTIBLE = {"washing_machine": False, "dishwasher": False, "ev_charger": True}
