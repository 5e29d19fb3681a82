"""A background thread with its own asyncio loop, for openleadr's VTN and VEN (both asyncio) next to the twin's
synchronous step loop: the twin submits a coroutine and waits for its result, at most ``timeout_s`` wall seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import threading
from collections.abc import Coroutine
from typing import Any

STOP_WALL_S = 5.0  # bound on closing the loop and joining the thread [s]


class _KnownNoise(logging.Filter):
    """Drops openleadr's log records about two things it does by design here: no ``ven_lookup`` (one VEN, no
    TLS), and the report without intervals its VEN sends once when a report is requested with granularity 0,
    which openleadr 0.5.36's VTN answers with HTTP 500 (``KeyError: 'intervals'``) and its VEN logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        empty_report = ("KeyError: 'intervals'" in text
                        or (text.startswith("Non-OK status 500") and "oadrUpdateReport" in text
                            and "oadrReportPayload" not in text))
        return not (empty_report or "ven_lookup" in text)


_NOISE = _KnownNoise()


def quiet_openleadr() -> None:
    """openleadr logs every message at INFO (its client sets its logger to INFO on import): keep warnings, less
    the known noise (idempotent)."""
    log = logging.getLogger("openleadr")
    log.setLevel(logging.WARNING)
    if _NOISE not in log.filters:
        log.addFilter(_NOISE)


class AsyncLoopThread:
    def __init__(self, name: str):
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=name, daemon=True)
        self._thread.start()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def run(self, coro: Coroutine, timeout_s: float, what: str, *, mute_stdout: bool = False) -> Any:
        """Run ``coro`` on the loop and return its result; TimeoutError naming ``what`` after ``timeout_s``.
        ``mute_stdout``: swallow what it prints (openleadr's server prints a banner when it starts; stdout is the
        process's, so only for that)."""
        async def muted():
            with contextlib.redirect_stdout(io.StringIO()):
                return await coro

        future = asyncio.run_coroutine_threadsafe(muted() if mute_stdout else coro, self._loop)
        try:
            return future.result(timeout_s)
        except TimeoutError:
            future.cancel()
            raise TimeoutError(f"OpenADR: {what}: no result within {timeout_s:g} s") from None

    def stop(self) -> None:
        """Cancel what is left on the loop, stop it and join the thread (idempotent, bounded)."""
        if not self._thread.is_alive():
            return

        async def cancel_rest():
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(TimeoutError):
            asyncio.run_coroutine_threadsafe(cancel_rest(), self._loop).result(STOP_WALL_S)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=STOP_WALL_S)
        if not self._thread.is_alive():
            self._loop.close()
