"""End to end on the real chain: scenarios/hil_sunspec.toml with its device table (a model-203 grid meter and a
model-103 inverter) served by the simulator on a free loopback port, the devices slaved to the twin's clock.
What gridledger read at each period boundary and settled on chain equals what pysunspec2's own client reads
from the device at that same device time."""

from __future__ import annotations

import pytest
from sunspec2.modbus import client

from sim.hil.simulator import DeviceSimulator
from sim.hil.table import DeviceTable, load_device_table
from sim.results.summary import event_args, ledger_frame
from sim.scenario import load_scenario
from sim.twin import Twin
from tests.conftest import ROOT

pytestmark = pytest.mark.slow
FACTOR = 100_000.0  # simulated seconds per wall second: as fast as the twin runs (not strict)
# device -> (prosumer, SunSpec model, energy point)
READ = {"sunspec-meter": ("pv-battery-01", 203, "TotWhExp"), "sunspec-inverter": ("pv-only-01", 103, "WH")}


@pytest.fixture(scope="module")
def run():
    table = load_device_table(ROOT / "scenarios" / "hil_sunspec_devices.toml")
    devices = [d.model_dump(mode="python") | {"port": 0, "timeout_s": 1.0} for d in table.devices]
    clock = {"env": None, "frozen_s": None}

    def now_s() -> float:
        if clock["frozen_s"] is not None:
            return clock["frozen_s"]
        return clock["env"].now if clock["env"] is not None else 0.0

    sim = DeviceSimulator(DeviceTable.model_validate({"devices": devices}), clock=now_s).start()
    try:
        bound = [d | {"port": sim.ports[d["name"]]} for d in devices]
        scenario = load_scenario(ROOT / "scenarios" / "hil_sunspec.toml").with_overrides({
            "hil.devices_file": None, "devices": bound,
            "realtime": {"factor": FACTOR, "strict": False, "slack_s": 0.25}})
        twin = Twin(scenario)
        clock["env"] = twin.env
        twin.run()
        theirs = {}  # (device, boundary) -> pysunspec2's value of the energy point at that device time
        for b in range(twin.n_periods + 1):
            clock["frozen_s"] = b * twin.settlement_s
            for name, (_, model, point) in READ.items():
                dev = client.SunSpecModbusClientDeviceTCP(slave_id=sim.devices[name].spec.unit_id,
                                                          ipaddr="127.0.0.1", ipport=sim.ports[name], timeout=1.0)
                dev.scan()
                dev.disconnect()
                theirs[name, b] = getattr(dev.models[model][0], point).cvalue
    finally:
        sim.stop()
    assert not sim.running
    return twin, theirs, ledger_frame(twin.chain.events)


@pytest.mark.parametrize("name", sorted(READ))
def test_settled_energy_is_what_pysunspec2_reads_from_the_device(run, name):
    twin, theirs, ledger = run
    pid = READ[name][0]
    m = twin.hil.meters[name]
    n = twin.n_periods
    assert m.gaps == [] and n == 4
    assert [m.boundary_wh[b] for b in range(n + 1)] == [theirs[name, b] for b in range(n + 1)]
    accepted = event_args(ledger, "VppSettlement", "ReadingAccepted")
    mine = accepted[accepted.member == twin.accounts[pid]].sort_values("period")
    assert set(mine.meter) == {m.address} and set(mine.quality) == {0}
    assert list(mine.energy_wh) == [theirs[name, b + 1] - theirs[name, b] for b in range(n)]
    assert mine.energy_wh.sum() > 0
    report = twin.hil.report()["devices"][name]
    assert report["link"]["sunspec_scans"] == 1 and report["link"]["faults"] == {}
