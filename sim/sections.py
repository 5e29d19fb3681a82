"""The kernel's scenario sections: run, site, weather, feeder, population, meters, chain, realtime, HIL.

Units are in the field names (see README, "Units"). Sim time is seconds from ``run.start``. ``sim.scenario``
composes these with every registered capability's sections.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from grid_models.network_source import SIMBENCH_PREFIX
from sim.files.provenance import resolve_file
from sim.schema import NonNeg, Pos, _Frozen

FEEDER_HOUSEHOLDS = {"kerber_landnetz_kabel_1": 8, "kerber_landnetz_kabel_2": 14, "kerber_dorfnetz": 57,
                     "kerber_vorstadtnetz_kabel_1": 146, "kerber_vorstadtnetz_district_7": 1022}
FEEDERS = tuple(FEEDER_HOUSEHOLDS)
TRANSFORMERS = ("0.1 MVA 10/0.4 kV", "0.16 MVA 10/0.4 kV", "0.25 MVA 10/0.4 kV", "0.4 MVA 10/0.4 kV",
                "0.63 MVA 10/0.4 kV")  # pandapower standard types that fit the Kerber feeders' 10 kV side
# (on a district, every substation's transformer is replaced)


MAX_DURATION_S = 10 * 366 * 86_400  # ten years
# a prosumer's PV and battery power [kW] and load [kWh/a]: far above a household's, inside what its meter may register
# (VppSettlement: a range of at most 2**48 Wh per period) and what the shares of the others can be divided from
MAX_PROSUMER_KW, MAX_PROSUMER_KWH = 100_000.0, 10**8
START_MIN, START_MAX = dt.datetime(1971, 1, 1), dt.datetime(2099, 12, 31)


def local_start_problem(start: dt.datetime, tz: str) -> str | None:
    """Why a naive local ``start`` does not name one instant in ``tz`` (a DST gap or an ambiguous hour), or None."""
    if start.tzinfo is not None:
        return None
    zone = zoneinfo.ZoneInfo(tz)
    early, late = start.replace(tzinfo=zone, fold=0), start.replace(tzinfo=zone, fold=1)
    if early.utcoffset() == late.utcoffset():
        return None
    back = early.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None)
    what = "does not exist (the clocks jump over it)" if back != start else "happens twice (the clocks go back)"
    return (f"{start.isoformat()} {what} in {tz}: give the start with its UTC offset, e.g. "
            f"{early.isoformat()} or {late.isoformat()}")


class RunSpec(_Frozen):
    """Horizon and clock. ``start`` is local wall time at the site (naive) or an aware datetime."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    start: dt.datetime
    duration_s: Annotated[int, Field(gt=0, le=MAX_DURATION_S)]
    step_s: Annotated[int, Field(gt=0, le=86_400)] = 900
    settlement_s: Annotated[int, Field(gt=0, le=86_400)] = 3600
    seed: Annotated[int, Field(ge=0, lt=2**64)] = 0  # meter keys and SeedSequence take 64-bit seeds

    @field_validator("start")
    @classmethod
    def _start_in_range(cls, v: dt.datetime) -> dt.datetime:
        if not START_MIN <= v.replace(tzinfo=None) <= START_MAX:
            raise ValueError(f"a start between {START_MIN:%Y-%m-%d} and {START_MAX:%Y-%m-%d} (the chain's clock "
                             f"starts a day before it, after 1970), got {v.isoformat()}")
        return v

    @model_validator(mode="after")
    def _periods_fit(self) -> RunSpec:
        if self.settlement_s % self.step_s:
            raise ValueError(f"settlement_s ({self.settlement_s}) must be a whole multiple of step_s ({self.step_s})")
        if self.duration_s % self.settlement_s:
            raise ValueError(
                f"duration_s ({self.duration_s}) must be a whole multiple of settlement_s ({self.settlement_s})"
            )
        return self


def equator_facing_azimuth_deg(lat: float) -> float:
    """Azimuth [deg from north] of modules facing the equator from ``lat`` [deg]: 180 (south) for lat >= 0, else 0."""
    return 180.0 if lat >= 0 else 0.0


