"""SunSpec devices: the simulator's register maps, laid out from pysunspec2's model definitions, are read by
pysunspec2's own client (``SunSpecModbusClientDeviceTCP.scan``) exactly as gridledger reads them; scale
factors, acc32 and 'not implemented' values are decoded as pysunspec2 decodes them; a scan of an odd device
(base address 50000 behind exception-2 gaps, a refused point inside a model, a model longer than its
definition, a vendor model, several unit ids, units that are absent or not SunSpec) reports each oddity and
goes on. The reference throughout is pysunspec2 1.3 (the SunSpec Alliance's client), not our codec."""

from __future__ import annotations

import math

import pytest
from sunspec2 import mb
from sunspec2.modbus import client, modbus

from sim.cli import main
from sim.hil.link import LinkError
from sim.hil.sunspec_link import SunSpecLink
from sim.hil.sunspec_map import CODEC_TYPE, NOT_IMPLEMENTED, PointDef, decode_raw, encode_raw, model_def
from sim.hil.sunspec_scan import describe, scan
from sim.hil.table import DeviceSpec, DeviceTable, check_run_devices, load_device_table, validate_device_table
from sim.schema import ScenarioError
from tests.sim.hil.conftest import bound

ENERGY_203 = {"point": "energy", "model": 203, "name": "TotWhExp"}
POWER_203 = {"point": "power", "model": 203, "name": "W"}


def sunspec_meter(name="ss-meter", unit_id=240, sim=None, points=(ENERGY_203, POWER_203), **kw) -> dict:
    """A model-203 meter: TotWhExp counts 10 Wh (TotWh_SF = 1), W in 0.1 W (W_SF = -1)."""
    sim = sim or {"models": [1, 203], "scale_factors": {"TotWh_SF": 1, "W_SF": -1}}
    return {"name": name, "kind": "meter", "protocol": "sunspec", "port": 0, "unit_id": unit_id,
            "entity": f"meter/{name}", "poll_s": 1.0, "timeout_s": 0.5, "sunspec": list(points),
            "simulate": {"power_w": 2500.0, "amplitude_w": 700.0, "cycle_s": 1000.0, "energy_wh": 123456.0,
                         "sunspec": sim}, **kw}


def sunspec_inverter(name="ss-inverter", unit_id=1, **sim) -> dict:
    """A model-103 inverter with nameplate 120: WH in Wh (WH_SF = 0), W in 10 W (W_SF = 1)."""
    return sunspec_meter(name, unit_id, {"models": [1, 103, 120], "scale_factors": {"W_SF": 1},
                                         "values": {"WRtg": 5000}, **sim},
                         points=({"point": "energy", "model": 103, "name": "WH"},
                                 {"point": "power", "model": 103, "name": "W"}))


@pytest.fixture
def frozen():
    """A device clock the test sets: {"t": device seconds}."""
    return {"t": 0.0}


def _serve(devices, frozen):
    from sim.hil.simulator import DeviceSimulator

    return DeviceSimulator(DeviceTable.model_validate({"devices": devices}), clock=lambda: frozen["t"]).start()


def _pysunspec2(sim, name, unit_id, **scan):
    dev = client.SunSpecModbusClientDeviceTCP(slave_id=unit_id, ipaddr="127.0.0.1", ipport=sim.ports[name],
                                              timeout=1.0)
    dev.scan(**scan)
    dev.disconnect()
    return dev


# the map and the codec against pysunspec2 --------------------------------------------------------------------
@pytest.mark.parametrize("model_id", [1, 101, 103, 120, 201, 203])
def test_layout_is_pysunspec2s_own(model_id):
    """Offsets, sizes and the model length L are those of pysunspec2's model object for the same id."""
    from sunspec2 import device

    ours = model_def(model_id)
    theirs = device.Model(model_id=model_id)
    assert [(p.name, p.offset, p.size) for p in ours.points] == [
        (n, p.offset, p.len) for n, p in theirs.points.items()]
    assert ours.length == theirs.len - 2


@pytest.mark.parametrize("type_", sorted(NOT_IMPLEMENTED) + ["float32"])
def test_not_implemented_and_word_order_as_pysunspec2_decodes_them(type_):
    size = 1 if CODEC_TYPE[type_] in ("int16", "uint16") else 4 if "64" in type_ else 2
    p = PointDef("X", 0, size, type_, None, None, False)
    info = mb.point_type_info[type_]
    data = b"".join(w.to_bytes(2, "big") for w in encode_raw(p, None))
    assert not info.is_impl(info.data_to(data))  # pysunspec2 reads our 'not implemented' as not implemented
    assert decode_raw(p, encode_raw(p, None)) is None
    value = 1.5 if type_ == "float32" else 0x7FFE if size == 1 else 0x12345678  # both words differ: word order
    words = encode_raw(p, value)
    assert info.data_to(b"".join(w.to_bytes(2, "big") for w in words)) == value == decode_raw(p, words)


