"""``gridledger devices simulate DEVICES.toml`` (serve the table's devices on 127.0.0.1 until Ctrl-C or
``--duration-s``) and ``gridledger devices poll DEVICES.toml`` (read every point once: check a register map
against a real device before a run)."""

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
    from sim.hil.mqtt_link import make_link

    failed = 0
    for d in table.devices:
        link = make_link(d)
        try:
            for reg in (d.mqtt.points if d.mqtt else d.registers):
                where = f"{reg.table}:{reg.address}" if d.mqtt is None else reg.topic
                try:
                    value = link.read(time.monotonic(), reg)
                    print(f"{d.name} {reg.point:9s} {where}" + (f" ({reg.type})" if d.mqtt is None else "")
                          + f" = {value:g}")
                except LinkError as exc:
                    failed += 1
                    print(f"{d.name} {reg.point:9s} {where}: {exc}", file=sys.stderr)
                    link.close()
                    link = make_link(d)  # no backoff for a one-shot check
        finally:
            link.close()
    return 1 if failed else 0


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
    dev = sub.add_parser("devices", help="HIL devices: simulate a device table, or poll its devices once")
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
