"""Generation sites (PV, wind) shared by the certificates and insurance schemas."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from sim.schema import Pos, _Frozen
from sim.sections import equator_facing_azimuth_deg

MAX_NAMEPLATE_KW = 10**7  # 10 GW: a day's meter range stays inside Certificates' and MutualInsurance's bounds


class GeneratorSite(_Frozen):
    """A production device that is issued certificates, with its location and meter.

    ``nameplate_kw``: for PV the modules' peak power (kWp, DC; inverter at kWp / 1.1); for wind the turbines'
    rated power in total, a whole multiple of the turbine type's rating. Forced outages: mean time between
    failures ``mtbf_h`` and to repair ``mttr_h``. ``azimuth_deg`` (PV, from north, clockwise): default, the modules
    face the equator: 180 (south) north of it, 0 (north) south of it.
    """

    name: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")
    technology: Literal["pv", "wind"]
    lat: Annotated[float, Field(ge=-90, le=90)]
    lon: Annotated[float, Field(ge=-180, le=180)]
    altitude_m: Annotated[float, Field(ge=-500, le=9000)] = 0.0
    nameplate_kw: Annotated[float, Field(ge=0.001, le=MAX_NAMEPLATE_KW)]  # the contracts register whole watts
    tilt_deg: Annotated[float, Field(ge=0, le=90)] = 30.0
    azimuth_deg: Annotated[float, Field(ge=0, lt=360)] | None = None  # None: facing the equator
    turbine_type: str | None = None
    hub_height_m: Annotated[float, Field(gt=10, le=250)] | None = None
    roughness_length_m: Annotated[float, Field(gt=0, lt=10)] = 0.15
    wind_profile: Literal["logarithmic", "hellman"] = "logarithmic"
    mtbf_h: Pos = 1000.0
    mttr_h: Pos = 12.0

    @model_validator(mode="after")
    def _technology_fields(self) -> GeneratorSite:
        if self.technology == "pv":
            if self.turbine_type is not None or self.hub_height_m is not None:
                raise ValueError("turbine_type and hub_height_m are for technology = 'wind' only")
            return self
        if self.turbine_type is None or self.hub_height_m is None:
            raise ValueError("technology = 'wind' needs turbine_type and hub_height_m")
        from grid_models.wind import turbine_curve

        rated_kw = turbine_curve(self.turbine_type).rated_kw
        n = self.nameplate_kw / rated_kw
        if abs(n - round(n)) > 1e-9 or round(n) < 1:
            raise ValueError(f"nameplate_kw must be a whole multiple of the {self.turbine_type} rating "
                             f"({rated_kw:g} kW), got {self.nameplate_kw:g}")
        return self

    @property
    def pv_azimuth_deg(self) -> float:
        """The modules' azimuth [deg from north]: the given one, or facing the equator from the site's latitude."""
        return equator_facing_azimuth_deg(self.lat) if self.azimuth_deg is None else self.azimuth_deg

    @property
    def n_turbines(self) -> int:
        from grid_models.wind import turbine_curve

        return round(self.nameplate_kw / turbine_curve(self.turbine_type).rated_kw) if self.turbine_type else 0