class SiteSpec(_Frozen):
    lat: Annotated[float, Field(ge=-90, le=90)]
    lon: Annotated[float, Field(ge=-180, le=180)]
    tz: str
    altitude_m: Annotated[float, Field(ge=-500, le=9000)] = 0.0

    @field_validator("tz")
    @classmethod
    def _known_tz(cls, v: str) -> str:
        try:
            zoneinfo.ZoneInfo(v)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: a folder, a name too long
            raise ValueError(f"an IANA time zone such as 'Europe/Berlin', got {v!r}") from exc
        return v


class WeatherSpec(_Frozen):
    """Synthetic weather (``model = "clearsky_ar1"``): pvlib clear sky times a seeded AR(1) clear-sky index (see
    grid_models.weather), or weather from a file (``file``; ``model`` is then ``"file"``).

    Air temperature: an annual cycle of daily means (``grid_models.climate``) plus a daily swing and noise.
    Either the harmonic ``mean_temp_c - annual_temp_amplitude_c cos(2 pi (day - coldest_day_of_year) / 365)``
    (``mean_temp_c`` is the *annual* mean; defaults: Germany 1991-2020, 9.3 degC and 8.8 K, coldest on 15 January
    north of the equator and 15 July south of it), or ``monthly_mean_temp_c``: twelve monthly means, January
    first (a site's climate normals), and none of the harmonic's three fields.

    ``file``: an EPW, TMY3 or PVGIS TMY file, or a CSV/Parquet file of the layout in docs/your_data.md (relative
    to the scenario file; a path given as an override is relative to the working directory; ``"pvlib:<name>"``
    names a file of pvlib's bundled data, e.g. ``"pvlib:723170TYA.CSV"``); kept as an absolute path. ``format``:
    ``epw``, ``tmy3``, ``pvgis_tmy`` or ``csv``, default from the suffix and first line. ``coerce_year``: a
    typical year's rows all take this year, then repeat onto every year of the run (29 February: see
    docs/your_data.md). ``stamp``: a CSV's ``time`` is its interval's ``start`` or ``end``. The synthetic fields
    are refused with a file (at their defaults they are ignored). The file is read and checked when the scenario
    is: a file that cannot serve the run is refused here, naming file, line or column."""

    model: Literal["clearsky_ar1", "file"] = "clearsky_ar1"
    mean_clear_sky_index: Annotated[float, Field(gt=0, le=1)] = 0.7
    cloud_persistence_h: Annotated[float, Field(gt=0)] = 6.0
    mean_temp_c: float | None = Field(None, ge=-40, le=45)  # None: 9.3 (or the monthly means')
    annual_temp_amplitude_c: float | None = Field(None, ge=0, le=35)  # None: 8.8
    coldest_day_of_year: int | None = Field(None, ge=1, le=365)  # None: 15 (lat >= 0), 196 (lat < 0)
    monthly_mean_temp_c: list[Annotated[float, Field(ge=-60, le=50)]] | None = Field(None, min_length=12,
                                                                                      max_length=12)
    daily_temp_swing_c: NonNeg = 8.0
    mean_wind_speed_m_per_s: NonNeg = 4.0
    file: str | None = None
    format: Literal["epw", "tmy3", "pvgis_tmy", "csv"] | None = None
    coerce_year: int | None = Field(None, ge=1900, le=2100)
    stamp: Literal["start", "end"] = "start"

    @model_validator(mode="before")
    @classmethod
    def _file_model(cls, data):
        if isinstance(data, dict) and data.get("file") is not None and "model" not in data:
            data = {**data, "model": "file"}
        return data

    @field_validator("file")
    @classmethod
    def _file_path(cls, v: str | None, info: ValidationInfo) -> str | None:
        return v if v is None or v.startswith("pvlib:") else resolve_file(v, info)

    @model_validator(mode="after")
    def _one_annual_cycle(self) -> WeatherSpec:
        harmonic = [k for k in HARMONIC_FIELDS if getattr(self, k) is not None]
        if self.monthly_mean_temp_c is not None and harmonic:
            raise ValueError(f"give either monthly_mean_temp_c or {', '.join(harmonic)} (the harmonic), not both")
        if self.file is None:
            file_only = [k for k in FILE_FIELDS if getattr(self, k) != WeatherSpec.model_fields[k].default]
            if self.model == "file" or file_only:
                what = ", ".join(file_only) or "model = 'file'"
                raise ValueError(f"{what} needs a weather file: give file")
            return self
        if self.model != "file":
            raise ValueError(f"model {self.model!r} is synthetic weather; with a file, model is 'file' (or leave it "
                             "out)")
        synthetic = [k for k in SYNTHETIC_FIELDS if getattr(self, k) != WeatherSpec.model_fields[k].default]
        if synthetic:
            raise ValueError(f"{', '.join(synthetic)}: synthetic weather's; the weather comes from the file "
                             f"{self.file!r}, leave them out")
        from sim.files.weather import infer_format, weather_path
        from sim.schema import ScenarioError

        try:
            if self.format is None:
                object.__setattr__(self, "format", infer_format(weather_path(self.file)))
        except ScenarioError as exc:
            raise ValueError(f"file: {exc}") from None
        return self

    def annual_cycle(self, lat: float) -> dict:
        """Keyword arguments of ``grid_models.climate.annual_cycle_temp_c`` for a site at ``lat`` [deg]: the
        defaults filled in."""
        from grid_models.climate import DEFAULT_ANNUAL_TEMP_AMPLITUDE_C, DEFAULT_MEAN_TEMP_C, coldest_day

        def given(value, default):
            return default if value is None else value

        return dict(mean_temp_c=given(self.mean_temp_c, DEFAULT_MEAN_TEMP_C),
                    annual_temp_amplitude_c=given(self.annual_temp_amplitude_c, DEFAULT_ANNUAL_TEMP_AMPLITUDE_C),
                    coldest_day_of_year=given(self.coldest_day_of_year, coldest_day(lat)),
                    monthly_mean_temp_c=self.monthly_mean_temp_c)

    def normals(self, site: SiteSpec) -> dict:
        """The site's climate as what is forecast from climate alone sees it (the VPP's day-ahead forecast, the heat
        demand's reference year): ``annual_cycle`` (``annual_cycle``'s arguments), ``daily_temp_swing_c`` [K],
        ``mean_wind_speed_m_per_s``, ``mean_clear_sky_index`` [1] — this section's, or a weather file's own
        (``sim.files.weather.normals``)."""
        if self.file is not None:
            from sim.files.weather import normals

            return normals(self, site)
        return dict(annual_cycle=self.annual_cycle(site.lat), daily_temp_swing_c=self.daily_temp_swing_c,
                    mean_wind_speed_m_per_s=self.mean_wind_speed_m_per_s,
                    mean_clear_sky_index=self.mean_clear_sky_index)


