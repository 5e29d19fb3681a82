"""The device simulator behind ``gridledger devices simulate``: the devices of a device table served as
pymodbus TCP servers on 127.0.0.1 (one server per port, one Modbus unit per device), with fault injection.

Runs an asyncio loop in a background thread, so a test (or the CLI) starts it, talks to it over loopback and
stops it: ``with DeviceSimulator(table) as sim: ...``. Device time is wall time since start x
``simulator.time_factor``, or what ``clock()`` returns when one is given (a test slaves the devices to the
twin's simulated clock, so that device-side histories are in the run's seconds). Faults come from the
table's ``[[faults]]`` (timed from the first request served) or from :meth:`DeviceSimulator.inject` (now):

- ``drop``: requests reach nothing (no reply, no watchdog feed) -> the client times out;
- ``slow``: replies wait ``reply_delay_s`` wall seconds;
- ``exception``: the device answers with Modbus exception ``exception_code``;
- ``garbage``: reply frames are corrupted (an undefined function code) -> the client cannot decode them;
- ``stuck``: writes are acknowledged but the device keeps its state (a relay in manual override);
- ``restart``: the server closes every connection, listens again ``duration_s`` later (state is kept).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import Counter
from collections.abc import Callable
from time import monotonic

from sim.hil.link import quiet_pymodbus
from sim.hil.simdevices import TABLE_OF_FC, SimulatedDevice
from sim.hil.sunspec_sim import SunSpecDevice
from sim.hil.table import LOOPBACK, DeviceTable, FaultSpec, check_loopback

TICK_WALL_S = 0.02
GARBAGE_FUNCTION_CODE = 0x55
log = logging.getLogger("sim.hil.simulator")


def simulated_device(spec) -> SimulatedDevice:
    """The simulated device for a table entry: on plain Modbus registers, or on SunSpec models."""
    return SunSpecDevice(spec) if spec.protocol == "sunspec" else SimulatedDevice(spec)


class DeviceSimulator:
    def __init__(self, table: DeviceTable, clock: Callable[[], float] | None = None):
        check_loopback(table.devices, allow_remote_hosts=False, what="the simulator serves on and")
        quiet_pymodbus()
        self.table = table
        self.time_factor = table.simulator.time_factor
        self.devices = {d.name: simulated_device(d) for d in table.devices}
        self._by_port: dict[int, dict[int, SimulatedDevice]] = {}
        for dev in self.devices.values():
            self._by_port.setdefault(dev.spec.port, {})[dev.spec.unit_id] = dev
        self.ports: dict[str, int] = {}  # device name -> port actually listened on
        self.active: list[tuple[FaultSpec, float]] = []  # (fault, end device time)
        self.pending = sorted(table.faults, key=lambda f: f.at_s)
        self.stats: Counter[str] = Counter()
        self.events: list[tuple[float, str]] = []
        self._servers: dict[int, object] = {}  # configured port -> server
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="gridledger-devices", daemon=True)
        self._t0 = monotonic()
        self._clock = clock
        self._first_request_s: float | None = None
        self._stopping = False
        self._ticker = None

    # life cycle ------------------------------------------------------------------------------------------
    def start(self) -> DeviceSimulator:
        self._thread.start()
        self._t0 = monotonic()
        try:
            for port in self._by_port:
                self._run(self._listen(port, port))
            self._ticker = asyncio.run_coroutine_threadsafe(self._tick_loop(), self._loop)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Close every server and connection and end the thread (idempotent, bounded by timeouts)."""
        if self._stopping or not self._thread.is_alive():
            self._stopping = True
            return
        self._stopping = True
        try:
            if self._ticker is not None:
                self._ticker.result(timeout=5)
            for port in list(self._servers):
                self._run(self._close(port))
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
            if not self._thread.is_alive():
                self._loop.close()

    def __enter__(self) -> DeviceSimulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def now_s(self) -> float:
        """Device time [s]."""
        if self._clock is not None:
            return float(self._clock())
        return (monotonic() - self._t0) * self.time_factor

    def _run(self, coro, timeout: float = 5.0):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def _event(self, text: str) -> None:
        self.events.append((self.now_s(), text))
        log.info("t=%.1f s: %s", self.now_s(), text)

    # servers ---------------------------------------------------------------------------------------------
    async def _listen(self, configured_port: int, port: int) -> None:
        from pymodbus.server import ModbusTcpServer
        from pymodbus.simulator import SimDevice

        units = self._by_port[configured_port]
        sim_devices = [SimDevice(id=unit, simdata=dev.blocks(), action=self._action_for(dev))
                       for unit, dev in units.items()]
        server = ModbusTcpServer(sim_devices, address=(LOOPBACK, port),
                                 trace_pdu=lambda sending, pdu: self._trace_pdu(units, sending, pdu),
                                 trace_packet=lambda sending, data: self._trace_packet(units, sending, data))
        await server.serve_forever(background=True)
        actual = server.transport.sockets[0].getsockname()[1]
        for dev in units.values():
            self.ports[dev.spec.name] = actual
        self._servers[configured_port] = server

    async def _close(self, configured_port: int) -> None:
        server = self._servers.pop(configured_port, None)
        if server is not None:
            await server.shutdown()

    def address_of(self, name: str) -> tuple[str, int]:
        """(host, port) the device is served on."""
        return LOOPBACK, self.ports[name]

    def listening(self) -> list[tuple[str, int]]:
        """Addresses of every listening socket (for checks that nothing listens beyond loopback)."""
        out = []
        for server in self._servers.values():
            out += [s.getsockname()[:2] for s in server.transport.sockets]
        return out

    # faults ----------------------------------------------------------------------------------------------
    def inject(self, kind: str, duration_s: float, device: str | None = None, **options) -> None:
        """Start a fault now, for ``duration_s`` device seconds; returns once it is in force (thread-safe)."""
        fault = FaultSpec(kind=kind, at_s=0.0, duration_s=duration_s, device=device, **options)
        self._run(self._activate(fault))

    async def _activate(self, fault: FaultSpec) -> None:
        self.stats[f"fault_{fault.kind}"] += 1
        self._event(f"fault {fault.kind} for {fault.duration_s:g} s on {fault.device or 'every device'}")
        if fault.kind != "restart":
            self.active.append((fault, self.now_s() + fault.duration_s))
            return
        ports = {self.devices[fault.device].spec.port} if fault.device else set(self._servers)
        for port in ports:
            actual = next(p for n, p in self.ports.items() if self.devices[n].spec.port == port)
            await self._close(port)
            self._loop.create_task(self._relisten(port, actual, fault.duration_s / self.time_factor))

    async def _relisten(self, configured_port: int, actual_port: int, down_wall_s: float) -> None:
        await asyncio.sleep(down_wall_s)
        if not self._stopping:
            await self._listen(configured_port, actual_port)
            self._event(f"server on port {actual_port} listening again")

    def _fault(self, kind: str, dev: SimulatedDevice | None):
        for fault, _ in self.active:
            if fault.kind == kind and (fault.device is None or (dev is not None and fault.device == dev.spec.name)):
                return fault
        return None

    async def _tick_loop(self) -> None:
        """Every ``TICK_WALL_S``: start scheduled faults, end expired ones, run the relays' watchdogs."""
        while not self._stopping:
            now = self.now_s()
            if self._first_request_s is not None:
                while self.pending and self._first_request_s + self.pending[0].at_s <= now:
                    await self._activate(self.pending.pop(0))
            for fault, end in [a for a in self.active if a[1] <= now]:
                self.active.remove((fault, end))
                self._event(f"fault {fault.kind} on {fault.device or 'every device'} over")
            for dev in self.devices.values():
                if dev.tick(now):
                    self._event(f"{dev.spec.name}: watchdog ({dev.watchdog_s:g} s without a request): "
                                f"safe state {dev.spec.safe_state}")
            await asyncio.sleep(TICK_WALL_S)

    # request path ----------------------------------------------------------------------------------------
    def _trace_pdu(self, units: dict, sending: bool, pdu):
        if sending:
            return pdu
        if self._first_request_s is None:
            self._first_request_s = self.now_s()
        if self._fault("drop", units.get(pdu.dev_id)) is not None:
            self.stats["dropped"] += 1
            return None  # the request never reached the device: no reply
        return pdu

    def _trace_packet(self, units: dict, sending: bool, data: bytes) -> bytes:
        if sending and len(data) > 7 and self._fault("garbage", units.get(data[6])) is not None:
            self.stats["garbled"] += 1
            return data[:7] + bytes([GARBAGE_FUNCTION_CODE]) + data[8:]
        return data

    def _action_for(self, dev: SimulatedDevice):
        from pymodbus.constants import ExcCodes

        async def action(fc, start, address, count, registers, values):
            now = self.now_s()
            dev.tick(now)
            dev.last_request_s = now
            self.stats["requests"] += 1
            if (slow := self._fault("slow", dev)) is not None:
                self.stats["slow"] += 1
                await asyncio.sleep(slow.reply_delay_s)
            if (exc := self._fault("exception", dev)) is not None:
                self.stats["exceptions"] += 1
                return ExcCodes(exc.exception_code)
            table = TABLE_OF_FC.get(fc)
            if table is None:
                return ExcCodes.ILLEGAL_FUNCTION
            if values:
                if self._fault("stuck", dev) is not None:
                    self.stats["ignored_writes"] += 1
                    return None
                before = dev.value
                dev.capture(table, address, list(values), now)
                if dev.value != before:  # (a run's t = 0 is about its first request)
                    self._event(f"{dev.spec.name}: {'state' if dev.spec.kind == 'relay' else 'set-point'} "
                                f"{before:g} -> {dev.value:g} ({now - (self._first_request_s or 0.0):.0f} s "
                                "after the first request)")
            else:
                dev.refresh(table, start, registers, now)
            return None

        return action
