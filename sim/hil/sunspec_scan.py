"""``gridledger devices scan HOST:PORT``: what a SunSpec device offers, unit id by unit id, and a device-table
entry for it.

pysunspec2 finds the base address (it tries 40000, 0, 50000) and the model list; each model is then read whole
and, when the device refuses that (Modbus exception 2 for an address it does not serve), point by point. A scan
is tolerant: an absent unit, a unit that is not SunSpec, a model pysunspec2 has no definition for, a model
longer or shorter than its definition, points that are not served or 'not implemented' are reported, never
fatal. Values are pysunspec2's, scaled with their scale factor only when that is implemented (pysunspec2 alone
would return the raw value when the scale factor is missing).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sim.hil.sunspec_map import SunSpecMapError, model_def

DEFAULT_UNIT_IDS = (1, 2, 3, 126, 200, 240)  # common SunSpec unit ids (inverters 1..3; a few vendors' meters)
# the points a device-table entry reads, by model: meters first, then inverters
ENERGY_POINTS = {201: ("TotWhExp", "W"), 202: ("TotWhExp", "W"), 203: ("TotWhExp", "W"), 204: ("TotWhExp", "W"),
                 101: ("WH", "W"), 102: ("WH", "W"), 103: ("WH", "W")}


@dataclass
class ScannedModel:
    model_id: int
    address: int  # of its ID register
    length: int  # L as the device reports it
    name: str | None  # the definition's group name; None: pysunspec2 has no definition
    values: dict[str, object] = field(default_factory=dict)  # implemented points, scaled
    unserved: list[str] = field(default_factory=list)  # points the device refused (exception)
    notes: list[str] = field(default_factory=list)


@dataclass
class ScannedUnit:
    unit_id: int
    base_address: int | None = None
    models: list[ScannedModel] = field(default_factory=list)
    error: str | None = None

    def model(self, model_id: int) -> ScannedModel | None:
        return next((m for m in self.models if m.model_id == model_id), None)


def scan_unit(host: str, port: int, unit_id: int, *, timeout_s: float = 0.5) -> ScannedUnit:
    """Scan one unit id; never raises for what the device answers (or does not)."""
    from sunspec2.modbus import client

    out = ScannedUnit(unit_id)
    dev = client.SunSpecModbusClientDeviceTCP(slave_id=unit_id, ipaddr=host, ipport=port, timeout=timeout_s)
    try:
        dev.scan(full_model_read=False)
        out.base_address = dev.base_addr
        found = sorted((m for k, ms in dev.models.items() if isinstance(k, int) for m in ms),
                       key=lambda m: m.model_addr)
        out.models = [_read_model(m) for m in found]
    except Exception as exc:  # pysunspec2 raises plain Exceptions of several kinds: every one is a finding
        out.error = _short(str(exc)) or type(exc).__name__
    finally:
        dev.disconnect()
    return out


def _short(text: str) -> str:
    """pysunspec2's base-address report in one line: 'Modbus exception 4 at 40000, 0, 50000'."""
    import re

    found = re.findall(r"Base address (\d+) error = (.*?)(?::\s*addr:.*?)?\.\s*(?=Base address|$)", text)
    if not found:
        return " ".join(text.split())
    by_error: dict[str, list[str]] = {}
    for addr, err in found:
        by_error.setdefault(err.strip() or "no answer", []).append(addr)
    return "; ".join(f"{err} at {', '.join(addrs)}" for err, addrs in by_error.items())


def scan(host: str, port: int, unit_ids=DEFAULT_UNIT_IDS, *, timeout_s: float = 0.5) -> list[ScannedUnit]:
    return [scan_unit(host, port, u, timeout_s=timeout_s) for u in unit_ids]


def _points(group) -> list:
    out = list(group.points.values())
    for g in group.groups.values():
        for sub in g if isinstance(g, list) else [g]:
            out += _points(sub)
    return out


