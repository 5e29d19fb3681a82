"""The link to a SunSpec device: where its points are is found by scanning it with pysunspec2 (base address,
model list) at the first request and after the map moved (an exception 2 where a point was); each read then
takes the point and its scale factor in one request through the Modbus link (timeouts, backoff and fault
counting as for any device), and decodes them with ``sim.hil.sunspec_map``.

Fault kinds beyond the Modbus link's: ``not_sunspec`` (no 'SunS' marker at 40000, 0 or 50000, or a named model
missing: the scan failed, backoff), ``not_implemented`` (the point or its scale factor holds the 'not
implemented' value: the device answered, the value is missing; the connection is kept).
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.hil.link import LinkError, ModbusLink
from sim.hil.sunspec_map import PointDef, SunSpecMapError, decode_raw, scaled
from sim.hil.sunspec_spec import SunSpecPointSpec
from sim.hil.table import DeviceSpec

SCAN_TIMEOUT_S = 1.0


@dataclass(frozen=True)
class Located:
    """A point on the device: its definition at ``address``; the scale factor's point at ``sf_address``
    (None: a fixed exponent ``sf_fixed``)."""

    point: PointDef
    address: int
    sf_point: PointDef | None
    sf_address: int | None
    sf_fixed: int


def locate(host: str, port: int, unit_id: int, points: list[SunSpecPointSpec], timeout_s: float) -> dict:
    """Scan the device with pysunspec2 (model list only) and place each named point: {point: Located}.
    Raises LinkError (kind ``not_sunspec``, ``timeout``, ``exception_reply`` or ``connection``)."""
    from sunspec2.modbus import client, modbus

    from sim.hil.sunspec_map import model_def

    dev = client.SunSpecModbusClientDeviceTCP(slave_id=unit_id, ipaddr=host, ipport=port, timeout=timeout_s)
    try:
        dev.scan(full_model_read=False)
    except client.SunSpecModbusClientError as exc:
        text = " ".join(str(exc).split())
        kind = "not_sunspec" if "Modbus exception" in text or "not SunSpec" in text else "timeout"
        raise LinkError(kind, f"unit {unit_id}: {text}") from None
    except modbus.ModbusClientTimeout as exc:
        raise LinkError("timeout", f"scan: {exc}") from None
    except modbus.ModbusClientException as exc:
        raise LinkError("exception_reply", f"scan: {exc}") from None
    except (modbus.ModbusClientError, OSError) as exc:
        raise LinkError("connection", f"scan: {exc}") from None
    finally:
        dev.close()
        dev.disconnect()
    out = {}
    for spec in points:
        found = dev.models.get(spec.model)
        if not found:
            have = sorted(k for k in dev.models if isinstance(k, int))
            raise LinkError("not_sunspec", f"unit {unit_id}: no model {spec.model} on the device (models: {have})")
        m, mdef = found[0], model_def(spec.model)
        p = mdef.point(spec.name)
        if p.offset + p.size > m.model_len + 2:
            raise LinkError("not_sunspec", f"model {spec.model} at {m.model_addr} is {m.model_len} registers long: "
                                           f"too short for point {spec.name!r}")
        sf_point = mdef.sf_point(p)
        out[spec.point] = Located(p, m.model_addr + p.offset, sf_point,
                                  None if sf_point is None else m.model_addr + sf_point.offset,
                                  int(p.sf) if isinstance(p.sf, int) else 0)
    return out


class SunSpecLink(ModbusLink):
    """``read(t_s, point)`` with a :class:`SunSpecPointSpec`: the value in the twin's unit (Wh, W)."""

    def __init__(self, spec: DeviceSpec):
        super().__init__(spec)
        self.located: dict[str, Located] | None = None
        self.scans = 0

    def _locate(self, t_s: float) -> dict[str, Located]:
        if self.located is None:
            self.scans += 1
            self.requests += 1
            try:
                self.located = locate(self.spec.host, self.spec.port, self.spec.unit_id, self.spec.sunspec,
                                      min(self.spec.timeout_s * 5, SCAN_TIMEOUT_S))
            except LinkError as exc:
                raise self._fail(t_s, exc.kind, str(exc).split(": ", 1)[1], close=True) from None
        return self.located

    def read(self, t_s: float, point: SunSpecPointSpec) -> float:  # type: ignore[override]
        at = self._locate(t_s)[point.point]
        lo = at.address if at.sf_address is None else min(at.address, at.sf_address)
        hi = max(at.address + at.point.size, (at.sf_address or 0) + 1)
        try:
            reply = self._call(t_s, self.client.read_holding_registers, lo, count=hi - lo)
        except LinkError as exc:
            if exc.kind == "exception_reply" and str(exc).endswith("code 2"):
                self.located = None  # the map moved (a restarted device with other models): scan again
            raise
        words = list(reply.registers)
        if len(words) != hi - lo:
            raise self._fail(t_s, "garbage", f"asked {hi - lo} registers at {lo}, got {len(words)}", close=True)
        raw = decode_raw(at.point, words[at.address - lo : at.address - lo + at.point.size])
        sf = at.sf_fixed if at.sf_point is None else decode_raw(at.sf_point, [words[at.sf_address - lo]])
        where = f"model point {point.model}/{point.name} at {at.address}"
        if raw is None or sf is None:
            what = "value" if raw is None else f"scale factor {at.sf_point.name}"
            raise self._fail(t_s, "not_implemented", f"{where}: {what} 'not implemented'", close=False)
        try:
            return float(scaled(raw, int(sf)))
        except SunSpecMapError as exc:
            raise self._fail(t_s, "garbage", f"{where}: {exc}", close=True) from None

    def report(self) -> dict:
        return {**super().report(), "sunspec_scans": self.scans,
                "faults": {k: v for k, v in self.faults.items() if v}}