# the simulator read by pysunspec2 and by gridledger ----------------------------------------------------------
def test_pysunspec2_finds_the_simulated_models_and_reads_what_gridledger_reads(frozen):
    devices = [sunspec_meter(), sunspec_inverter()]
    sim = _serve(devices, frozen)
    try:
        links = {d["name"]: SunSpecLink(DeviceSpec.model_validate(bound(sim, d))) for d in devices}
        meter, inverter = sim.devices["ss-meter"], sim.devices["ss-inverter"]
        for t in (0.0, 137.0, 250.0, 777.7):
            frozen["t"] = t
            m = _pysunspec2(sim, "ss-meter", 240)
            assert [x.model_id for x in m.model_list] == [1, 203] and m.base_addr == 40000
            m1, m203 = m.models[1][0], m.models[203][0]
            assert (m1.Mn.value, m1.SN.value, m203.Hz.cvalue) == ("gridledger", "ss-meter", 50)
            assert m203.TotWh_SF.value == 1 and m203.W_SF.value == -1  # the scale-factor trap: 10 Wh, 0.1 W
            assert m203.TotWhExp.cvalue == 10 * m203.TotWhExp.value == math.floor(meter.energy_wh(t) / 10) * 10
            assert m203.W.cvalue == pytest.approx(meter.power_w(t), abs=0.05)
            spec = links["ss-meter"].spec
            assert links["ss-meter"].read(t, spec.register("energy")) == m203.TotWhExp.cvalue
            assert links["ss-meter"].read(t, spec.register("power")) == m203.W.cvalue
            inv = _pysunspec2(sim, "ss-inverter", 1)
            assert [x.model_id for x in inv.model_list] == [1, 103, 120]
            m103 = inv.models[103][0]
            assert inv.models[120][0].WRtg.cvalue == 5000 and m103.W_SF.value == 1
            assert m103.WH.cvalue == math.floor(inverter.energy_wh(t))
            spec = links["ss-inverter"].spec
            assert links["ss-inverter"].read(t, spec.register("energy")) == m103.WH.cvalue
            assert links["ss-inverter"].read(t, spec.register("power")) == m103.W.cvalue == 10 * round(
                inverter.power_w(t) / 10)
        assert all(link.scans == 1 for link in links.values())  # the map is found once, then read directly
        assert {host for host, _ in sim.listening()} == {"127.0.0.1"}
    finally:
        for link in links.values():
            link.close()
        sim.stop()


def test_an_accumulator_at_zero_is_not_implemented_not_zero_energy(frozen):
    """acc32 0 means 'not implemented' (SunSpec; pysunspec2 reads None): the poll fails, it is no 0 Wh reading."""
    d = sunspec_meter(simulate={"energy_wh": 0.0, "sunspec": {"models": [1, 203]}})
    sim = _serve([d], frozen)
    link = SunSpecLink(DeviceSpec.model_validate(bound(sim, d)))
    try:
        frozen["t"] = 1.0  # 0 W, nothing counted yet
        assert _pysunspec2(sim, "ss-meter", 240).models[203][0].TotWhExp.value is None
        with pytest.raises(LinkError, match="not_implemented: model point 203/TotWhExp .* 'not implemented'"):
            link.read(1.0, link.spec.register("energy"))
        assert link.faults["not_implemented"] == 1 and not link.down  # the device answered: no backoff
    finally:
        link.close()
        sim.stop()


