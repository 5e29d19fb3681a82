"""One device's Modbus TCP link: pymodbus's synchronous client with a short timeout, faults classified and
counted, reconnection with exponential backoff.

Policy: a timeout, a refused or closed connection, or a reply that cannot be decoded ("garbage") closes the
socket (a late reply must not be taken for the answer to the next request) and the link waits
``poll_s, 2 poll_s, 4 poll_s …`` (at most ``backoff_max_s``, simulated seconds) before it tries again; a
Modbus exception reply means the device is there and refuses, so the link stays up. Every failure is counted
by kind and raised to the caller as :class:`LinkError`; nothing is retried behind the caller's back.
"""

from __future__ import annotations

import logging
import struct
from collections import Counter, deque
from time import perf_counter

from pymodbus.client import ModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException

from sim.hil.registers import COIL_TYPE, DecodeError, decode, encode, from_twin_unit, register_count, to_twin_unit
from sim.hil.table import DeviceSpec, RegisterSpec

FAULT_KINDS = ("timeout", "connection", "exception_reply", "garbage", "readback_mismatch")
log = logging.getLogger("sim.hil")


class LinkError(Exception):
    def __init__(self, kind: str, message: str):
        super().__init__(f"{kind}: {message}")
        self.kind = kind


def quiet_pymodbus() -> None:
    """pymodbus logs every failed request at ERROR with frame dumps; the bridge counts and reports them
    itself, so only pymodbus's critical messages are let through."""
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)


class LinkHealth:
    """What every device link counts and how it backs off: requests, latencies, faults by kind, the link down
    since a failure and its retry time (``poll_s`` doubling per failure, at most ``backoff_max_s``); ``t_s``
    arguments are simulated seconds."""

    def __init__(self, spec: DeviceSpec):
        self.spec = spec
        self.faults: Counter[str] = Counter()
        self.recent_faults: deque = deque(maxlen=20)
        self.requests = 0
        self.reconnects = 0
        self.latency_s: list[float] = []
        self.down = False  # the connection failed and no request has succeeded since
        self.connections = 0  # successful connects; a new one may need set-up writes (a watchdog)
        self._failures = 0
        self._retry_at_s = float("-inf")

    def _drop_connection(self) -> None:
        """Close the connection after a failure (a protocol that reconnects by itself does nothing)."""

    # state ---------------------------------------------------------------------------------------------
    def ready(self, t_s: float) -> bool:
        """False while backing off after a failure: no request is sent before ``_retry_at_s``."""
        return t_s >= self._retry_at_s

    def _fail(self, t_s: float, kind: str, message: str, *, close: bool) -> LinkError:
        self.faults[kind] += 1
        self.recent_faults.append({"t_s": t_s, "kind": kind, "message": message[:200]})
        if close:
            if not self.down:
                log.warning("%s: link down at t=%g s: %s: %s", self.spec.name, t_s, kind, message)
            self.down = True
            self._drop_connection()
            self._failures += 1
            wait = min(self.spec.poll_s * 2 ** (self._failures - 1), self.spec.backoff_max_s)
            self._retry_at_s = t_s + wait
        return LinkError(kind, message)

    def _ok(self, t_s: float, started: float) -> None:
        self.latency_s.append(perf_counter() - started)
        if self.down:
            self.reconnects += 1
            log.warning("%s: link back at t=%g s", self.spec.name, t_s)
        self.down = False
        self._failures = 0


class ModbusLink(LinkHealth):
    """Requests to one device; ``t_s`` arguments are simulated seconds (for backoff and the fault log)."""

    def __init__(self, spec: DeviceSpec):
        quiet_pymodbus()
        self.client = ModbusTcpClient(spec.host, port=spec.port, timeout=spec.timeout_s, retries=0,
                                      name=spec.name)
        super().__init__(spec)

    def _drop_connection(self) -> None:
        self.client.close()

    # requests ------------------------------------------------------------------------------------------
    def _call(self, t_s: float, fn, *args, **kwargs):
        self.requests += 1
        started = perf_counter()
        try:
            if not self.client.connected:
                if not self.client.connect():
                    raise ConnectionException(f"cannot connect to {self.spec.host}:{self.spec.port}")
                self.connections += 1
            reply = fn(*args, device_id=self.spec.unit_id, **kwargs)
        except ConnectionException as exc:
            raise self._fail(t_s, "connection", str(exc), close=True) from None
        except ModbusIOException as exc:
            kind = "timeout" if "No response" in str(exc) else "garbage"
            raise self._fail(t_s, kind, str(exc), close=True) from None
        except (ModbusException, struct.error, ValueError, IndexError) as exc:
            raise self._fail(t_s, "garbage", f"{type(exc).__name__}: {exc}", close=True) from None
        except OSError as exc:
            raise self._fail(t_s, "connection", f"{type(exc).__name__}: {exc}", close=True) from None
        if reply.isError():
            code = getattr(reply, "exception_code", None)
            raise self._fail(t_s, "exception_reply", f"Modbus exception code {code}", close=False)
        self._ok(t_s, started)
        return reply

    def read(self, t_s: float, reg: RegisterSpec) -> float:
        """A point's value in the twin's unit (Wh, W, s; a coil or state as 0/1)."""
        c = self.client
        n = register_count(reg.type)
        if reg.type == COIL_TYPE:
            reply = self._call(t_s, c.read_coils, reg.address, count=1)
            bits = list(getattr(reply, "bits", []) or [])
            if not bits:
                raise self._fail(t_s, "garbage", f"coil {reg.address}: reply without bits", close=True)
            return float(bool(bits[0]))
        fn = c.read_holding_registers if reg.table == "holding" else c.read_input_registers
        reply = self._call(t_s, fn, reg.address, count=n)
        try:
            value = decode(list(reply.registers), reg.type, scale=reg.scale, byte_order=reg.byte_order,
                           word_order=reg.word_order)
        except DecodeError as exc:
            raise self._fail(t_s, "garbage", f"register {reg.address}: {exc}", close=True) from None
        return to_twin_unit(value, reg.unit)

    def write(self, t_s: float, reg: RegisterSpec, value: float) -> None:
        """Write a point given in the twin's unit (a coil: truthy = on)."""
        c = self.client
        if reg.type == COIL_TYPE:
            self._call(t_s, c.write_coil, reg.address, bool(value))
            return
        regs = encode(from_twin_unit(value, reg.unit), reg.type, scale=reg.scale, byte_order=reg.byte_order,
                      word_order=reg.word_order)
        if len(regs) == 1:
            self._call(t_s, c.write_register, reg.address, regs[0])
        else:
            self._call(t_s, c.write_registers, reg.address, regs)

    def mismatch(self, t_s: float, message: str) -> LinkError:
        """A write the device did not take (read back differs): counted, the connection kept."""
        return self._fail(t_s, "readback_mismatch", message, close=False)

    @property
    def answered(self) -> bool:
        """Whether the device answered any request (an error reply counts: something listens there)."""
        return bool(self.latency_s) or self.faults["exception_reply"] > 0 or self.faults["readback_mismatch"] > 0

    def close(self) -> None:
        self.client.close()

    def report(self) -> dict:
        from sim.hil.pacing import percentiles

        return {"requests": self.requests, "answers": len(self.latency_s), "reconnects": self.reconnects,
                "faults": {k: self.faults[k] for k in FAULT_KINDS if self.faults[k]},
                "request_latency_s": percentiles(self.latency_s), "recent_faults": list(self.recent_faults)}
