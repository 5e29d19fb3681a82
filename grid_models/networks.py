"""Networks from outside the project: a SimBench grid (``simbench:<code>``, read from the simbench package's
offline data) or a pandapower net saved with ``pandapower.to_json`` (a ``.json`` file).

``read_network`` reads one as it is. ``network_problems`` says why it cannot be used, each reason naming what
(elements the twin does not model, islanded buses, no load, several external grids that are not one upstream
grid …). ``normalise`` brings a usable one into the form the feeder solves, the same net for every solver
(``grid_models.feeder``), so that the direct lightsim2grid path and ``pp.runpp`` solve the same equations:

- the network's own static generators and storage units are left out (their plants are not members of the
  community; the twin's PV and batteries are its prosumers'), and so are loads out of service;
- household loads are constant-power at unity power factor (``q_mvar = 0``, as the Kerber households);
  voltage-dependent percentages left empty (NaN, as simbench 1.6.1 leaves them under pandapower 3) are 0;
- a transformer with a tap position but no tap-changer type (simbench 1.6.1 under pandapower 3) gets a ratio tap
  changer, as pandapower 2 read it and as lightsim2grid reads it anyway;
- switches are resolved as pandapower resolves them (lightsim2grid ignores switches): buses joined by closed
  bus-bus switches become one bus; an element behind an open line or transformer switch is connected to an
  auxiliary bus at that end (both ends open: out of service); then the switch table is emptied;
- several external grids with the same voltage set-point are one upstream grid: their buses become one bus with
  one external grid. That is exact (every such bus is held at the same complex voltage) and it is needed:
  lightsim2grid turns several external grids into a distributed slack, a different model, and
  ``pp.runpp(lightsim2grid=True)`` refuses several;
- bus indices are made contiguous (lightsim2grid orders buses by index).

``network_load_profiles`` reads SimBench's annual load profiles (relative profile × the load's ``p_mw``, as
``simbench.get_absolute_values(net, profiles_instead_of_study_cases=True)`` computes them).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import pandapower as pp
import pandapower.topology as top
import pandas as pd

from grid_models.network_source import SIMBENCH_PREFIX, NetworkError, file_sha256, network_kind
from grid_models.units import mw_to_kw

__all__ = ["SIMBENCH_PREFIX", "LoadProfiles", "NetworkError", "file_sha256", "network_kind", "network_load_profiles",
           "network_problems", "normalise", "prosumer_positions", "read_network"]

# element tables the feeder solves; static generators and storage are left out (see the module's text)
SUPPORTED_ELEMENTS = ("bus", "line", "trafo", "load", "ext_grid", "switch", "shunt", "measurement")
LEFT_OUT_ELEMENTS = ("sgen", "storage")
OTHER_ELEMENTS = ("svc", "ssc", "vsc", "tcsc", "b2b_vsc", "bi_vsc", "source_dc", "load_dc", "line_dc", "bus_dc")
WHY_NOT = {
    "gen": "a voltage-controlled generator holds its bus voltage, which no household or prosumer PV does; the twin's "
           "generation is its prosumers' PV (static generators)",
    "trafo3w": "three-winding transformers are not taken by lightsim2grid",
    "asymmetric_load": "the twin solves a balanced three-phase power flow",
    "asymmetric_sgen": "the twin solves a balanced three-phase power flow",
}
NUMERIC_SUFFIXES = ("_mw", "_mvar", "_mva", "_pu", "_kv", "_ka", "_percent", "_degree", "slack_weight")
MAX_NAMED = 3


def read_network(source: str):
    """The pandapower net of ``source`` (``simbench:<code>`` or a JSON file path), as it is."""
    kind = network_kind(source)
    if kind == "simbench":
        import simbench

        code = source[len(SIMBENCH_PREFIX):]
        codes = simbench.collect_all_simbench_codes()
        if code not in codes:
            examples = ", ".join(c for c in codes if "-LV-" in c and c.endswith("--0-sw"))
            raise NetworkError(f"unknown SimBench code {code!r}; the LV grids are e.g. {examples}")
        return simbench.get_simbench_net(code)
    if kind == "file":
        file_sha256(source)  # a missing file is named as such
        try:
            net = pp.from_json(str(source))
        except Exception as exc:  # noqa: BLE001 - pandapower raises many kinds on a file that is not a net
            raise NetworkError(f"{source} is not a pandapower net saved with pandapower.to_json "
                               f"({type(exc).__name__}: {exc})") from None
        if not isinstance(net, pp.pandapowerNet):
            raise NetworkError(f"{source} is not a pandapower net saved with pandapower.to_json")
        return net
    raise NetworkError(f"not a network source: {source!r} (expected 'simbench:<code>' or a '.json' file)")


def _named(df: pd.DataFrame, index=None) -> str:
    """A few elements of ``df`` by name (or index), for a message."""
    index = df.index if index is None else index
    names = [str(n) if isinstance(n := df.at[i, "name"] if "name" in df else None, str) and n else f"#{i}"
             for i in list(index)[:MAX_NAMED]]
    more = len(index) - len(names)
    return ", ".join(repr(n) for n in names) + (f" and {more} more" if more > 0 else "")


def _in_service(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["in_service"].astype(bool)] if "in_service" in df else df


def network_problems(net) -> list[str]:
    """Why ``net`` cannot be the twin's feeder (empty: it can), each reason naming the elements concerned."""
    problems = []
    for elm in sorted(set(pp.toolbox.pp_elements()) | set(OTHER_ELEMENTS)):
        df = net.get(elm)
        if elm in SUPPORTED_ELEMENTS or elm in LEFT_OUT_ELEMENTS or not isinstance(df, pd.DataFrame):
            continue
        active = _in_service(df)
        if len(active):
            why = WHY_NOT.get(elm, "the twin's feeder takes buses, lines, two-winding transformers, loads, external "
                                   "grids, switches and shunts")
            problems.append(f"{len(active)} '{elm}' element(s) in service ({_named(active)}): not supported ({why})")
    controllers = net.get("controller")
    if isinstance(controllers, pd.DataFrame) and len(_in_service(controllers)):
        problems.append(f"{len(_in_service(controllers))} controller(s) in net.controller: the twin runs one power "
                        "flow per step, no control loop")

    loads = _in_service(net.load)
    if not len(loads):
        problems.append("no load in service: no household to place a prosumer on")
    zip_cols = [c for c in loads.columns if c.startswith(("const_z", "const_i"))]
    zip_loads = loads.index[loads[zip_cols].fillna(0.0).abs().to_numpy().any(axis=1)] if zip_cols else []
    if len(zip_loads):
        problems.append(f"{len(zip_loads)} voltage-dependent load(s) ({_named(loads, zip_loads)}: const_z/const_i "
                        "percent): the twin takes constant-power loads")

    grids = _in_service(net.ext_grid)
    if not len(grids):
        problems.append("no external grid in service: nothing holds the voltage (the twin needs an ext_grid)")
    else:
        kv = net.bus.vn_kv.reindex(grids.bus).to_numpy()
        if (grids.vm_pu.nunique() > 1 or grids.va_degree.fillna(0.0).nunique() > 1 or len(set(kv)) > 1):
            problems.append(f"{len(grids)} external grids with different set-points or voltage levels (vm_pu "
                            f"{sorted(set(grids.vm_pu))}, va_degree {sorted(set(grids.va_degree.fillna(0.0)))}, "
                            f"{sorted(set(kv))} kV): the twin takes several external grids as one upstream grid "
                            "(same vm_pu, va_degree and nominal voltage)")
        live = net.bus.index[net.bus.in_service.astype(bool)]
        islanded = sorted(set(top.unsupplied_buses(net)) & set(live))
        if islanded:
            problems.append(f"{len(islanded)} bus(es) in service not connected to an external grid with the switches "
                            f"as they are (islanded: {_named(net.bus, islanded)}): connect them or set them out of "
                            "service")
    sw = net.switch
    if len(sw) and "z_ohm" in sw:
        bb = sw[(sw.et == "b") & sw.closed.astype(bool) & (sw.z_ohm.fillna(0.0) > 0)]
        if len(bb):
            problems.append(f"{len(bb)} closed bus-bus switch(es) with an impedance ({_named(sw, bb.index)}): "
                            "the twin joins closed bus-bus switches into one bus")
    return problems