# an odd device -----------------------------------------------------------------------------------------------
def test_a_scan_of_an_odd_device_reports_each_oddity_and_goes_on(frozen):
    odd = sunspec_inverter(base_address=50000, unserved=["PhVphB"], extra_registers={120: 3},
                           vendor_models={64900: 7})
    plain = {"name": "plain", "kind": "meter", "port": 0, "unit_id": 2, "entity": "meter/plain",
             "registers": [{"point": "energy", "address": 0, "type": "uint32", "unit": "Wh"}]}
    sim = _serve([odd, sunspec_meter(), plain], frozen)
    try:
        port = sim.ports["ss-inverter"]
        with pytest.raises(modbus.ModbusClientException, match="exception 2"):
            _pysunspec2(sim, "ss-inverter", 1)  # pysunspec2's full scan stops at the refused point
        theirs = _pysunspec2(sim, "ss-inverter", 1, full_model_read=False)
        assert theirs.base_addr == 50000 and [m.model_id for m in theirs.model_list] == [1, 103, 120]

        units = {u.unit_id: u for u in scan("127.0.0.1", port, (1, 2, 9, 240), timeout_s=0.5)}
        u = units[1]
        assert u.error is None and u.base_address == 50000
        assert [(m.model_id, m.length) for m in u.models] == [(1, 66), (103, 50), (120, 29), (64900, 7)]
        m103, m120, vendor = u.model(103), u.model(120), u.model(64900)
        assert m103.unserved == ["PhVphB"] and "PhVphB" not in m103.values and m103.values["PhVphA"] == 230
        assert m103.values["WH"] == math.floor(sim.devices["ss-inverter"].energy_wh(0.0))
        assert any("length 29 differs from the definition's 26" in n for n in m120.notes)
        assert m120.values["WRtg"] == 5000
        assert vendor.name is None and any("no SunSpec definition" in n for n in vendor.notes)
        assert units[2].error == "Modbus exception 2 at 40000, 0, 50000"  # a plain Modbus meter: not SunSpec
        assert "exception 4" in units[9].error  # no such unit
        assert units[240].error is None and [m.model_id for m in units[240].models] == [1, 203]
        text = describe(list(units.values()), "127.0.0.1", port)
        assert "not served: PhVphB" in text and "unit 2: no SunSpec device" in text

        # gridledger's own link reads the odd device's energy through all of it
        link = SunSpecLink(DeviceSpec.model_validate(bound(sim, odd)))
        try:
            assert link.read(0.0, link.spec.register("energy")) == m103.values["WH"]
        finally:
            link.close()
    finally:
        sim.stop()


# the CLI -----------------------------------------------------------------------------------------------------
def test_scan_writes_a_table_that_simulates_the_same_device(frozen, tmp_path, capsys):
    sim = _serve([sunspec_meter(), sunspec_inverter(extra_registers={120: 2})], frozen)
    out = tmp_path / "scanned.toml"
    try:
        port = sim.ports["ss-meter"]
        assert main(["devices", "scan", f"127.0.0.1:{port}", "--unit-ids", "1,7,240", "--out", str(out),
                     "--timeout-s", "0.5"]) == 0
        printed = capsys.readouterr().out
        assert "unit 7: no SunSpec device" in printed and "TotWhExp" in printed and f"to {out}" in printed
    finally:
        sim.stop()
    table = load_device_table(out)
    assert [(d.unit_id, [(p.model, p.name) for p in d.sunspec]) for d in table.devices] == [
        (1, [(103, "WH"), (103, "W")]), (240, [(203, "TotWhExp"), (203, "W")])]
    # the written table, served by the simulator, scans as the original did (models, lengths, scale factors)
    replay = [d.model_dump(mode="python") | {"port": 0} for d in table.devices]
    again = _serve(replay, frozen)
    try:
        units = scan("127.0.0.1", again.ports[replay[0]["name"]], (1, 240), timeout_s=0.5)
    finally:
        again.stop()
    assert [[(m.model_id, m.length) for m in u.models] for u in units] == [[(1, 66), (103, 50), (120, 28)],
                                                                            [(1, 66), (203, 105)]]
    assert units[0].model(103).values["W_SF"] == 1 and units[1].model(203).values["TotWh_SF"] == 1
    assert main(["devices", "scan", f"127.0.0.1:{port}", "--out", str(out)]) == 2  # exists: not overwritten
    assert main(["devices", "scan", "10.0.0.1:502"]) == 2  # beyond loopback only when allowed
    assert "--allow-remote-hosts" in capsys.readouterr().err


