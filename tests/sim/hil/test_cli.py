"""``gridledger devices simulate`` in its own process (as in a lab's first terminal), ``devices poll`` against
it, Ctrl-C ends it; a table that would listen beyond loopback is refused."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

from sim.cli import main
from tests.conftest import ROOT

TABLE = """
[[devices]]
name = "m"
kind = "meter"
port = {port}
entity = "meter/pv-battery-01"
registers = [{{ point = "energy", address = 0, type = "uint32", unit = "kWh", scale = 0.001 }}]
simulate = {{ power_w = 1000.0, energy_wh = 42000.0 }}

[[devices]]
name = "r"
kind = "relay"
host = "{host}"
port = {port}
unit_id = 2
entity = "prosumer/pv-battery-01/battery"
safe_state = false
registers = [{{ point = "state", address = 3, table = "coil", type = "bool" }}]
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_simulate_in_a_process_poll_against_it_and_interrupt(tmp_path, capsys):
    port = _free_port()
    table = tmp_path / "devices.toml"
    table.write_text(TABLE.format(port=port, host="127.0.0.1"))
    proc = subprocess.Popen([sys.executable, "-m", "sim.cli", "devices", "simulate", str(table)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        end = time.monotonic() + 60
        while time.monotonic() < end:  # bounded wait for the server to listen
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read()
                time.sleep(0.1)
        assert main(["devices", "poll", str(table)]) == 0
        out = capsys.readouterr().out
        assert "m energy    holding:0 (uint32) = 42" in out  # kWh register in Wh steps, read as Wh
        assert "r state     coil:3 (bool) = 0" in out
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert f"m: meter for meter/pv-battery-01 at 127.0.0.1:{port} unit 1" in output and "stopped; served" in output
    assert main(["devices", "poll", str(table)]) == 1  # nothing listens any more: reported, not raised


def test_simulate_refuses_a_table_beyond_loopback(tmp_path, capsys):
    table = tmp_path / "devices.toml"
    table.write_text(TABLE.format(port=5020, host="0.0.0.0"))
    assert main(["devices", "simulate", str(table), "--duration-s", "0"]) == 2
    assert "devices[1].host: the simulator serves on and uses 127.0.0.1 only, got '0.0.0.0'" in capsys.readouterr().err
    assert main(["devices", "poll", str(table)]) == 2


MQTT_TABLE = """
[[devices]]
name = "plug"
kind = "relay"
protocol = "mqtt"
port = {port}
entity = "outlet/home-01/ev_charger"
safe_state = true
mqtt = {{ points = [{{ point = "state", topic = "stat/plug/POWER", query_topic = "cmnd/plug/POWER", command_topic = "cmnd/plug/POWER" }}] }}

[[devices]]
name = "pv"
kind = "meter"
protocol = "mqtt"
port = {port}
entity = "meter/home-01"
mqtt = {{ points = [{{ point = "energy", topic = "stat/pv/STATUS8", query_topic = "cmnd/pv/STATUS", query = "8", field = "StatusSNS.ENERGY.Total", unit = "kWh" }}] }}
simulate = {{ power_w = 0.0, energy_wh = 42000.0 }}
"""


def test_simulate_mqtt_plugs_in_a_process_poll_them_and_interrupt(tmp_path, capsys):
    """The MQTT demo's first terminal: an embedded broker on 127.0.0.1 and the plugs; ``devices poll`` asks them."""
    port = _free_port()
    table = tmp_path / "plugs.toml"
    table.write_text(MQTT_TABLE.format(port=port))
    proc = subprocess.Popen([sys.executable, "-m", "sim.cli", "devices", "simulate", str(table)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = proc.stdout.readline()  # printed once the broker listens and the plugs are connected
        assert line.strip() == f"plug: relay for outlet/home-01/ev_charger at MQTT broker 127.0.0.1:{port}", line
        assert main(["devices", "poll", str(table)]) == 0
        out = capsys.readouterr().out
        assert "plug state     stat/plug/POWER = 1" in out and "pv energy    stat/pv/STATUS8 = 42000" in out
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
    assert proc.returncode == 0 and "stopped; served 2 requests" in output
    assert main(["devices", "poll", str(table)]) == 1  # the broker is gone: reported, not raised