@dataclass(frozen=True)
class LoadProfiles:
    """Annual load profiles of a network's households, mean active power per interval."""

    kw: np.ndarray  # (intervals, households) [kW], columns in the order of ``load_index``
    names: tuple[str, ...]  # each household's profile name (SimBench's: "H0-A", "G1-B", "L2-A" …)
    load_index: tuple[int, ...]  # net.load index of each column
    start: pd.Timestamp  # start of the first interval: naive, read as local standard time (SimBench: 2016-01-01)
    step_s: int  # interval length (SimBench: 900)

    @property
    def annual_kwh(self) -> np.ndarray:
        """Each household's energy over the profile year [kWh]."""
        return self.kw.sum(axis=0) * self.step_s / 3600.0


NO_PROFILES = "the network carries no load profiles (SimBench nets do: net.profiles['load'] and a 'profile' per load)"


def network_load_profiles(net) -> tuple[LoadProfiles | None, str | None]:
    """The in-service loads' profiles (relative profile ``<profile>_pload`` × the load's ``p_mw``), or None and
    why not."""
    profiles = net.get("profiles")
    table = profiles.get("load") if isinstance(profiles, dict) else None
    loads = _in_service(net.load)
    if not isinstance(table, pd.DataFrame) or not len(table) or "profile" not in loads or "time" not in table:
        return None, NO_PROFILES
    cols = loads.profile.astype(str) + "_pload"
    missing = loads.index[~cols.isin(table.columns)]
    if len(missing):
        return None, (f"{len(missing)} load(s) without a load profile in net.profiles['load'] "
                      f"({_named(loads, missing)})")
    try:
        t = pd.to_datetime(table["time"].iloc[:2], format="%d.%m.%Y %H:%M")
    except (ValueError, TypeError):
        return None, f"net.profiles['load'].time is not SimBench's 'DD.MM.YYYY hh:mm' (got {table['time'].iloc[0]!r})"
    step_s = int((t.iloc[1] - t.iloc[0]).total_seconds()) if len(t) > 1 else 0
    if step_s <= 0:
        return None, "net.profiles['load'] has fewer than two increasing time steps"
    kw = mw_to_kw(table[cols.tolist()].to_numpy(dtype=float) * loads.p_mw.to_numpy(dtype=float))
    return LoadProfiles(np.ascontiguousarray(kw), tuple(loads.profile.astype(str)), tuple(int(i) for i in loads.index),
                        pd.Timestamp(t.iloc[0]), step_s), None


