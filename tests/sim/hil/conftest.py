"""HIL fixtures: device definitions, a simulator factory that always stops what it started, and a small VPP
scenario (3 prosumers on an 8-household feeder) with devices bound to a running simulator's ports."""

from __future__ import annotations

import datetime as dt

import pytest

from sim.hil.simulator import DeviceSimulator
from sim.hil.table import DeviceSpec, DeviceTable
from sim.scenario import load_scenario
from tests.conftest import ROOT

MEMBER = "pv-battery-01"


def meter(name="meter-a", unit_id=1, **kw) -> dict:
    """A meter replacing MEMBER's virtual meter: energy uint32 Wh, power float32 W (word-swapped)."""
    return {"name": name, "kind": "meter", "port": 0, "unit_id": unit_id, "entity": f"meter/{MEMBER}",
            "poll_s": 1.0, "timeout_s": 0.2, "backoff_max_s": 8.0,
            "registers": [{"point": "energy", "address": 0, "type": "uint32", "unit": "Wh"},
                          {"point": "power", "address": 2, "type": "float32", "unit": "W", "word_order": "little"}],
            "simulate": {"power_w": 3000.0, "amplitude_w": 1000.0, "cycle_s": 1000.0, "energy_wh": 5000.0}, **kw}


def relay(name="relay-a", unit_id=2, **kw) -> dict:
    """A relay (coil) on MEMBER's battery, off when communication is lost, with a watchdog register."""
    return {"name": name, "kind": "relay", "port": 0, "unit_id": unit_id, "entity": f"prosumer/{MEMBER}/battery",
            "poll_s": 1.0, "timeout_s": 0.2, "backoff_max_s": 8.0, "safe_state": False, "watchdog_s": 3.0,
            "registers": [{"point": "state", "address": 0, "table": "coil", "type": "bool"},
                          {"point": "watchdog", "address": 10, "type": "uint16", "unit": "s"}], **kw}


@pytest.fixture
def serve():
    """``serve(devices, time_factor)`` -> a started DeviceSimulator; every one is stopped after the test."""
    started: list[DeviceSimulator] = []

    def _serve(devices: list[dict], time_factor: float = 1.0) -> DeviceSimulator:
        table = DeviceTable.model_validate({"simulator": {"time_factor": time_factor}, "devices": devices})
        sim = DeviceSimulator(table).start()
        started.append(sim)
        return sim

    yield _serve
    for sim in started:
        sim.stop()
    assert not any(sim.running for sim in started)


def bound(sim: DeviceSimulator, device: dict) -> dict:
    """The device as a run sees it: at the port the simulator actually listens on."""
    return {**device, "port": sim.ports[device["name"]]}


def spec(sim: DeviceSimulator, device: dict) -> DeviceSpec:
    return DeviceSpec.model_validate(bound(sim, device))


def hil_scenario(devices: list[dict], *, factor: float, duration_s: int, step_s: int, settlement_s: int,
                 start: str = "2025-06-02T10:00:00", **overrides):
    return load_scenario(ROOT / "scenarios" / "vpp.toml").with_overrides({
        "run.start": dt.datetime.fromisoformat(start), "run.duration_s": duration_s, "run.step_s": step_s,
        "run.settlement_s": settlement_s, "feeder.network": "kerber_landnetz_kabel_1",
        "population.0.count": 2, "population.1.count": 1,
        "realtime": {"factor": factor, "strict": False, "slack_s": 0.25}, "devices": devices, **overrides,
    })
