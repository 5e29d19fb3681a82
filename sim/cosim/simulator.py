"""``GridledgerSim``: a gridledger run as a mosaik simulator (mosaik-api-v3, time-based).

``init`` builds the Twin of a scenario file (its clock, physics, measurement layer, chain and capabilities, as
``gridledger run`` does); ``create`` makes its entities (``Meter``, ``Site``, ``Outlet``, one ``GridOperator``, one
``Ledger``); ``step`` at mosaik time ``t`` (step ``k = t / step_s``) writes what it is given for that step into the
twin (``Twin.feed_step_kw``, ``sim.cosim.feed``) and runs the twin's clock through the step, up to the settlement
due 1 s after its end (which runs with the next step, after that step's feed); after
the scenario's last step it settles what VEE held back and collects the results. ``get_data`` reads the outputs
from the twin and the chain (``sim.cosim.outputs``). ``finalize`` writes the results folder, if one was asked for.

mosaik time is the run's time since ``run.start``, in units of the world's ``time_resolution`` [s]; the world
runs ``until = run.duration_s / time_resolution``. Where several sources feed one input, their values are added
(mosaik's convention for power).
"""

from __future__ import annotations

import math
from typing import Any

import mosaik_api_v3

from sim.cosim import feed, results
from sim.cosim.meta import META, METER_INPUTS, OPERATOR_INPUTS, SITE_INPUTS
from sim.cosim.outputs import ChainReader
from sim.scenario import load_scenario
from sim.twin import SETTLEMENT_DELAY_S, Twin

LEDGER_EID = "ledger"
OPERATOR_EID = "grid-operator"
ENTITY_PARAM = {"Meter": "prosumer", "Site": "site", "Outlet": "outlet"}  # model -> the parameter naming one
INPUTS = {"Meter": METER_INPUTS, "Site": SITE_INPUTS, "GridOperator": OPERATOR_INPUTS}  # model -> its inputs
MAX_REQUEST_W = 10**9  # FlexDelays.create_event's bound on a requested reduction [W]


class FeedError(ValueError):
    """Power given to the simulator that the run cannot take; the message names the entity, the attribute, the
    source, the time and what was expected."""