HARMONIC_FIELDS = ("mean_temp_c", "annual_temp_amplitude_c", "coldest_day_of_year")
SYNTHETIC_FIELDS = ("mean_clear_sky_index", "cloud_persistence_h", *HARMONIC_FIELDS, "monthly_mean_temp_c",
                    "daily_temp_swing_c", "mean_wind_speed_m_per_s")
FILE_FIELDS = ("format", "coerce_year", "stamp")


class FeederSpec(_Frozen):
    """``network``: a Kerber feeder (``kerber_landnetz_kabel_1``, ``kerber_landnetz_kabel_2``, ``kerber_dorfnetz``,
    ``kerber_vorstadtnetz_kabel_1``, ``kerber_vorstadtnetz_district_7``), a SimBench grid ``"simbench:<code>"`` (e.g.
    ``"simbench:1-LV-rural1--0-sw"``, read offline from the simbench package) or a pandapower net saved with
    ``pandapower.to_json``, ``"<file>.json"`` (relative to the scenario file; a path given as an override is relative
    to the working directory); the scenario keeps it as an absolute path. A network that cannot be used is refused
    here, with the reason (see docs/your_grid.md).
    ``transformer`` replaces the feeder's own transformer by a pandapower standard type (e.g. an older
    0.16 MVA unit in place of the Dorfnetz's 0.4 MVA); default: the network's own.
    ``loads``: ``"bdew"``, every household a BDEW H0 profile with an individual seeded variation (non-members
    3500 kWh/a, prosumers their group's ``annual_load_kwh``), or ``"network"``, every household its load's own
    profile from the network (SimBench's annual 15-minute profiles; prosumers then give no ``annual_load_kwh``).
    ``prosumer_loads``: the names of the loads the prosumers sit on, one per prosumer in the order of
    ``[[population]]``; default: spread evenly over the network's load table."""

    network: str
    solver: Literal["lightsim2grid", "runpp-lightsim2grid", "pandapower"] = "lightsim2grid"
    transformer: Literal[TRANSFORMERS] | None = None  # type: ignore[valid-type]
    loads: Literal["bdew", "network"] = "bdew"
    prosumer_loads: list[str] | None = None

    @field_validator("network")
    @classmethod
    def _known_network(cls, v: str, info: ValidationInfo) -> str:
        if v in FEEDERS:
            return v
        if v.startswith(SIMBENCH_PREFIX) and len(v) > len(SIMBENCH_PREFIX):
            return v
        if v.lower().endswith(".json"):
            return resolve_file(v, info)
        raise ValueError(f"one of the Kerber feeders {', '.join(FEEDERS)}; 'simbench:<code>' (e.g. "
                         f"'simbench:1-LV-rural1--0-sw'); or a pandapower JSON file '<name>.json', got {v!r}")

    @model_validator(mode="after")
    def _network_usable(self) -> FeederSpec:
        if self.network in FEEDERS and self.loads == "network":
            raise ValueError("loads: 'network' takes the load profiles a network carries (SimBench's); the Kerber "
                             "feeders carry none (use loads = 'bdew')")
        if self.network in FEEDERS and self.prosumer_loads is None:
            return self  # known, and every transformer of TRANSFORMERS fits
        from grid_models.feeder import NetworkError, build_network, network_data, transformer_problem
        from grid_models.networks import prosumer_positions

        try:
            if self.network in FEEDERS:
                net = build_network(self.network)
            else:
                data = network_data(self.network)
                if data.problems:
                    raise ValueError(f"network {self.network!r}: " + "; ".join(data.problems))
                if self.solver == "lightsim2grid" and data.direct_problem:
                    raise ValueError(f"solver: network {self.network!r}: {data.direct_problem}; solver "
                                     "'runpp-lightsim2grid' or 'pandapower' can")
                if self.loads == "network" and data.profiles is None:
                    raise ValueError(f"loads: 'network': network {self.network!r}: {data.profiles_problem}")
                net = data.net
        except NetworkError as exc:
            raise ValueError(f"network: {exc}") from None
        if self.transformer is not None and (problem := transformer_problem(net, self.transformer)):
            raise ValueError(f"transformer: {problem}")
        if self.prosumer_loads is not None:
            try:  # the names; their count is checked against the population by the scenario
                prosumer_positions(net, len(self.prosumer_loads), self.prosumer_loads)
            except NetworkError as exc:
                raise ValueError(f"prosumer_loads: {exc}") from None
        return self

    def households(self) -> int:
        """How many households (in-service loads) the network has."""
        if self.network in FEEDER_HOUSEHOLDS:
            return FEEDER_HOUSEHOLDS[self.network]
        from grid_models.feeder import network_data

        return network_data(self.network).households