# the table ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("change", "problem"), [
    ({"sunspec": [{"point": "energy", "model": 203, "name": "W"}]}, r"point 'energy' needs a SunSpec point in Wh"),
    ({"sunspec": [{"point": "energy", "model": 203, "name": "TotWh"}]}, r"model 203 \(ac_meter_abcn\) has no point"),
    ({"sunspec": [{"point": "energy", "model": 64900, "name": "X"}]}, r"model 64900: pysunspec2 has no definition"),
    ({"registers": [{"point": "energy", "address": 0, "type": "uint32", "unit": "Wh"}]},
     r"registers: a SunSpec device names its points by model and point"),
    ({"protocol": "modbus-tcp", "registers": [{"point": "energy", "address": 0, "type": "uint32", "unit": "Wh"}]},
     r"sunspec: only for protocol = \"sunspec\""),
    ({"protocol": "modbus-tcp"}, r"devices\[0\]\.registers: missing"),
    ({"sunspec": []}, r"sunspec: a SunSpec device needs its points"),
    ({"simulate": {"sunspec": {"scale_factors": {"W_SF": 11}}}}, r"a SunSpec scale factor is -10..10, got 11"),
    ({"simulate": {"sunspec": {"models": [1, 103]}}}, r"the points name model\(s\) \[203\]: serve them too"),
    ({"simulate": {"sunspec": {"values": {"WRtg": 1}}}}, r"simulate.sunspec.values: no point \['WRtg'\] in models"),
])
def test_table_errors_name_the_field(change, problem):
    with pytest.raises(ScenarioError, match=r"lab\.toml: devices\[0\]"):
        validate_device_table({"devices": [sunspec_meter() | change]}, source="lab.toml")
    with pytest.raises(ScenarioError, match=problem):
        validate_device_table({"devices": [sunspec_meter() | change]}, source="lab.toml")


def test_a_run_reaches_a_sunspec_device_beyond_loopback_only_when_allowed():
    remote = DeviceSpec.model_validate(sunspec_meter(host="192.168.1.20", port=502, entity="meter/p1"))
    kw = {"prosumer_ids": ["p1"], "settlement_s": 60, "realtime": True}
    with pytest.raises(ValueError, match=r"devices\[0\]\.host: a run .* uses 127\.0\.0\.1 only"):
        check_run_devices([remote], allow_remote_hosts=False, **kw)
    check_run_devices([remote], allow_remote_hosts=True, **kw)


def test_an_exception_2_where_a_point_was_makes_the_link_scan_again(frozen):
    """A device that refuses the address it served (its map moved, e.g. after a firmware restart) is scanned
    again by the next read, which then reads the value."""
    import time

    d = sunspec_meter()
    sim = _serve([d], frozen)
    link = SunSpecLink(DeviceSpec.model_validate(bound(sim, d)))
    energy = link.spec.register("energy")
    try:
        first = link.read(0.0, energy)
        sim.inject("exception", duration_s=5.0, exception_code=2)
        with pytest.raises(LinkError, match="exception_reply: Modbus exception code 2"):
            link.read(1.0, energy)
        assert link.located is None and link.scans == 1
        frozen["t"] = 10.0  # the fault is over (device seconds)
        time.sleep(0.2)  # the simulator's tick ends it
        assert link.read(10.0, energy) == math.floor(sim.devices["ss-meter"].energy_wh(10.0) / 10) * 10 >= first
        assert link.scans == 2
    finally:
        link.close()
        sim.stop()


def test_devices_poll_reads_a_sunspec_table(frozen, tmp_path, capsys):
    d = sunspec_meter()
    sim = _serve([d], frozen)
    try:
        table = tmp_path / "ss.toml"
        port = sim.ports["ss-meter"]
        table.write_text(f"""[[devices]]
name = "ss-meter"
kind = "meter"
protocol = "sunspec"
port = {port}
unit_id = 240
entity = "meter/x"
sunspec = [{{ point = "energy", model = 203, name = "TotWhExp" }}, {{ point = "power", model = 203, name = "W" }}]
""")
        frozen["t"] = 100.0
        assert main(["devices", "poll", str(table)]) == 0
        out = capsys.readouterr().out
        device = sim.devices["ss-meter"]
        assert f"ss-meter energy    model 203 TotWhExp = {math.floor(device.energy_wh(100.0) / 10) * 10:g}" in out
        assert f"ss-meter power     model 203 W = {round(device.power_w(100.0), 1):g}" in out
    finally:
        sim.stop()


def test_a_sunspec_meter_cannot_stand_in_the_power_flow():
    """SunSpec leaves the sign of a meter's W to the vendor: ``inject = true`` is refused, naming the field."""
    import pydantic

    from sim.hil.table import DeviceTable

    device = {"name": "m", "kind": "meter", "protocol": "sunspec", "host": "127.0.0.1", "port": 5020, "unit_id": 1,
              "entity": "pv-battery-01", "inject": True,
              "sunspec": [{"point": "energy", "model": 203, "name": "TotWhExp"},
                          {"point": "power", "model": 203, "name": "W"}]}
    with pytest.raises(pydantic.ValidationError, match="inject: not for a SunSpec device"):
        DeviceTable.model_validate({"devices": [device]})
