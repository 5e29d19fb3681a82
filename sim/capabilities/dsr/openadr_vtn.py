"""The grid operator's OpenADR 2.0b VTN: openleadr's ``OpenADRServer`` on 127.0.0.1 (an ephemeral port), with the
operator's business logic as its handlers (openleadr's "external polling" mode, documented in its server guide):
it registers one VEN, hands each DR event to that VEN at its next poll (each event once), takes the VEN's
optIn/optOut (``oadrCreatedEvent``), requests the VEN's delay reports (``TELEMETRY_USAGE``, one report whenever
the VEN sends one: granularity 0) and keeps the delays they carry.

Plain HTTP with unsigned messages (openleadr's mode without certificates): for loopback tests and demos only; a
utility's VTN would use TLS and signed messages. Runs on an ``AsyncLoopThread``; the methods marked *loop* run there.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from functools import partial

from openleadr import OpenADRServer

from sim.capabilities.dsr.openadr_events import DrEvent, quantity_of, r_id, to_oadr

VTN_ID = "GRIDLEDGER-GRID-OPERATOR"
PATH = "/OpenADR2/Simple/2.0b"
HOST = "127.0.0.1"


class OperatorVtn:
    def __init__(self, *, t0_s: int, ven_name: str, poll_s: float):
        self.t0_s, self.ven_name = t0_s, ven_name
        self.ven_id = f"ven-{ven_name}"
        self.server = OpenADRServer(vtn_id=VTN_ID, http_host=HOST, http_port=0, http_path_prefix=PATH,
                                    requested_poll_freq=timedelta(seconds=poll_s), show_fingerprint=False)
        for name, handler in (("on_create_party_registration", self._register),
                              ("on_register_report", self._register_report),
                              ("on_poll", self._poll), ("on_request_event", self._request_event),
                              ("on_created_event", self._created_event)):
            self.server.add_handler(name, handler)
        self.port: int | None = None
        self.published: list[DrEvent] = []
        self.opts: dict[str, str] = {}  # OpenADR event id -> optIn / optOut
        self.points: dict[str, list] = {}  # r_id -> [(dtstart, value)] received
        self.n_points = 0
        self._queue: list = []
        self._opt_waiters: dict[str, asyncio.Future] = {}

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}{PATH}"

    # loop ------------------------------------------------------------------------------------------------
    async def start(self) -> None:
        await self.server.run()
        self.port = int(self.server.app_runner.addresses[0][1])

    async def stop(self) -> None:
        await self.server.stop()

    async def publish(self, ev: DrEvent) -> asyncio.Future:
        """Queue ``ev`` for the VEN; the future resolves to its opt (optIn / optOut)."""
        event = to_oadr(ev, self.t0_s, self.ven_id)
        waiter = asyncio.get_running_loop().create_future()
        self._opt_waiters[event.event_descriptor.event_id] = waiter
        self._queue.append(event)
        self.published.append(ev)
        return waiter

    # handlers (loop) -------------------------------------------------------------------------------------
    def _register(self, payload: dict):
        if payload.get("ven_name") != self.ven_name:
            return False
        return self.ven_id, f"reg-{self.ven_name}"

    def _register_report(self, ven_id, resource_id, measurement, unit, scale, min_sampling_interval,
                         max_sampling_interval):
        """Ask for every data point the VEN offers, sent whenever the VEN has one (granularity 0)."""
        quantity = quantity_of(measurement)
        if ven_id != self.ven_id or quantity is None:
            return None
        return partial(self._received, r_id(resource_id, quantity)), timedelta(0)

    def _received(self, rid: str, values: list) -> None:
        self.points.setdefault(rid, []).extend(values)
        self.n_points += len(values)

    def _poll(self, ven_id: str):
        if ven_id != self.ven_id or not self._queue:
            return None
        return self._queue.pop(0)

    def _request_event(self, ven_id: str):
        return None  # events go out by polls only, each once

    def _created_event(self, ven_id: str, event_id: str, opt_type: str) -> None:
        self.opts[event_id] = opt_type
        waiter = self._opt_waiters.pop(event_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(opt_type)
