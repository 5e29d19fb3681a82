"""The device table: which real (or simulated) devices the twin talks to, where, and what their registers mean.

A run's scenario lists them in ``[[devices]]`` (or names a device-table file in ``[hil] devices_file``); the
device simulator reads a device-table file (``[[devices]]`` plus ``[simulator]`` and ``[[faults]]``). The same
``[[devices]]`` entries serve both: to use a real meter, change its ``host``, ``port``, ``unit_id`` and
``registers`` to the meter's manual; the ``simulate`` sub-table is then simply not used.

Times: ``poll_s``, ``backoff_max_s`` and ``watchdog_s`` are simulated seconds (equal to wall seconds at
``realtime.factor = 1``); ``timeout_s`` and a fault's ``reply_delay_s`` are wall-clock seconds, because a
network round trip does not speed up with the simulation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, model_validator

from sim.hil.mqtt_table import MqttPoint, MqttSpec
from sim.hil.registers import COIL_TYPE, TYPES, UNITS, register_count
from sim.hil.sunspec_spec import SunSpecPointSpec, SunSpecSimSpec
from sim.schema import NonNeg, Pos, ScenarioError, _Frozen, format_errors, read_toml

LOOPBACK = "127.0.0.1"
NAME = r"^[A-Za-z0-9_.-]+$"
# kind -> (required points, optional points); the unit family each point must use
POINTS = {"meter": ({"energy"}, {"power"}), "relay": ({"state"}, {"watchdog"}),
          "setpoint": ({"setpoint"}, {"watchdog"})}
POINT_UNIT = {"energy": "Wh", "power": "W", "setpoint": "W", "state": "1", "watchdog": "s"}
WRITABLE = {"state", "setpoint", "watchdog"}
OUTLET_PREFIX = "outlet/"  # entities of smart outlets (micro-DSR), switched by relays




class RegisterSpec(_Frozen):
    """One point of a device: where it lives and how its registers encode it (see ``sim.hil.registers``)."""

    point: Literal["energy", "power", "state", "setpoint", "watchdog"]
    address: Annotated[int, Field(ge=0, le=65535)]
    table: Literal["holding", "input", "coil"] = "holding"
    type: Literal[tuple(TYPES) + (COIL_TYPE,)] = "uint16"  # type: ignore[valid-type]
    scale: float = 1.0
    unit: Literal[tuple(UNITS)] = "1"  # type: ignore[valid-type]
    byte_order: Literal["big", "little"] = "big"
    word_order: Literal["big", "little"] = "big"

    @model_validator(mode="after")
    def _consistent(self) -> RegisterSpec:
        if (self.table == "coil") != (self.type == COIL_TYPE):
            raise ValueError(f"type 'bool' goes with table 'coil' and only there (got type {self.type!r} "
                             f"in table {self.table!r})")
        if self.scale == 0:
            raise ValueError("scale must not be 0")
        if UNITS[self.unit][0] != POINT_UNIT[self.point]:
            allowed = sorted(u for u, (base, _) in UNITS.items() if base == POINT_UNIT[self.point])
            raise ValueError(f"point {self.point!r} needs a unit among {allowed}, got {self.unit!r}")
        if self.point in WRITABLE and self.table == "input":
            raise ValueError(f"point {self.point!r} is written, so it cannot live in the read-only 'input' table")
        if self.address + register_count(self.type) > 65536:
            raise ValueError(f"address {self.address} + {register_count(self.type)} registers passes 65535")
        return self


class SimulateSpec(_Frozen):
    """How ``gridledger devices simulate`` plays the device (ignored by runs and by real devices).

    A meter's export power is ``power_w + amplitude_w * sin(2 pi t / cycle_s)`` (t in device seconds),
    integrated into its energy register from ``energy_wh``. A relay or set-point starts at ``state`` (default:
    its safe state).
    """

    power_w: float = 0.0
    amplitude_w: NonNeg = 0.0
    cycle_s: Pos = 3600.0
    energy_wh: NonNeg = 0.0
    state: bool | float | None = None
    sunspec: SunSpecSimSpec | None = Field(default=None, exclude_if=lambda v: v is None)  # protocol "sunspec"


class DeviceSpec(_Frozen):
    """A device on Modbus TCP and the twin entity it replaces (a meter) or is driven by (a relay, a set-point).

    ``entity``: for a meter ``meter/<prosumer id>`` (its readings replace that prosumer's virtual meter); for a
    relay or set-point the entity whose command it follows, named by the capability that owns it (e.g.
    ``prosumer/<id>/battery``: on while the VPP declares export for that member). ``safe_state``: what a relay
    or set-point falls back to when communication is lost (the device's own watchdog after ``watchdog_s``
    without a request) and when the bridge stops.

    ``protocol = "mqtt"``: the device is reached through the MQTT broker at ``host``:``port``, its points are in
    ``mqtt`` (``sim.hil.mqtt_table``) instead of ``registers``; meters and relays only. ``inject`` (meters): the
    device's measured power replaces its prosumer's net injection in the power flow (``HilBridge.inject``).
    """

    name: str = Field(min_length=1, pattern=NAME)
    kind: Literal["meter", "relay", "setpoint"]
    protocol: Literal["modbus-tcp", "sunspec", "mqtt"] = "modbus-tcp"
    host: str = LOOPBACK
    port: Annotated[int, Field(ge=0, le=65535)]
    unit_id: Annotated[int, Field(ge=0, le=255)] = 1
    entity: str = Field(min_length=1)
    poll_s: Pos = 1.0
    timeout_s: Annotated[float, Field(gt=0, le=10)] = 0.2
    backoff_max_s: Pos = 30.0
    registers: list[RegisterSpec]  # modbus-tcp: at least one; sunspec, mqtt: none (given as [] when left out)
    sunspec: list[SunSpecPointSpec] = Field(default=[], exclude_if=lambda v: not v)  # protocol "sunspec": points
    safe_state: bool | float | None = None
    watchdog_s: Pos | None = None
    simulate: SimulateSpec = SimulateSpec()
    mqtt: MqttSpec | None = Field(default=None, exclude_if=lambda v: v is None)  # protocol "mqtt": its points
    inject: bool = Field(default=False, exclude_if=lambda v: not v)  # a meter's power in the power flow

    @model_validator(mode="before")
    @classmethod
    def _sunspec_has_no_registers(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("protocol") in ("sunspec", "mqtt") and "registers" not in data:
            return {**data, "registers": []}
        return data

    @model_validator(mode="after")
    def _points(self) -> DeviceSpec:
        required, optional = POINTS[self.kind]
        check_protocol(self)
        have = [r.point for r in [*self.registers, *self.sunspec, *(self.mqtt.points if self.mqtt else [])]]
        if len(set(have)) != len(have):
            raise ValueError(f"registers: each point at most once, got {have}")
        if missing := required - set(have):
            raise ValueError(f"registers: a {self.kind} needs point(s) {sorted(missing)}")
        if extra := set(have) - required - optional:
            raise ValueError(f"registers: a {self.kind} has no point(s) {sorted(extra)} "
                             f"(allowed: {sorted(required | optional)})")
        if self.kind == "meter":
            if self.safe_state is not None:
                raise ValueError("safe_state is for relays and set-points, not meters")
            if not self.entity.startswith("meter/"):
                raise ValueError(f"entity: a meter replaces a virtual meter 'meter/<prosumer id>', got {self.entity!r}")
        elif self.kind == "relay" and not isinstance(self.safe_state, bool):
            raise ValueError("safe_state: a relay needs safe_state = true or false (its state on lost communication)")
        elif self.kind == "setpoint" and (self.safe_state is None or isinstance(self.safe_state, bool)):
            raise ValueError("safe_state: a set-point needs a number (its value on lost communication) [W]")
        if self.kind == "meter" and self.simulate.amplitude_w > self.simulate.power_w:
            raise ValueError("simulate: an export register never runs backwards: amplitude_w must not exceed power_w")
        if "watchdog" in have and self.watchdog_s is None:
            raise ValueError("watchdog_s: the map has a watchdog register, so give the seconds to write into it")
        return self

    def register(self, point: str) -> RegisterSpec | SunSpecPointSpec | MqttPoint | None:
        """Where the point lives: a register (modbus-tcp), a SunSpec model's point (sunspec) or topics (mqtt)."""
        return next((r for r in [*self.registers, *self.sunspec, *(self.mqtt.points if self.mqtt else [])]
                     if r.point == point), None)


def check_protocol(d: DeviceSpec) -> None:
    """A Modbus device maps its points to registers; a SunSpec device names them by model and point; an MQTT
    device by topics and payload fields (``sim.hil.mqtt_table``)."""
    if d.protocol == "mqtt":
        if d.mqtt is None or d.registers or d.sunspec:
            raise ValueError("mqtt: a device with protocol 'mqtt' gives its points in mqtt.points, not registers")
        if d.kind == "setpoint":
            raise ValueError("kind: over MQTT only meters and relays (a set-point needs protocol 'modbus-tcp')")
    elif d.mqtt is not None:
        raise ValueError(f"mqtt: only for protocol = \"mqtt\" (this device's protocol is {d.protocol!r})")
    elif d.protocol == "sunspec":
        if d.registers:
            raise ValueError("registers: a SunSpec device names its points by model and point in 'sunspec' "
                             "(e.g. { point = \"energy\", model = 203, name = \"TotWhExp\" }), not by register")
        if d.kind != "meter":
            raise ValueError(f"kind: a SunSpec device is read as a meter here, not a {d.kind}")
        if not d.sunspec:
            raise ValueError("sunspec: a SunSpec device needs its points, e.g. "
                             "[{ point = \"energy\", model = 203, name = \"TotWhExp\" }]")
        if d.simulate.sunspec is not None:
            check_sunspec_simulation(d.simulate.sunspec, {p.model for p in d.sunspec})
    elif d.sunspec or d.simulate.sunspec is not None:
        raise ValueError(f"sunspec: only for protocol = \"sunspec\" (this device's protocol is {d.protocol!r})")
    elif not d.registers:
        raise ValueError("registers: a Modbus device needs at least one register")
    if d.inject and (d.kind != "meter" or d.register("power") is None):
        raise ValueError("inject: only a meter with a 'power' point can stand in the power flow for its prosumer")
    if d.inject and d.protocol == "sunspec":  # SunSpec leaves the sign of a meter's W to the vendor (docs/sunspec.md)
        raise ValueError("inject: not for a SunSpec device: the sign of its W (import or export positive) is the "
                         "vendor's; use a Modbus or MQTT power point whose sign the table states")


class SimulatorSpec(_Frozen):
    """``time_factor``: device seconds per wall second; set it to the run's ``realtime.factor``."""

    time_factor: Pos = 1.0


class FaultSpec(_Frozen):
    """A fault the simulator injects ``at_s`` device seconds after the first request it serves, for
    ``duration_s`` device seconds: ``drop`` (requests go unanswered), ``slow`` (replies wait ``reply_delay_s``
    wall seconds), ``exception`` (Modbus exception ``exception_code``), ``garbage`` (replies are corrupted),
    ``stuck`` (writes are acknowledged but not taken, as by a relay in manual override), ``restart`` (the
    server closes every connection and listens again after ``duration_s``). ``device``:
    one device by name (for ``restart``: its server), or every device."""

    kind: Literal["drop", "slow", "exception", "garbage", "stuck", "restart"]
    at_s: NonNeg
    duration_s: Pos
    device: str | None = None
    reply_delay_s: Pos = 0.5
    exception_code: Literal[1, 2, 3, 4, 5, 6, 7, 8, 10, 11] = 4  # 4: server device failure, 6: busy


class DeviceTable(_Frozen):
    simulator: SimulatorSpec = SimulatorSpec()
    devices: list[DeviceSpec] = Field(min_length=1)
    faults: list[FaultSpec] = []

    @model_validator(mode="after")
    def _unique(self) -> DeviceTable:
        check_unique(self.devices)
        names = {d.name for d in self.devices}
        for i, f in enumerate(self.faults):
            if f.device is not None and f.device not in names:
                raise ValueError(f"faults[{i}].device: {f.device!r} is not a device (devices: {sorted(names)})")
        return self


def check_sunspec_simulation(sim: SunSpecSimSpec, point_models: set[int]) -> None:
    """The simulated layout serves the models the points name, and names only points those models have."""
    from sim.hil.sunspec_map import model_def

    models = sim.models or sorted({1} | point_models)
    if missing := point_models - set(models):
        raise ValueError(f"simulate.sunspec.models: the points name model(s) {sorted(missing)}: serve them too")
    names = {p.name for m in models for p in model_def(m).points}
    for key, given in (("values", sim.values), ("scale_factors", sim.scale_factors), ("unserved", sim.unserved)):
        if unknown := sorted(set(given) - names):
            raise ValueError(f"simulate.sunspec.{key}: no point {unknown} in models {models}")
    if bad := sorted(n for n in sim.unserved if n in ("ID", "L")):
        raise ValueError(f"simulate.sunspec.unserved: {bad}: a model's ID and L are always served")


def check_unique(devices: list[DeviceSpec]) -> None:
    names = [d.name for d in devices]
    if len(set(names)) != len(names):
        raise ValueError(f"devices: names must be unique, got {names}")
    seen: dict[tuple, str] = {}
    for d in devices:  # (the simulator serves every port-0 device on one free port: unit ids differ there too)
        key = (d.host, d.port, d.unit_id) if d.mqtt is None else (d.host, d.port, d.mqtt.points[0].query_topic)
        if key in seen:
            raise ValueError(f"devices: {d.name!r} and {seen[key]!r} both use {d.host}:{d.port} "
                             + (f"unit {d.unit_id}" if d.mqtt is None else f"topic {key[2]!r}"))
        seen[key] = d.name
    meters = [d.entity for d in devices if d.kind == "meter"]
    if len(set(meters)) != len(meters):
        raise ValueError(f"devices: two meters replace the same virtual meter: {meters}")
    outlets = [d.entity for d in devices if d.entity.startswith("outlet/")]
    if len(set(outlets)) != len(outlets):
        raise ValueError(f"devices: two devices switch the same smart outlet: {outlets}")


def check_loopback(devices: list[DeviceSpec], *, allow_remote_hosts: bool, what: str) -> None:
    """Everything listens and connects on 127.0.0.1 unless a lab says otherwise (raises ValueError)."""
    for i, d in enumerate(devices):
        if d.host != LOOPBACK and not allow_remote_hosts:
            raise ValueError(f"devices[{i}].host: {what} uses {LOOPBACK} only, got {d.host!r} for {d.name!r}"
                             + ("" if what.startswith("the simulator") else
                                "; allow other hosts explicitly to reach a device on another machine"))


def check_run_devices(devices: list[DeviceSpec], *, prosumer_ids: list[str], settlement_s: int,
                      allow_remote_hosts: bool, realtime: bool, claimed_prefixes: tuple[str, ...] = ()) -> None:
    """Cross-checks of a scenario's devices against the rest of the scenario (raises ValueError). A meter
    replaces a prosumer's meter; any other device is bound to an entity of an enabled capability, named by one
    of ``claimed_prefixes`` (the capability checks the binding itself)."""
    if not devices:
        return
    if not realtime:
        raise ValueError("realtime: missing: [[devices]] need a [realtime] section (factor, strict), because "
                         "real devices run on wall-clock time")
    check_unique(devices)
    check_loopback(devices, allow_remote_hosts=allow_remote_hosts,
                   what="a run (set [hil] allow_remote_hosts = true for other hosts)")
    for d in devices:
        where = f"devices: {d.name!r}"
        if d.port == 0:
            raise ValueError(f"{where}: port 0 means 'any free port' to the simulator; a run needs the real port")
        if d.kind == "meter":
            pid = d.entity.removeprefix("meter/")
            if pid not in prosumer_ids:
                raise ValueError(f"{where}: entity {d.entity!r} names no prosumer (ids: {prosumer_ids[:4]}…)")
            if settlement_s % d.poll_s:
                raise ValueError(f"{where}: poll_s ({d.poll_s:g}) must divide run.settlement_s ({settlement_s}) "
                                 "so that a poll falls on every period boundary")
        elif d.entity.startswith(OUTLET_PREFIX) and not d.entity.startswith(claimed_prefixes):
            raise ValueError(f"{where}: entity {d.entity!r} is a smart outlet: the scenario needs a [dsr] section")


def load_device_table(path: str | Path) -> DeviceTable:
    """Read and validate a device-table file; errors name the file, the field and what was expected."""

    path = Path(path)
    return validate_device_table(read_toml(path, "device-table"), source=str(path))


def validate_device_table(data: Any, *, source: str = "<devices>") -> DeviceTable:
    """Validate a parsed device table; errors (``ScenarioError``) name ``source``, the field and what was expected."""

    try:
        return DeviceTable.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(format_errors(source, exc, "device table")) from None


def inline_devices_file(data: dict[str, Any], scenario_path: Path) -> dict[str, Any]:
    """A scenario mapping with ``[hil] devices_file`` (relative to the scenario) read into ``devices``."""

    name = (data.get("hil") or {}).get("devices_file")
    if not name:
        return data
    if "devices" in data:
        raise ScenarioError(f"{scenario_path}: hil.devices_file: give either [[devices]] or a devices_file, not both")
    if not isinstance(name, str):
        raise ScenarioError(f"{scenario_path}: hil.devices_file: a path (text), got {name!r}")
    table = load_device_table(scenario_path.parent / name)
    return {**data, "devices": [d.model_dump(mode="python") for d in table.devices]}