def _read_model(m) -> ScannedModel:
    from sunspec2.modbus import modbus

    sm = ScannedModel(m.model_id, m.model_addr, m.model_len, m.gname)
    if m.model_def is None:
        sm.notes.append(f"no SunSpec definition in pysunspec2 (a vendor model?): {m.model_len} registers skipped")
        return sm
    try:
        expected = model_def(m.model_id).length
    except SunSpecMapError:
        expected = None
    if expected is not None and expected != m.model_len:
        sm.notes.append(f"length {m.model_len} differs from the definition's {expected}: "
                        + ("registers past the definition ignored" if m.model_len > expected
                           else "points past the end not read"))
    points = [p for p in _points(m) if p.pdef["name"] not in ("ID", "L")]
    try:
        m.read()
    except (modbus.ModbusClientError, Exception) as exc:  # a refused block: read point by point
        sm.notes.append(f"whole-model read refused ({' '.join(str(exc).split())}): read point by point")
        for p in points:
            try:
                p.read()
            except Exception:  # noqa: BLE001 - each refusal is recorded
                sm.unserved.append(p.pdef["name"])
    for p in points:
        name = p.pdef["name"]
        if name in sm.unserved or p.pdef["type"] == "pad" or p.value is None:
            continue
        if p.sf_required and p.sf:
            sf = m.points.get(p.sf) or p.group.points.get(p.sf)
            if sf is None or sf.value is None:
                sm.notes.append(f"{name}: scale factor {p.sf} not implemented: value left out")
                continue
        sm.values[name] = p.cvalue
    return sm


# output -------------------------------------------------------------------------------------------------------
def describe(units: list[ScannedUnit], host: str, port: int) -> str:
    """The scan as text: per unit id its models, their points' values, and every oddity found."""
    lines = []
    for u in units:
        if u.error is not None:
            lines.append(f"{host}:{port} unit {u.unit_id}: no SunSpec device ({u.error})")
            continue
        lines.append(f"{host}:{port} unit {u.unit_id}: SunSpec at base address {u.base_address}, "
                     f"{len(u.models)} model(s)")
        for m in u.models:
            lines.append(f"  model {m.model_id} ({m.name or 'unknown'}) at {m.address}, L = {m.length}")
            for note in m.notes:
                lines.append(f"    note: {note}")
            if m.unserved:
                lines.append(f"    not served: {', '.join(m.unserved)}")
            for name, value in m.values.items():
                units_ = _units(m.model_id, name)
                lines.append(f"    {name:14s} {value}{' ' + units_ if units_ else ''}")
    return "\n".join(lines)


def _units(model_id: int, name: str) -> str:
    try:
        return model_def(model_id).point(name).units or ""
    except SunSpecMapError:
        return ""


def entry(unit: ScannedUnit, *, name: str, host: str, port: int, entity: str) -> str | None:
    """A ``[[devices]]`` entry (TOML) reading the unit's energy and power, with a ``simulate`` table that plays
    the same layout (models, base address, scale factors, odd lengths); None when it has no meter or inverter."""
    model = next((mid for mid in ENERGY_POINTS if unit.model(mid) is not None
                  and ENERGY_POINTS[mid][0] not in unit.model(mid).unserved), None)
    if model is None:
        return None
    energy, power = ENERGY_POINTS[model]
    m = unit.model(model)
    defined = [x for x in unit.models if x.name is not None and _servable(x.model_id)]
    scale_factors = {k: v for x in defined for k, v in x.values.items()
                     if model_def(x.model_id).point(k).type == "sunssf"}
    extra = {x.model_id: x.length - model_def(x.model_id).length for x in defined
             if x.length > model_def(x.model_id).length}
    vendor = {x.model_id: x.length for x in unit.models if x.name is None}
    energy_wh = float(m.values.get(energy) or 0.0)
    power_w = max(float(m.values.get(power) or 0.0), 0.0)
    sim = {"base_address": unit.base_address, "models": [x.model_id for x in defined],
           "scale_factors": scale_factors, "extra_registers": extra, "vendor_models": vendor}
    return "\n".join([
        "[[devices]]",
        f"name = {json.dumps(name)}",
        'kind = "meter"',
        'protocol = "sunspec"',
        f"host = {json.dumps(host)}",
        f"port = {port}",
        f"unit_id = {unit.unit_id}",
        f"entity = {json.dumps(entity)}",
        "poll_s = 5.0",
        "timeout_s = 0.2",
        f'sunspec = [{{ point = "energy", model = {model}, name = "{energy}" }}, '
        f'{{ point = "power", model = {model}, name = "{power}" }}]',
        f"simulate = {{ power_w = {power_w!r}, energy_wh = {energy_wh!r}, sunspec = {_inline(sim)} }}",
        ""])


def _servable(model_id: int) -> bool:
    """Whether the simulator can lay the model out (no repeating groups)."""
    try:
        model_def(model_id)
    except SunSpecMapError:
        return False
    return True


def _inline(d: dict) -> str:
    """A TOML inline table (keys: names or integers, values: numbers, lists of numbers, tables)."""
    parts = []
    for k, v in d.items():
        text = _inline(v) if isinstance(v, dict) else json.dumps(v)
        parts.append(f'{k if isinstance(k, str) else json.dumps(str(k))} = {text}')
    return "{ " + ", ".join(parts) + " }" if parts else "{}"