def _fuse(net, groups: list[list[int]]) -> None:
    for group in groups:
        keep = min(group)
        rest = set(group) - {keep}
        if rest:
            pp.fuse_buses(net, keep, rest)


def _groups(pairs: list[tuple[int, int]]) -> list[list[int]]:
    """Connected groups of the buses joined by ``pairs`` (union-find)."""
    parent: dict[int, int] = {}

    def root(b: int) -> int:
        parent.setdefault(b, b)
        while parent[b] != b:
            parent[b] = parent[parent[b]]
            b = parent[b]
        return b

    for a, b in pairs:
        ra, rb = root(int(a)), root(int(b))
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    out: dict[int, list[int]] = {}
    for b in list(parent):
        out.setdefault(root(b), []).append(b)
    return [sorted(g) for g in out.values() if len(g) > 1]


def _resolve_switches(net) -> None:
    sw = net.switch
    if not len(sw):
        return
    closed = sw.closed.astype(bool)
    _fuse(net, _groups(list(zip(sw.bus[closed & (sw.et == "b")], sw.element[closed & (sw.et == "b")]))))
    sw = net.switch  # fuse_buses reroutes the switches of the buses it joins
    ends = {"l": ("line", ("from_bus", "to_bus")), "t": ("trafo", ("hv_bus", "lv_bus"))}
    for et, (table, sides) in ends.items():
        opened = sw[(sw.et == et) & ~sw.closed.astype(bool)]
        for element, rows in opened.groupby("element"):
            row = net[table].loc[element]
            open_sides = [s for s in sides if row[s] in set(rows.bus)]
            if len(open_sides) == 2:
                net[table].at[element, "in_service"] = False
                continue
            for side in open_sides:
                aux = pp.create_bus(net, vn_kv=net.bus.at[row[side], "vn_kv"], name=f"aux {table} {element} {side}")
                net[table].at[element, side] = aux
    net.switch = net.switch.iloc[0:0]


