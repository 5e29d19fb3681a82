"""Shared fixtures: the demo scenarios shrunk (VPP: a small feeder and one day; certificates: one day and six
consumers), and their runs (once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SMALL = {
    "run.duration_s": 86_400,
    "feeder.network": "kerber_landnetz_kabel_2",
    "population.0.count": 4,
    "population.1.count": 2,
}


@pytest.fixture(scope="session")
def small_scenario():
    return load_scenario(ROOT / "scenarios" / "vpp.toml").with_overrides(SMALL)


@pytest.fixture(scope="session")
def small_run(small_scenario, tmp_path_factory):
    from sim.runner import run_scenario

    return run_scenario(small_scenario, out=tmp_path_factory.mktemp("runs") / "small")


CERTS_SMALL = {  # the certificates scenario on one day, 6 consumers, more dropped readings (estimated intervals)
    "run.duration_s": 86_400,
    **{f"certificates.consumers.{i}.count": n for i, n in enumerate((2, 1, 1, 1, 1))},
    "meters.drop_probability": 0.04,
}


@pytest.fixture(scope="session")
def certs_scenario():
    return load_scenario(ROOT / "scenarios" / "certificates.toml").with_overrides(CERTS_SMALL)


@pytest.fixture(scope="session")
def certs_run(certs_scenario, tmp_path_factory):
    from sim.runner import run_scenario

    return run_scenario(certs_scenario, out=tmp_path_factory.mktemp("runs") / "certs")


SIMBENCH = "simbench:1-LV-rural1--0-sw"  # SimBench's rural LV grid 1: 13 loads, 4 PV plants, one 160 kVA transformer


@pytest.fixture(scope="session")
def simbench_raw():
    """SimBench's rural LV grid 1 as simbench builds it, before the twin normalises it (~20 s of CSV reading)."""
    import warnings

    from grid_models.networks import read_network

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_network(SIMBENCH)
