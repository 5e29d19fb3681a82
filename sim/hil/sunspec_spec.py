"""The device-table pieces of a SunSpec device (``protocol = "sunspec"``): its points named by model and point,
and how the device simulator plays it.

    [[devices]]
    name = "lab-meter"
    kind = "meter"
    protocol = "sunspec"
    port = 5021
    unit_id = 240
    entity = "meter/pv-battery-01"
    sunspec = [{ point = "energy", model = 203, name = "TotWhExp" }, { point = "power", model = 203, name = "W" }]
    simulate = { power_w = 2500.0, energy_wh = 125000.0, sunspec = { models = [1, 203] } }

Addresses, types and scale factors are not written in the table: the bridge finds the base address and the
models by scanning the device with pysunspec2, and reads each point's scale factor with the point.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from sim.hil.sunspec_map import BASE_ADDRESSES, NUMERIC, SF_RANGE, SunSpecMapError, has_model, model_def
from sim.schema import _Frozen

POINT_UNITS = {"energy": "Wh", "power": "W"}
ModelId = Annotated[int, Field(ge=1, le=65534)]


class SunSpecPointSpec(_Frozen):
    """A point of the device: ``point`` (the twin's: energy Wh, power W) is SunSpec model ``model``'s point
    ``name`` (e.g. 203 ``TotWhExp``, 103 ``W``), as pysunspec2's model definition has it. The first instance
    of the model on the device is read."""

    point: Literal["energy", "power"]
    model: ModelId
    name: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_]+$")

    @model_validator(mode="after")
    def _known(self) -> SunSpecPointSpec:
        try:
            p = model_def(self.model).point(self.name)
        except SunSpecMapError as exc:
            raise ValueError(str(exc)) from None
        if p.type not in NUMERIC:
            raise ValueError(f"model {self.model} point {self.name!r} is a {p.type}, not a number")
        if p.units != POINT_UNITS[self.point]:
            raise ValueError(f"point {self.point!r} needs a SunSpec point in {POINT_UNITS[self.point]}, but model "
                             f"{self.model} {self.name!r} is in {p.units!r}")
        return self


class SunSpecSimSpec(_Frozen):
    """How the simulator lays out the device: ``models`` in order after the 'SunS' marker at ``base_address``
    (each built from pysunspec2's definition), ``scale_factors`` by sunssf point name (others 0), static
    ``values`` by point name in engineering units (others 'not implemented', except a few common ones).
    Odd devices, for tolerant scanning: ``unserved`` points answer Modbus exception 2 (illegal data address),
    ``extra_registers`` lengthens a model beyond its definition (model id -> registers), ``vendor_models``
    adds models pysunspec2 has no definition for (id -> length L)."""

    base_address: Literal[BASE_ADDRESSES] = 40000  # type: ignore[valid-type]
    models: list[ModelId] = Field(default_factory=list)  # empty: model 1 and the models the points name
    scale_factors: dict[str, int] = {}
    values: dict[str, float | str] = {}
    unserved: list[str] = []
    extra_registers: dict[ModelId, Annotated[int, Field(ge=1, le=200)]] = {}
    vendor_models: dict[ModelId, Annotated[int, Field(ge=0, le=500)]] = {}

    @field_validator("extra_registers", "vendor_models", mode="before")
    @classmethod
    def _model_keys(cls, value):
        """TOML keys are text: '120' means model 120."""
        if isinstance(value, dict):
            return {int(k) if isinstance(k, str) and k.isdigit() else k: v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _consistent(self) -> SunSpecSimSpec:
        for m in self.models:
            try:
                model_def(m)
            except SunSpecMapError as exc:
                raise ValueError(f"models: {exc}") from None
        for name, sf in self.scale_factors.items():
            if sf not in SF_RANGE:
                raise ValueError(f"scale_factors.{name}: a SunSpec scale factor is -10..10, got {sf}")
        for m in self.extra_registers:
            if m not in self.models:
                raise ValueError(f"extra_registers: model {m} is not among models {self.models}")
        for m in self.vendor_models:
            if has_model(m):
                raise ValueError(f"vendor_models: {m} is a defined SunSpec model; list it in models")
        return self