class PopulationGroup(_Frozen):
    """``count`` identical prosumers named ``{name}-01`` … with PV, battery and a household load.
    ``annual_load_kwh`` is required with ``[feeder] loads = "bdew"`` and left out with ``loads = "network"`` (each
    prosumer's demand is then its load's own profile). ``pv_azimuth_deg`` (from north, clockwise): default, the
    modules face the equator: 180 (south) at a site north of it, 0 (north) south of it.
    ``load_file``: the members' measured household load, a CSV or Parquet file (relative to the scenario file; see
    docs/your_data.md): a column ``{id}_p_kw`` (kW) or ``{id}_energy_kwh`` (kWh per interval) per
    member, or one ``p_kw`` / ``energy_kwh`` for all; ``load_scale``: ``"measured"`` (as given; then
    ``annual_load_kwh`` may be left out) or ``"annual"`` (each series scaled to ``annual_load_kwh`` per 8760 h).
    ``pv_file``: the members' measured PV output (AC) likewise, replacing pvlib's; ``pv_scale``: ``"measured"``
    (kW, at most ``pv_kwp``) or ``"per_kwp"`` (kW per kWp, times ``pv_kwp``)."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_-]+$")
    count: Annotated[int, Field(gt=0, le=1000)]
    pv_kwp: Annotated[float, Field(ge=0, le=MAX_PROSUMER_KW)]
    annual_load_kwh: Annotated[float, Field(gt=0, le=MAX_PROSUMER_KWH)] | None = None
    battery_kwh: Annotated[float, Field(ge=0, le=MAX_PROSUMER_KWH)] = 0.0
    battery_kw: Annotated[float, Field(ge=0, le=MAX_PROSUMER_KW)] = 0.0
    pv_tilt_deg: Annotated[float, Field(ge=0, le=90)] = 30.0
    pv_azimuth_deg: Annotated[float, Field(ge=0, lt=360)] | None = None  # None: facing the equator
    load_file: str | None = None
    load_scale: Literal["measured", "annual"] = "measured"
    pv_file: str | None = None
    pv_scale: Literal["measured", "per_kwp"] = "measured"

    _files = field_validator("load_file", "pv_file")(resolve_file)

    def pv_azimuth_at(self, lat: float) -> float:
        """The modules' azimuth [deg from north] at a site at ``lat`` [deg]: the given one, or facing the equator."""
        return equator_facing_azimuth_deg(lat) if self.pv_azimuth_deg is None else self.pv_azimuth_deg

    @model_validator(mode="after")
    def _battery_power(self) -> PopulationGroup:
        if self.battery_kwh > 0 and self.battery_kw <= 0:
            raise ValueError("battery_kw must be > 0 when battery_kwh > 0")
        for file, scale in (("load_file", "load_scale"), ("pv_file", "pv_scale")):
            if getattr(self, scale) != "measured" and getattr(self, file) is None:  # (a dump carries "measured")
                raise ValueError(f"{scale} is how {file}'s values are used; give {file} or leave {scale} out")
        if self.load_scale == "annual" and self.annual_load_kwh is None:
            raise ValueError("load_scale 'annual' scales the load file to annual_load_kwh; give annual_load_kwh")
        if self.pv_file is not None and self.pv_kwp <= 0:
            raise ValueError("pv_file: a group with a PV file has PV: give its pv_kwp (> 0)")
        return self


