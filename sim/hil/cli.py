"""``gridledger devices simulate DEVICES.toml`` (serve the table's devices on 127.0.0.1 until Ctrl-C or
``--duration-s``), ``gridledger devices poll DEVICES.toml`` (read every point once: check a register map
against a real device before a run) and ``gridledger devices scan HOST:PORT`` (what a SunSpec device offers, and
a device-table entry for it)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time


def _cmd_simulate(args) -> int:
    from sim.hil.simulator import DeviceSimulator
    from sim.hil.table import check_loopback, load_device_table

    table = load_device_table(args.file)
    try:
        check_loopback(table.devices, allow_remote_hosts=False, what="the simulator serves on and")
    except ValueError as exc:
        print(f"error: {args.file}: {exc}", file=sys.stderr)
        return 2
    check_ports_free(table.devices, args.file)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    from sim.hil.mqtt_simulator import MqttDeviceSimulator, split_by_protocol

    modbus_table, mqtt_table = split_by_protocol(table)
    mqtt_sim = None
    try:
        if mqtt_table is not None:  # an embedded MQTT broker on 127.0.0.1 and the plugs as its clients
            mqtt_sim = MqttDeviceSimulator(mqtt_table).start()
        sim = DeviceSimulator(modbus_table).start() if modbus_table is not None else mqtt_sim
    except RuntimeError as exc:  # pymodbus or the broker could not listen: taken between the check and now
        from sim.errors import PortInUse

        if mqtt_sim is not None:
            mqtt_sim.stop()
        raise PortInUse(f"{args.file}: the simulator cannot listen ({exc}); is a port of the table in use?") from None
    try:
        for d in table.devices:
            host, port = (mqtt_sim if d.protocol == "mqtt" else sim).address_of(d.name)
            where = f"MQTT broker {host}:{port}" if d.protocol == "mqtt" else f"{host}:{port} unit {d.unit_id}"
            print(f"{d.name}: {d.kind} for {d.entity} at {where}", flush=True)
        print(f"time factor {sim.time_factor:g}; {len(table.faults)} scheduled fault(s) from the first request; "
              "Ctrl-C stops", flush=True)
        stop.wait(args.duration_s)  # None: until a signal
    finally:
        sim.stop()
        if mqtt_sim is not None:
            mqtt_sim.stop()
    sims = [sim] if sim is mqtt_sim else [x for x in (sim, mqtt_sim) if x is not None]
    print(f"stopped; served {sum(x.stats['requests'] for x in sims)} requests, dropped "
          f"{sum(x.stats['dropped'] for x in sims)}, events: {sum(len(x.events) for x in sims)}", flush=True)
    return 0


def check_ports_free(devices, source: str) -> None:
    """Raise ``PortInUse`` naming the port and its devices if something already listens on one of them."""
    import errno
    import socket

    from sim.errors import PortInUse

    for port in sorted({d.port for d in devices if d.port}):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a closed connection's TIME_WAIT is no owner
            try:
                s.bind(("127.0.0.1", port))
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    raise
                names = ", ".join(d.name for d in devices if d.port == port)
                raise PortInUse(f"{source}: port {port} on 127.0.0.1 is already in use (devices {names}); another "
                                "`gridledger devices simulate` or a real server listens there: stop it, or change "
                                "the port in the table (and in the scenario)") from None


def _cmd_poll(args) -> int:
    from sim.hil.link import LinkError
    from sim.hil.table import check_loopback, load_device_table

    table = load_device_table(args.file)
    try:
        check_loopback(table.devices, allow_remote_hosts=args.allow_remote_hosts, what="devices poll")
    except ValueError as exc:
        print(f"error: {args.file}: {exc} (--allow-remote-hosts)", file=sys.stderr)
        return 2
    from sim.hil.bridge import link_for

    failed = 0
    for d in table.devices:
        link = link_for(d)
        try:
            for reg in [*d.registers, *d.sunspec, *(d.mqtt.points if d.mqtt else [])]:
                where = (f"model {reg.model} {reg.name}" if d.protocol == "sunspec" else reg.topic
                         if d.protocol == "mqtt" else f"{reg.table}:{reg.address} ({reg.type})")
                try:
                    value = link.read(time.monotonic(), reg)
                    print(f"{d.name} {reg.point:9s} {where} = {value:g}")
                except LinkError as exc:
                    failed += 1
                    print(f"{d.name} {reg.point:9s} {where}: {exc}", file=sys.stderr)
                    link.close()
                    link = link_for(d)  # no backoff for a one-shot check
        finally:
            link.close()
    return 1 if failed else 0


def _cmd_scan(args) -> int:
    import tomllib
    from pathlib import Path

    from sim.hil.sunspec_scan import DEFAULT_UNIT_IDS, describe, entry, scan
    from sim.hil.table import LOOPBACK, validate_device_table

    host, _, port_text = args.address.rpartition(":")
    if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        print(f"error: scan: give HOST:PORT (e.g. 127.0.0.1:502), got {args.address!r}", file=sys.stderr)
        return 2
    if host != LOOPBACK and not args.allow_remote_hosts:
        print(f"error: scan: {host!r} is not {LOOPBACK}; --allow-remote-hosts to reach another machine",
              file=sys.stderr)
        return 2
    port = int(port_text)
    out = Path(args.out)
    if out.exists() and not args.force:
        print(f"error: scan: {out} exists (--force to overwrite)", file=sys.stderr)
        return 2
    units = scan(host, port, args.unit_ids or DEFAULT_UNIT_IDS, timeout_s=args.timeout_s)
    print(describe(units, host, port), flush=True)
    found = [u for u in units if u.error is None]
    entries = [e for u in found if (e := entry(u, name=f"sunspec-{port}-{u.unit_id}", host=host, port=port, entity=(
        args.entity if len(found) == 1 else f"{args.entity}-unit-{u.unit_id}"))) is not None]
    if not entries:
        print("no SunSpec meter or inverter found: no device-table entry written", file=sys.stderr)
        return 1
    header = (f"# Device table written by `gridledger devices scan {args.address}`: set each entity to the\n"
              "# prosumer meter the device replaces ('meter/<prosumer id>'); `simulate` plays the same layout.\n\n")
    text = header + "\n".join(entries)
    validate_device_table(tomllib.loads(text), source=str(out))  # only a valid table is written
    out.write_text(text, encoding="utf-8")
    print(f"wrote {len(entries)} device-table entr{'y' if len(entries) == 1 else 'ies'} to {out}")
    return 0


def _unit_ids(text: str) -> list[int]:
    try:
        ids = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"unit ids separated by commas, e.g. 1,2,240; got {text!r}") from None
    if not ids or len(ids) > 32 or not all(0 <= i <= 255 for i in ids):
        raise argparse.ArgumentTypeError(f"1 to 32 unit ids of 0..255, got {text!r}")
    return ids


def _timeout_s(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a number of seconds, got {text!r}") from None
    if not 0 < value <= 10:  # also NaN
        raise argparse.ArgumentTypeError(f"more than 0 and at most 10 seconds, got {text!r}")
    return value


def _duration_s(text: str) -> float:
    """Wall seconds: a finite number >= 0 (threading's wait takes no infinity)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a number of seconds, got {text!r}") from None
    if not 0 <= value <= 10**9:  # also NaN
        raise argparse.ArgumentTypeError(f"between 0 and 1e9 seconds, got {text!r}")
    return value


def add_parser(sub) -> None:
    dev = sub.add_parser("devices", help="HIL devices: simulate a device table, poll its devices once, or scan a "
                                         "SunSpec device")
    dsub = dev.add_subparsers(dest="devices_command", required=True)
    s = dsub.add_parser("simulate", help="serve the table's meters and relays on 127.0.0.1 (Modbus TCP; MQTT "
                        "devices as simulated plugs of an embedded broker)")
    s.add_argument("file")
    s.add_argument("--duration-s", type=_duration_s, default=None, help="stop after this many wall seconds")
    s.set_defaults(func=_cmd_simulate)
    p = dsub.add_parser("poll", help="read every point of every device once and print the decoded values")
    p.add_argument("file")
    p.add_argument("--allow-remote-hosts", action="store_true", help="also poll devices not on 127.0.0.1")
    p.set_defaults(func=_cmd_poll)
    c = dsub.add_parser("scan", help="scan a SunSpec device (pysunspec2): print its models and points, write a "
                                     "device-table entry")
    c.add_argument("address", help="HOST:PORT")
    c.add_argument("--unit-ids", type=_unit_ids, default=None, help="comma-separated (default 1,2,3,126,200,240)")
    c.add_argument("--timeout-s", type=_timeout_s, default=0.5, help="wall seconds per request")
    c.add_argument("--entity", default="meter/CHANGE-ME", help="entity of the written entries")
    c.add_argument("--out", default="sunspec_devices.toml", help="device-table file to write")
    c.add_argument("--force", action="store_true", help="overwrite --out")
    c.add_argument("--allow-remote-hosts", action="store_true", help="scan a host other than 127.0.0.1")
    c.set_defaults(func=_cmd_scan)
