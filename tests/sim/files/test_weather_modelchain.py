"""A year on a typical-year file: PV per kWp of a site at the file's place equals pvlib's own ``ModelChain``
(PVWatts, our parameters) fed the same file's rows, within 0.5 % over the year and 2 % in every hour above 5 % of
the year's peak; no hour is filtered out otherwise (dawn and dusk hours included). Figures: docs/validation.md.

The reference reads the file with pvlib's reader itself (``read_tmy3``, ``coerce_year``), takes the hour-ending
stamps back to the hour's middle (pvlib's convention: the times the sun is computed at) and runs ``ModelChain``
(Hay-Davies, Faiman, PVWatts DC and inverter, 14 % losses as soiling, no AOI or spectral loss)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
import pytest
from pvlib.location import Location
from pvlib.modelchain import ModelChain
from pvlib.pvsystem import PVSystem

from grid_models.pv import DC_AC_RATIO, GAMMA_PDC_PER_K, SYSTEM_LOSSES
from sim.files.weather import file_weather, pvlib_data_dir
from sim.inputs import run_times
from sim.scenario import load_scenario
from sim.sites.generation import site_series

SCENARIO = Path(__file__).parents[3] / "scenarios" / "year_tmy3.toml"
ORIENTATIONS = [(25.0, 180.0), (35.0, 200.0), (90.0, 90.0)]


def modelchain_kw_per_kwp(tilt: float, azimuth: float) -> pd.Series:
    """pvlib's ModelChain on pvlib's read of the TMY3 file, AC [kW per kWp], indexed by the hour's start (UTC)."""
    data, meta = pvlib.iotools.read_tmy3(pvlib_data_dir() / "723170TYA.CSV", coerce_year=2025, map_variables=True)
    mid = data.index - pd.Timedelta(minutes=30)  # hour-ending stamps: the hour's middle
    weather = pd.DataFrame({k: data[k].to_numpy(dtype=float) for k in ("ghi", "dni", "dhi", "temp_air", "wind_speed")},
                           index=mid)
    loc = Location(meta["latitude"], meta["longitude"], "Etc/GMT+5", meta["altitude"])
    none = dict.fromkeys(("soiling", "shading", "snow", "mismatch", "wiring", "connections", "lid",
                          "nameplate_rating", "age", "availability"), 0.0)
    system = PVSystem(surface_tilt=tilt, surface_azimuth=azimuth,
                      module_parameters={"pdc0": 1000.0, "gamma_pdc": GAMMA_PDC_PER_K},
                      inverter_parameters={"pdc0": 1000.0 / DC_AC_RATIO},
                      temperature_model_parameters={"u0": 25.0, "u1": 6.84},
                      losses_parameters={**none, "soiling": SYSTEM_LOSSES * 100})
    mc = ModelChain(system, loc, dc_model="pvwatts", ac_model="pvwatts", aoi_model="no_loss",
                    spectral_model="no_loss", temperature_model="faiman", losses_model="pvwatts",
                    transposition_model="haydavies")
    mc.run_model(weather)
    ac = mc.results.ac.clip(lower=0).fillna(0.0) / 1000.0
    ac.index = (ac.index - pd.Timedelta(minutes=30)).tz_convert("UTC")
    return ac.sort_index()


def ours_kw_per_kwp(tilt: float, azimuth: float) -> pd.Series:
    """The twin's PV per kWp of a site at the file's place over the shipped year scenario's horizon."""
    s = load_scenario(SCENARIO)
    times = run_times(s.run, s.site)
    weather = file_weather(s.weather, s.site, times, s.run.step_s)
    site = s.certificates.sites[0].model_copy(update={"tilt_deg": tilt, "azimuth_deg": azimuth})
    series = site_series(site, weather, step_s=3600, settlement_s=3600, rng=np.random.default_rng(0))
    return pd.Series(series.potential_kw / site.nameplate_kw, index=times.tz_convert("UTC"))


def compare(tilt: float, azimuth: float) -> dict:
    ours, ref = ours_kw_per_kwp(tilt, azimuth), modelchain_kw_per_kwp(tilt, azimuth)
    ours, ref = ours.align(ref, join="inner")
    assert len(ours) == 8760  # the run starts at midnight EST, as the file's year does: every hour is compared
    hours = ref > 0.05 * ref.max()
    rel = (ours[hours] - ref[hours]) / ref[hours]
    worst = rel.abs().idxmax()
    return {"year_ours_kwh": ours.sum(), "year_ref_kwh": ref.sum(), "year_rel": ours.sum() / ref.sum() - 1,
            "hours": int(hours.sum()), "worst_rel": rel[worst], "worst_hour": worst, "worst_ref_kw": ref[worst]}


@pytest.mark.parametrize(("tilt", "azimuth"), ORIENTATIONS)
def test_year_on_tmy3_equals_modelchain(tilt, azimuth):
    c = compare(tilt, azimuth)
    assert abs(c["year_rel"]) < 0.005, c
    assert abs(c["worst_rel"]) < 0.02, c