def normalise(net):
    """A copy of a usable ``net`` (no ``network_problems``) in the form the feeder solves (see the module's text),
    and what was left out: ``{"sgen": n, "storage": n, "load": n}`` (elements in service; loads out of service)."""
    net = copy.deepcopy(net)
    for key in ("profiles", "loadcases"):
        net.pop(key, None)
    left_out = {elm: int(net[elm].in_service.astype(bool).sum()) for elm in LEFT_OUT_ELEMENTS}
    for elm in LEFT_OUT_ELEMENTS:
        net[elm] = net[elm].iloc[0:0]
    out_of_service = net.load.index[~net.load.in_service.astype(bool)]
    left_out["load"] = len(out_of_service)
    net.load = net.load.drop(out_of_service)
    left_out = {k: n for k, n in left_out.items() if n}

    zip_cols = [c for c in net.load.columns if c.startswith(("const_z", "const_i"))]
    net.load[zip_cols] = net.load[zip_cols].astype(float).fillna(0.0)
    net.load["q_mvar"] = 0.0
    t = net.trafo
    if "tap_changer_type" in t and len(t):
        untyped = (t.tap_changer_type.isna() & t.tap_step_percent.fillna(0.0).ne(0.0) & t.tap_pos.notna()
                   & t.tap_pos.ne(t.tap_neutral.fillna(0.0)))
        net.trafo.loc[untyped, "tap_changer_type"] = "Ratio"
    _resolve_switches(net)
    grids = net.ext_grid[net.ext_grid.in_service.astype(bool)]
    net.ext_grid = grids.iloc[:1]
    _fuse(net, [sorted(set(int(b) for b in grids.bus))])
    pp.toolbox.create_continuous_bus_index(net, start=0, store_old_index=False)
    net.bus = net.bus.sort_index()
    for table in ("bus", "line", "trafo", "load", "sgen", "storage", "ext_grid", "shunt"):
        df = net[table]
        for col in df.columns:  # simbench leaves some numeric columns as objects; lightsim2grid needs numbers
            if col.endswith(NUMERIC_SUFFIXES) and df[col].dtype == object:
                df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    return net, left_out


def prosumer_positions(net, n_prosumers: int, prosumer_loads: list[str] | None = None) -> np.ndarray:
    """Positions in ``net.load`` of the prosumers' households: the loads named in ``prosumer_loads`` (one per
    prosumer, in order), or by default spread evenly over the load table."""
    n_loads = len(net.load)
    if prosumer_loads is None:
        if n_prosumers > n_loads:
            raise NetworkError(f"{n_loads} households (loads), cannot host {n_prosumers} prosumers")
        return np.unique(np.linspace(0, n_loads - 1, n_prosumers).round().astype(int))
    if len(prosumer_loads) != n_prosumers:
        raise NetworkError(f"{len(prosumer_loads)} loads named for {n_prosumers} prosumers: one load per prosumer, "
                           "in the order of [[population]]")
    seen = [n for i, n in enumerate(prosumer_loads) if n in prosumer_loads[:i]]
    if seen:
        raise NetworkError(f"load {seen[0]!r} named twice: one prosumer per load")
    names = net.load["name"].to_numpy(dtype=object)
    pos, missing, ambiguous = [], [], []
    for name in prosumer_loads:
        hits = np.flatnonzero(names == name)
        (missing if not len(hits) else ambiguous if len(hits) > 1 else pos).append(name if len(hits) != 1 else hits[0])
    if missing:
        known = [n for n in names if isinstance(n, str) and n][:MAX_NAMED]
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise NetworkError(f"no load in service named {missing[0]!r}{more}; the network's loads are "
                           + (f"named e.g. {', '.join(map(repr, known))}" if known else "unnamed"))
    if ambiguous:
        raise NetworkError(f"{len(ambiguous)} load name(s) not unique in the network ({ambiguous[0]!r})")
    return np.asarray(pos, dtype=int)
