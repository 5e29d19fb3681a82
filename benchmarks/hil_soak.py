"""HIL soak: the twin at real-time factor 1 polling a simulated meter and relay every second, for N minutes.

The device simulator runs in its own process (``gridledger devices simulate``), as in a lab with two
terminals; both listen and connect on 127.0.0.1 only, on a free port. Prints the figures the issue asks for:
polls, faults, missed deadlines, step latency p50/p99 (how long after its wall-clock due time each twin step
had finished), and the Modbus request latency.

    python benchmarks/hil_soak.py --minutes 10
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TABLE = """
[simulator]
time_factor = {factor}

[[devices]]
name = "soak-meter"
kind = "meter"
port = {port}
unit_id = 1
entity = "meter/pv-battery-01"
poll_s = {poll_s}
timeout_s = 0.2
registers = [
  {{ point = "energy", address = 0, type = "uint32", unit = "Wh" }},
  {{ point = "power", address = 2, type = "float32", unit = "W" }},
]
simulate = {{ power_w = 2500.0, amplitude_w = 1500.0, cycle_s = 3600.0 }}

[[devices]]
name = "soak-relay"
kind = "relay"
port = {port}
unit_id = 2
entity = "prosumer/pv-battery-01/battery"
poll_s = {poll_s}
timeout_s = 0.2
safe_state = false
watchdog_s = 10.0
registers = [
  {{ point = "state", address = 0, table = "coil", type = "bool" }},
  {{ point = "watchdog", address = 100, type = "uint16", unit = "s" }},
]
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port: int, wall_s: float = 30.0) -> None:
    end = time.monotonic() + wall_s
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the device simulator did not listen on 127.0.0.1:{port} within {wall_s:g} s")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--poll-s", type=float, default=1.0)
    ap.add_argument("--factor", type=float, default=1.0, help="realtime factor (1 = real time)")
    ap.add_argument("--step-s", type=int, default=5)
    ap.add_argument("--out", default=None, help="results folder (default: none written)")
    args = ap.parse_args(argv)

    from sim.runner import run_scenario
    from sim.scenario import load_scenario

    duration_s = max(60, int(round(args.minutes)) * 60)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that the simulator process is ended too
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        table = Path(tmp) / "soak_devices.toml"
        table.write_text(TABLE.format(factor=args.factor, port=port, poll_s=args.poll_s))
        server = subprocess.Popen([sys.executable, "-m", "sim.cli", "devices", "simulate", str(table)], cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_listening(port)
            scenario = load_scenario(ROOT / "scenarios" / "hil_demo.toml").with_overrides({
                "run.name": "hil_soak", "run.start": dt.datetime(2025, 6, 2, 10, 0),
                "run.duration_s": duration_s, "run.step_s": args.step_s, "run.settlement_s": 60,
                "realtime": {"factor": args.factor, "strict": False, "slack_s": 0.25},
                "hil": {}, "devices": tomllib.loads(table.read_text())["devices"],
            })
            wall = time.perf_counter()
            result = run_scenario(scenario, out=args.out)
            wall = time.perf_counter() - wall
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=10)
    h = result.summary["hil"]
    lat = h["step_latency_s"]
    figures = {
        "simulated_s": duration_s, "wall_s": round(wall, 1), "realtime_factor": args.factor, "poll_s": args.poll_s,
        "step_s": args.step_s, "polls": h["polls"], "faults": {k: n for k, n in h["faults"].items() if n},
        "deadlines_missed": h["deadlines_missed"], "events": h["realtime"]["events"],
        "max_lateness_ms": round(h["realtime"]["max_lateness_s"] * 1e3, 2),
        "step_latency_ms": {k: round(lat[k] * 1e3, 2) for k in ("p50", "p99", "max")},
        "request_latency_ms": {n: {k: round(d["link"]["request_latency_s"][k] * 1e3, 3) for k in ("p50", "p99")}
                               for n, d in h["devices"].items()},
        "periods_settled": result.summary["vpp"]["periods_settled"],
        "meter_gap_periods": h["devices"]["soak-meter"]["gap_periods"],
    }
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
