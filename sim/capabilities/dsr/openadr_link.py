"""The OpenADR 2.0b path of micro-DSR, for the synchronous twin: the grid operator's VTN and the outlets' VEN
(openleadr, ``openadr_vtn`` / ``openadr_ven``) talking over HTTP on 127.0.0.1, on one background asyncio loop.

``publish(ev)`` hands a DR event (as opened on chain) to the VTN, wakes the VEN's poll and returns once the VTN
has the VEN's opt; ``report(delays)`` has the VEN report delays and returns once the VTN has received every
value. Both wait at most ``timeout_s`` wall seconds, so the simulated clock never moves while a message is under
way: what the outlets do depends on the messages' content only, never on wall time.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable

from sim.capabilities.dsr.openadr_events import QUANTITIES, Delay, DrEvent, delays_from_points
from sim.capabilities.dsr.openadr_loop import STOP_WALL_S, AsyncLoopThread, quiet_openleadr
from sim.capabilities.dsr.openadr_ven import OutletsVen
from sim.capabilities.dsr.openadr_vtn import OperatorVtn

POLL_WAIT_S = 0.002  # how often the twin's waits look at what the VTN received [wall s]


class _Parts:
    """The loop, the VTN and the VEN, closed by ``OpenAdrLink.close`` or, at the latest, at interpreter exit."""

    def __init__(self):
        self.loop = AsyncLoopThread("gridledger-openadr")
        self.vtn: OperatorVtn | None = None
        self.ven: OutletsVen | None = None

    def close(self) -> None:
        """Stop the VEN (its poll jobs, its HTTP session), then the VTN's server, then the loop (idempotent)."""
        if not self.loop.running:
            return

        async def stop():
            if self.ven is not None and self.ven.client.client_session is not None:
                await self.ven.stop()
            if self.vtn is not None and self.vtn.port is not None:
                await self.vtn.stop()

        try:
            self.loop.run(stop(), STOP_WALL_S, "stopping the VEN and the VTN")
        finally:
            self.loop.stop()


class OpenAdrLink:
    """``take_part``: the VEN's opt-in rule. ``close()`` ends it (the capability's ``close``, also when the run
    fails); a link never closed is closed at interpreter exit."""

    def __init__(self, *, t0_s: int, outlets: list[str], take_part: Callable[[DrEvent], list[str]],
                 ven_name: str, timeout_s: float, poll_s: float):
        quiet_openleadr()
        self.t0_s, self.timeout_s = t0_s, timeout_s
        self._parts = parts = _Parts()
        self._loop = parts.loop
        self._closer = weakref.finalize(self, parts.close)

        async def start():
            parts.vtn = OperatorVtn(t0_s=t0_s, ven_name=ven_name, poll_s=poll_s)
            await parts.vtn.start()
            parts.ven = OutletsVen(t0_s=t0_s, ven_name=ven_name, vtn_url=parts.vtn.url, outlets=outlets,
                                   take_part=take_part)
            await parts.ven.start()

        try:
            self._loop.run(start(), timeout_s, "starting the VTN on 127.0.0.1 and registering the VEN",
                           mute_stdout=True)
        except BaseException:
            self.close()
            raise

    @property
    def vtn(self) -> OperatorVtn:
        return self._parts.vtn

    @property
    def ven(self) -> OutletsVen:
        return self._parts.ven

    def publish(self, ev: DrEvent) -> tuple[str, list[str]]:
        """The VTN publishes ``ev``; returns the VEN's opt and the outlets taking part, as the VEN decided them."""
        async def go():
            waiter = await self.vtn.publish(ev)
            self.ven.poll_now()
            return await waiter

        opt = self._loop.run(go(), self.timeout_s, f"DR event {ev.event_id}: the VEN's optIn/optOut at the VTN")
        if self.ven.errors:
            raise RuntimeError(f"OpenADR: the VEN failed on DR event {ev.event_id} (it answered {opt}): "
                               f"{self.ven.errors[0]}")
        got, ven_opt, outlets = self.ven.received[ev.event_id]
        if got != ev or ven_opt != opt:
            raise RuntimeError(f"OpenADR: DR event {ev.event_id}: the VTN sent {ev} and heard {opt!r}, the VEN read "
                               f"{got} and answered {ven_opt!r}")
        return opt, outlets

    def report(self, delays: list[Delay]) -> None:
        """The VEN reports ``delays``; returns once the VTN has received all their values."""
        if not delays:
            return

        async def go():
            expected = self.vtn.n_points + len(QUANTITIES) * len(delays)
            await self.ven.report(delays)
            while self.vtn.n_points < expected:
                await asyncio.sleep(POLL_WAIT_S)

        self._loop.run(go(), self.timeout_s, f"a report of {len(delays)} delays reaching the VTN")

    def delays_received(self) -> list[Delay]:
        """Every delay the VTN received, sorted by outlet and first minute."""
        return delays_from_points(self.vtn.points, self.t0_s)

    def close(self) -> None:
        """Stop the VEN, the VTN and the loop (idempotent)."""
        self._closer()