class GridledgerSim(mosaik_api_v3.Simulator):
    def __init__(self):
        super().__init__(META)
        self.twin: Twin | None = None
        self.entities: dict[str, dict[str, int]] = {}  # model -> entity id (its name) -> index in the twin
        self.fed: dict[str, set[str]] = {}  # entity id -> the inputs given to it so far
        self.ledger = False  # the Ledger entity made
        self.k = -1  # the last step run
        self.result = None

    # mosaik API -------------------------------------------------------------------------------------------
    def init(self, sid: str, time_resolution: float = 1.0, *, scenario: str, overrides: dict | None = None,
             out: str | None = None, force: bool = False, fed_by: dict | None = None) -> dict:
        """Build the Twin of ``scenario`` (a TOML file) with dotted-key ``overrides``; ``out``: a results folder
        written at the end (``force``: replace a complete one); ``fed_by``: what feeds the meters, for the
        manifest."""
        self.sid = sid
        loaded = load_scenario(scenario)
        self.scenario = loaded.with_overrides(overrides, source=f"{scenario} + overrides") if overrides else loaded
        run = self.scenario.run
        ticks = run.step_s / time_resolution if time_resolution > 0 else math.nan
        if not (math.isfinite(ticks) and ticks == math.floor(ticks)):
            raise ValueError(f"{scenario}: run.step_s = {run.step_s} s is not a whole number of mosaik's "
                             f"time_resolution ({time_resolution:g} s); expected a resolution that divides it")
        if self.scenario.devices or self.scenario.realtime is not None:
            raise ValueError(f"{scenario}: a HIL or real-time scenario cannot run under mosaik (mosaik owns the "
                             "clock); expected a scenario without [[devices]] and [realtime]")
        self.time_resolution, self.ticks_per_step = time_resolution, int(ticks)
        self.manifest = results.mosaik_manifest(self.scenario, str(scenario), {**(fed_by or {}), "sid": sid})
        self.folder = results.open_folder(out, self.manifest, force) if out is not None else None
        self.twin = Twin(self.scenario)
        self.reader = ChainReader(self.twin)
        return self.meta

    def create(self, num: int, model: str, **params: str) -> list[dict[str, Any]]:
        """``num`` entities of ``model``: ``Meter`` (``prosumer=`` an id), ``Site`` (``site=`` a certificate site's
        name), ``Outlet`` (``outlet=`` a smart outlet's name), each without its parameter the next ones in the
        scenario's order; one ``Ledger``; one ``GridOperator`` (the micro-DSR operator, from then on following the
        DR signal it is given instead of its feeder's limits)."""
        if model == "GridOperator":
            return self._create_operator(num, params)
        if model == "Ledger":
            if num != 1 or self.ledger:
                raise ValueError("Ledger: one entity per gridledger simulator")
            self.ledger = True
            return [{"eid": LEDGER_EID, "type": "Ledger"}]
        if model not in ENTITY_PARAM:
            raise ValueError(f"no model {model!r}; expected one of {sorted(self.meta['models'])}")
        param, names = ENTITY_PARAM[model], self._names(model)
        if set(params) - {param}:
            raise ValueError(f"{model}: no parameter {sorted(set(params) - {param})}; expected {param!r}")
        taken = self.entities.setdefault(model, {})
        if (name := params.get(param)) is not None:
            if num != 1 or name not in names:
                shown = f"{names[:4]}{' …' if len(names) > 4 else ''}"
                raise ValueError(f"{model}: {param} {name!r} with num={num}: expected num=1 and one of the "
                                 f"scenario's {shown}")
            if name in taken:
                raise ValueError(f"{model}: {param} {name!r} has an entity already")
            wanted = [name]
        else:
            wanted = [n for n in names if n not in taken][:num]
            if len(wanted) < num:
                raise ValueError(f"{model}: {num} more entities asked, the scenario has {len(wanted)} left")
        for name in wanted:
            if name == LEDGER_EID or any(name in other for other in self.entities.values()):
                raise ValueError(f"{model}: {name!r} names an entity of another model already; expected unique names")
            taken[name] = names.index(name)
        return [{"eid": name, "type": model} for name in wanted]

    def _create_operator(self, num: int, params: dict) -> list[dict[str, Any]]:
        dsr = self.twin.capability("dsr")
        if num != 1 or params or OPERATOR_EID in self.entities.get("GridOperator", {}):
            raise ValueError("GridOperator: one entity per gridledger simulator, without parameters")
        if dsr is None:
            raise ValueError("GridOperator: the scenario has no [dsr] (micro-DSR): no grid operator to signal")
        if dsr.spec.openadr is not None:
            raise ValueError("GridOperator: the scenario publishes its DR events through OpenADR ([dsr.openadr]); "
                             "expected a scenario without it for a DR signal from mosaik")
        feed.follow_dr_signal(self.twin)
        self.entities["GridOperator"] = {OPERATOR_EID: 0}
        return [{"eid": OPERATOR_EID, "type": "GridOperator"}]

    def _names(self, model: str) -> list[str]:
        """The names of the scenario's entities of ``model``, in order (none where its capability is off)."""
        twin = self.twin
        if model == "Meter":
            return list(twin.prosumer_ids)
        cap = twin.capability("certificates" if model == "Site" else "dsr")
        if cap is None:
            return []
        return [s.name for s in cap.sites] if model == "Site" else [o.name for o in cap.outlets]

    def step(self, time: int, inputs: dict, max_advance: int) -> int | None:
        twin = self.twin
        k, rest = divmod(time, self.ticks_per_step)
        if rest or k != self.k + 1:
            raise ValueError(f"{self.sid}: stepped at mosaik time {time}; expected {(self.k + 1) * self.ticks_per_step}"
                             f" (step {self.k + 1}: one step every {self.ticks_per_step} ticks)")
        if k >= twin.n_steps:
            raise ValueError(f"{self.sid}: stepped at mosaik time {time}, after the scenario's last step "
                             f"({twin.n_steps} steps): expected the world to run until "
                             f"{twin.n_steps * self.ticks_per_step}")
        given = self._inputs_of(k, inputs)
        meters = given["Meter"]
        twin.feed_step_kw(k, pv_kw={j: a["pv_p_kw"] for j, a in meters.items() if "pv_p_kw" in a},
                          load_kw={j: a["load_p_kw"] for j, a in meters.items() if "load_p_kw" in a})
        if given["Site"]:
            feed.feed_site_kw(twin, k, {i: a["p_kw"] for i, a in given["Site"].items()})
        if "GridOperator" in self.entities:
            signal = given["GridOperator"].get(0, {})
            feed.request_dr(twin, k, signal.get("dr_request_kw", 0.0), round(signal.get("dr_event_w", 0.0)))
        # through step k, up to the settlement due 1 s after its end (it runs with the next step, after what that
        # step is given: a DR event opened for step k+1 goes on chain where the operator's own would, right after
        # step k's power flow, before that settlement)
        twin.env.run(until=k * twin.step_s + SETTLEMENT_DELAY_S)
        self.k = k
        if k == twin.n_steps - 1:  # as Twin.run: the clock's end, then what VEE held back
            twin.env.run(until=twin.n_steps * twin.step_s + SETTLEMENT_DELAY_S)
            twin.settle_rest()
            self.result = results.collect(twin, self.manifest)
        return time + self.ticks_per_step

    def get_data(self, outputs: dict[str, list[str]]) -> dict[str, dict[str, Any]]:
        k, reader, out = max(self.k, 0), self.reader, {}
        meters, sites, outlets = (self.entities.get(m, {}) for m in ("Meter", "Site", "Outlet"))
        for eid, attrs in outputs.items():
            if eid == LEDGER_EID:
                out[eid] = reader.ledger(attrs)
            elif eid == OPERATOR_EID:
                out[eid] = reader.operator(k, attrs)
            elif eid in meters:
                out[eid] = reader.meter(meters[eid], k, attrs)
            elif eid in sites:
                out[eid] = reader.site(sites[eid], k, attrs)
            else:
                out[eid] = reader.outlet(outlets[eid], attrs)
        return out

    def finalize(self) -> None:
        twin = self.twin
        if twin is None:
            return
        try:
            if self.folder is not None:
                if self.result is None:
                    results.mark_incomplete(self.folder, self.manifest,
                                            f"mosaik stopped after step {self.k + 1} of {twin.n_steps}: expected the "
                                            f"world to run until {twin.n_steps * self.ticks_per_step}")
                else:
                    results.write_folder(self.folder, self.result)
        finally:
            twin.close()
            twin.spill.remove()

    # extra methods ----------------------------------------------------------------------------------------
    def names(self, model: str) -> list[str]:
        """The names of the scenario's entities of ``model`` (``Meter``, ``Site``, ``Outlet``), in order."""
        if model not in ENTITY_PARAM:
            raise ValueError(f"no model {model!r} with names; expected one of {sorted(ENTITY_PARAM)}")
        return self._names(model)

    def summary(self) -> dict | None:
        """The run's summary (``summary.json``'s content) once the last step has run, else None."""
        return None if self.result is None else self.result.summary

    # helpers ----------------------------------------------------------------------------------------------
    def _inputs_of(self, k: int, inputs: dict) -> dict[str, dict[int, dict[str, float]]]:
        """Step ``k``'s inputs from mosaik, each checked (``FeedError``): model -> entity index -> attr -> value,
        the sources of one input added."""
        twin = self.twin
        given: dict[str, dict[int, dict[str, float]]] = {model: {} for model in INPUTS}
        at = twin.inputs.times[k].isoformat()
        index = {eid: (model, i) for model, named in self.entities.items() for eid, i in named.items()}
        for eid, attrs in inputs.items():
            model, i = index.get(eid, (None, -1))
            for attr in attrs:
                if attr not in INPUTS.get(model, ()):
                    raise FeedError(f"{eid}: {attr!r} is not an input of gridledger; expected a Meter's "
                                    f"{' or '.join(METER_INPUTS)}, a Site's p_kw or the GridOperator's "
                                    f"{' or '.join(OPERATOR_INPUTS)}")
            for attr, sources in attrs.items():
                total = sum((_power(eid, attr, src, value, at) for src, value in sources.items()), 0.0)
                if (bound := self._bound(model, i, attr)) is not None and total > bound[0] * (1 + 1e-9):
                    raise FeedError(f"{eid}.{attr} at {at} (step {k}): {total:g} {bound[1]}")
                given[model].setdefault(i, {})[attr] = total
            known = self.fed.setdefault(eid, set(attrs))
            if missing := known - set(attrs):
                raise FeedError(f"{eid}: no {sorted(missing)} at {at} (step {k}), given before; expected a value "
                                "for every step once an input is fed")
        for eid in self.fed.keys() - inputs.keys():
            raise FeedError(f"{eid}: no {sorted(self.fed[eid])} at {at} (step {k}), given before; expected a value "
                            "for every step once an input is fed")
        return given

    def _bound(self, model: str, i: int, attr: str) -> tuple[float, str] | None:
        """The largest value ``attr`` of entity ``i`` of ``model`` takes, and what to say above it."""
        if attr == "pv_p_kw":
            kwp = self.twin.prosumer_groups[i][1].pv_kwp
            return kwp, f"kW is above its pv_kwp {kwp:g} kW (a value in W, not kW?)"
        if model == "Site":
            kw = self.twin.capability("certificates").sites[i].nameplate_kw
            return kw, f"kW is above its nameplate_kw {kw:g} kW (a value in W, not kW?)"
        if attr == "dr_request_kw":
            return MAX_REQUEST_W / 1000, f"kW is above what a DR event can ask on chain ({MAX_REQUEST_W // 1000} kW)"
        if attr == "dr_event_w":
            return MAX_REQUEST_W, f"W is above what a DR event can ask on chain ({MAX_REQUEST_W} W)"
        return None


def _power(eid: str, attr: str, src: str, value: Any, at: str) -> float:
    """One source's value [kW, W for ``*_w``]: a finite number, at least 0 (FeedError naming where it came from)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        unit = "W" if attr.endswith("_w") else "kW"
        raise FeedError(f"{eid}.{attr} from {src} at {at}: {value!r}; expected a finite power of at least 0 {unit} "
                        "(the mean over the step)")
    return float(value)


def main() -> None:
    """Run as a separate process mosaik connects to (``"cmd": "python -m sim.cosim.simulator %(addr)s"``)."""
    mosaik_api_v3.start_simulation(GridledgerSim(), "gridledger")


if __name__ == "__main__":
    main()
