"""A simulated SunSpec device: its holding registers laid out from pysunspec2's model definitions (``SunS``
marker, models, end marker), its energy and power points driven by the same profile as any simulated meter
(``SimulatedDevice``), encoded with the device's scale factors, and the odd devices a tolerant scan must
survive: a base address other than 40000 (reads at 40000 and 0 answer exception 2), points whose registers
answer exception 2, a model longer than its definition, vendor models pysunspec2 does not know.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.hil.simdevices import SimulatedDevice
from sim.hil.sunspec_map import END_MODEL, SUNS_MARKER, ModelDef, PointDef, encode_raw, model_def, raw_of, scaled
from sim.hil.sunspec_spec import SunSpecSimSpec
from sim.hil.table import DeviceSpec

# values a simulated device holds unless the table says otherwise (engineering units)
COMMON_VALUES: dict[str, float | str] = {"Mn": "gridledger", "Vr": "1.0", "Hz": 50.0, "PhV": 230.0,
                                         "PhVphA": 230.0, "PhVphB": 230.0, "PhVphC": 230.0}


@dataclass(frozen=True)
class Placed:
    """A point of a model on the device: absolute ``address``; ``model`` is its model's definition."""

    model: ModelDef
    point: PointDef
    address: int


def sim_spec(spec: DeviceSpec) -> SunSpecSimSpec:
    """The table's ``simulate.sunspec``, its models defaulting to model 1 and the models the points name."""
    sim = spec.simulate.sunspec or SunSpecSimSpec()
    if sim.models:
        return sim
    return sim.model_copy(update={"models": [1, *sorted({p.model for p in spec.sunspec} - {1})]})


class SunSpecImage:
    """The register image of one device: static words, and where each point of each model lies."""

    def __init__(self, spec: DeviceSpec):
        self.spec, self.sim = spec, sim_spec(spec)
        values = {**COMMON_VALUES, "Md": f"sim-{'-'.join(map(str, self.sim.models))}", "SN": spec.name,
                  **self.sim.values}
        self.base = self.sim.base_address
        words = list(SUNS_MARKER)
        self.placed: dict[tuple[int, str], Placed] = {}
        self.models: list[tuple[int, int, int]] = []  # (model id, address of ID, L)
        for mid in self.sim.models:
            mdef = model_def(mid)
            start = self.base + len(words)
            extra = self.sim.extra_registers.get(mid, 0)
            self.models.append((mid, start, mdef.length + extra))
            for p in mdef.points:
                self.placed.setdefault((mid, p.name), Placed(mdef, p, start + p.offset))
                if p.name == "ID":
                    raw = mid
                elif p.name == "L":
                    raw = mdef.length + extra
                elif p.type == "sunssf":
                    raw = self.sim.scale_factors.get(p.name, 0)
                elif p.name in values:
                    raw = self._raw(mdef, p, values[p.name])
                else:
                    raw = None
                words += encode_raw(p, raw)
            words += [0] * extra
        for mid, length in self.sim.vendor_models.items():
            self.models.append((mid, self.base + len(words), length))
            words += [mid, length] + [0] * length
        words += list(END_MODEL)
        self.words = words
        self.dynamic = [(p.point, self.placed[(p.model, p.name)]) for p in spec.sunspec
                        if (p.model, p.name) in self.placed]
        unserved = set(self.sim.unserved)
        self.unserved = sorted(a for pl in self.placed.values() if pl.point.name in unserved
                               for a in range(pl.address, pl.address + pl.point.size))

    def sf(self, model: ModelDef, p: PointDef) -> int:
        if isinstance(p.sf, int):
            return p.sf
        return self.sim.scale_factors.get(p.sf, 0) if p.sf else 0

    def _raw(self, model: ModelDef, p: PointDef, value: float | str):
        if p.type == "string":
            return str(value)
        return raw_of(float(value), self.sf(model, p), floor=p.type.startswith("acc"))

    def served_ranges(self) -> list[tuple[int, int]]:
        """(first address, count) of every run of served registers: everything but the unserved points."""
        out, start = [], self.base
        for a in [*self.unserved, self.base + len(self.words)]:
            if a > start:
                out.append((start, a - start))
            start = max(start, a + 1)
        return out


class SunSpecDevice(SimulatedDevice):
    """A meter on SunSpec registers; time ``t_s`` in device seconds."""

    def __init__(self, spec: DeviceSpec):
        super().__init__(spec)
        self.image = SunSpecImage(spec)

    def blocks(self):
        from pymodbus.simulator import DataType, SimData

        holding = [SimData(a, count=n, values=0, datatype=DataType.REGISTERS) for a, n in self.image.served_ranges()]
        bits = [SimData(65520, count=1, values=False, datatype=DataType.BITS)]
        return bits, list(bits), holding, [SimData(65000, count=1, values=0, datatype=DataType.REGISTERS)]

    def words_at(self, t_s: float) -> list[int]:
        """The whole image at device time ``t_s``."""
        words = list(self.image.words)
        for point, pl in self.image.dynamic:
            value = self.point_value(point, t_s)
            raw = raw_of(value, self.image.sf(pl.model, pl.point), floor=point == "energy")
            i = pl.address - self.image.base
            words[i : i + pl.point.size] = encode_raw(pl.point, raw)
            if point == "energy":
                self.served_energy_wh.append((t_s, scaled(raw, self.image.sf(pl.model, pl.point))))
        return words

    def refresh(self, table: str, start: int, registers: list[int], t_s: float) -> None:
        if table != "holding":
            return
        words, base = self.words_at(t_s), self.image.base
        lo, hi = max(start, base), min(start + len(registers), base + len(words))
        registers[lo - start : hi - start] = words[lo - base : hi - base]

    def capture(self, table: str, address: int, values: list, t_s: float) -> None:
        """A SunSpec meter here is read only: writes are not taken."""
