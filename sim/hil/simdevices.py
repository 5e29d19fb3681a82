"""What a simulated device is, independent of any server: a meter whose export power follows a profile,
integrated (in closed form) into its energy register, or a relay / set-point with a state, a watchdog that
puts it into its safe state after ``watchdog_s`` device seconds without a request, and registers encoded
with the same codec the bridge decodes with. Time ``t_s`` is device seconds (wall seconds x time factor).
"""

from __future__ import annotations

import math

from sim.hil.registers import COIL_TYPE, decode, encode, from_twin_unit, register_count, to_twin_unit
from sim.hil.table import DeviceSpec, RegisterSpec

TABLE_OF_FC = {1: "coil", 5: "coil", 15: "coil", 3: "holding", 6: "holding", 16: "holding", 23: "holding",
               4: "input"}


class SimulatedDevice:
    def __init__(self, spec: DeviceSpec):
        self.spec = spec
        sim = spec.simulate
        self.value = float(spec.safe_state if sim.state is None else sim.state) if spec.kind != "meter" else 0.0
        self.watchdog_s = spec.watchdog_s
        self.last_request_s: float | None = None
        self.watchdog_trips = 0
        self.served_energy_wh: list[tuple[float, float]] = []  # (t_s, value served) for every energy read
        self.history: list[tuple[float, float]] = [(0.0, self.value)]  # (t_s, state) at every change

    # physics of the device ------------------------------------------------------------------------------
    def power_w(self, t_s: float) -> float:
        sim = self.spec.simulate
        return sim.power_w + sim.amplitude_w * math.sin(2 * math.pi * t_s / sim.cycle_s)

    def energy_wh(self, t_s: float) -> float:
        """Export register: ``energy_wh`` + integral of the power profile from 0 to ``t_s``."""
        sim = self.spec.simulate
        w = 2 * math.pi / sim.cycle_s
        joules = sim.power_w * t_s + sim.amplitude_w * (1 - math.cos(w * t_s)) / w
        return sim.energy_wh + joules / 3600.0

    def point_value(self, point: str, t_s: float) -> float:
        """A point's value in the twin's unit (Wh, W, s, 0/1) at device time ``t_s``."""
        if point == "energy":
            return self.energy_wh(t_s)
        if point == "power":
            return self.power_w(t_s)
        if point == "watchdog":
            return self.watchdog_s or 0.0
        return self.value

    def tick(self, t_s: float) -> bool:
        """Apply the watchdog; True when it has just put the device into its safe state."""
        if (self.spec.kind == "meter" or not self.watchdog_s or self.last_request_s is None
                or t_s - self.last_request_s <= self.watchdog_s):
            return False
        self.last_request_s = None  # tripped; armed again by the next request
        safe = float(self.spec.safe_state)
        if self.value != safe:
            self._set(t_s, safe)
            self.watchdog_trips += 1
            return True
        return False

    def _set(self, t_s: float, value: float) -> None:
        if value != self.value:
            self.history.append((t_s, value))
        self.value = value

    # registers -----------------------------------------------------------------------------------------
    def blocks(self):
        """pymodbus ``SimData`` blocks for the server (see :func:`blocks`)."""
        return blocks(self.spec)

    def refresh(self, table: str, start: int, registers: list[int], t_s: float) -> None:
        """Write every point of ``table`` into the server's register block (``registers[0]`` is ``start``)."""
        for reg in self.spec.registers:
            if reg.table != table:
                continue
            value = self.point_value(reg.point, t_s)
            if table == "coil":
                i, bit = divmod(reg.address, 16)
                mask = 1 << bit
                registers[i - start] = (registers[i - start] | mask) if value else (registers[i - start] & ~mask)
                continue
            order = {"byte_order": reg.byte_order, "word_order": reg.word_order}
            device_value = from_twin_unit(value, reg.unit)
            if reg.point == "energy" and not reg.type.startswith("float"):  # a register counts whole steps
                device_value = math.floor(device_value / reg.scale) * reg.scale
            words = encode(device_value, reg.type, scale=reg.scale, **order)
            registers[reg.address - start : reg.address - start + len(words)] = words
            if reg.point == "energy":
                self.served_energy_wh.append(
                    (t_s, to_twin_unit(decode(words, reg.type, scale=reg.scale, **order), reg.unit)))

    def capture(self, table: str, address: int, values: list, t_s: float) -> None:
        """Take a write request into the device's state (points it covers completely)."""
        for reg in self.spec.registers:
            if reg.table != table:
                continue
            n = register_count(reg.type)
            if not (address <= reg.address and reg.address + n <= address + len(values)):
                continue
            part = values[reg.address - address : reg.address - address + n]
            value = float(bool(part[0])) if reg.type == COIL_TYPE else to_twin_unit(
                decode(list(part), reg.type, scale=reg.scale, byte_order=reg.byte_order,
                       word_order=reg.word_order), reg.unit)
            if reg.point == "watchdog":
                self.watchdog_s = value
            elif reg.point in ("state", "setpoint"):
                self._set(t_s, value)


def blocks(spec: DeviceSpec):
    """pymodbus ``SimData`` blocks (coils, discrete inputs, holding, input registers) for the device's map."""
    from pymodbus.simulator import DataType, SimData

    def block(table: str) -> list:
        regs: list[RegisterSpec] = sorted((r for r in spec.registers if r.table == table), key=lambda r: r.address)
        bits = table in ("coil", "discrete")
        if not regs:  # pymodbus needs every block non-empty: one invalid-free cell far away
            return [SimData(65520 if bits else 65000, count=1, values=False if bits else 0,
                            datatype=DataType.BITS if bits else DataType.REGISTERS)]
        if bits:
            return [SimData(r.address, count=1, values=False, datatype=DataType.BITS) for r in regs]
        return [SimData(r.address, count=register_count(r.type), values=0, datatype=DataType.REGISTERS)
                for r in regs]

    return block("coil"), block("discrete"), block("holding"), block("input")