class MeterSpec(_Frozen):
    """Fault injection for virtual meters (probabilities per reading), to exercise VEE."""

    drop_probability: Annotated[float, Field(ge=0, le=1)] = 0.0
    spike_probability: Annotated[float, Field(ge=0, le=1)] = 0.0


class ChainSpec(_Frozen):
    """``py-evm`` (eth-tester; the reference, real blocks and signed transactions) or ``revm`` (fast);
    ``web3`` (web3 calls over eth-tester, a block per transaction) is the slow, straightforward path that
    ``benchmarks/year_vpp.py`` compares against."""

    backend: Literal["py-evm", "revm", "web3"] = "py-evm"


class RealtimeSpec(_Frozen):
    """Pace the run on the wall clock (``simpy.rt.RealtimeEnvironment``), as hardware in the loop needs.

    ``factor``: simulated seconds per wall-clock second (1 = real time, 60 = a simulated minute per second).
    An event processed more than ``slack_s`` wall seconds after it was due is a missed deadline: counted and
    reported in the summary, and with ``strict = true`` the run stops with an error.
    """

    factor: Pos = 1.0
    strict: bool = False
    slack_s: NonNeg = 0.25


class HilSpec(_Frozen):
    """``devices_file``: a device table (relative to the scenario file) read into ``[[devices]]``;
    ``allow_remote_hosts``: let the bridge connect to devices on other machines (default: 127.0.0.1 only);
    ``require_devices``: a device that never answered in the whole run fails it, naming the device (exit code 5;
    the results folder stays incomplete); false: the run ends, and the summary and the closing line say how many
    periods were estimated because a device was silent."""

    devices_file: str | None = None
    allow_remote_hosts: bool = False
    require_devices: bool = True
