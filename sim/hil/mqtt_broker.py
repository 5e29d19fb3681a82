"""An MQTT broker embedded in the process: amqtt's ``Broker`` on 127.0.0.1, in a thread of its own.

For tests and the no-hardware demo (``gridledger devices simulate`` with MQTT devices): it listens on loopback only
(``port = 0``: an ephemeral port, read back from the listening socket), every wait is bounded (``START_TIMEOUT_S``,
``STOP_TIMEOUT_S`` wall seconds), and ``stop`` closes every session and the listening socket. ``stop`` then
``start`` again on the same port models a broker outage (clients see their connection dropped and refused).
Anonymous clients are allowed (a lab broker on loopback); amqtt's $SYS publisher is not loaded.
"""

from __future__ import annotations

import asyncio
import logging
import threading

LOOPBACK = "127.0.0.1"
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0


def quiet_amqtt() -> None:
    """amqtt logs every connection and packet at INFO or above; the bridge reports link faults itself."""
    for name in ("amqtt", "transitions"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


class EmbeddedBroker:
    """``EmbeddedBroker(port=0).start()`` -> listening on ``(LOOPBACK, self.port)``; ``stop()`` (idempotent)."""

    def __init__(self, port: int = 0, host: str = LOOPBACK):
        if host != LOOPBACK:
            raise ValueError(f"the embedded broker listens on {LOOPBACK} only, got {host!r}")
        quiet_amqtt()
        self.host, self.port = host, port
        self.starts = 0
        self._broker = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="gridledger-mqtt-broker", daemon=True)

    @property
    def running(self) -> bool:
        return self._broker is not None

    def _run(self, coro, timeout_s: float):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout_s)

    async def _start(self):
        from amqtt.broker import Broker

        class _Broker(Broker):
            """amqtt's broker that also keeps its clients' streams, so that ``stop`` can drop them (an outage)."""

            writers: set = set()

            async def stream_connected(self, reader, writer, listener_name):
                self.writers.add(writer)
                try:
                    await super().stream_connected(reader, writer, listener_name)
                finally:
                    self.writers.discard(writer)

        config = {"listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
                  "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}}}
        broker = _Broker(config, loop=self._loop)
        broker.writers = set()
        await broker.start()
        return broker

    def start(self) -> EmbeddedBroker:
        """Listen (again, on the same port after a ``stop``); raises RuntimeError when it cannot."""
        if self._broker is not None:
            return self
        if not self._thread.is_alive():
            self._thread.start()
        try:
            self._broker = self._run(self._start(), START_TIMEOUT_S)
        except Exception as exc:
            raise RuntimeError(f"MQTT broker cannot listen on {self.host}:{self.port}: {exc}") from None
        sockets = self._broker._servers["default"].instance.sockets  # amqtt keeps asyncio's server there
        self.port = sockets[0].getsockname()[1]
        self.starts += 1
        return self

    async def _kill(self, broker) -> None:
        """Drop every client connection, close the listener, then let amqtt shut down (bounded); tasks left over
        are cancelled: the broker is gone as if its process had died."""
        for writer in list(broker.writers):
            writer.transport.abort()
        for server in broker._servers.values():
            server.instance.close()
        try:
            await asyncio.wait_for(broker.shutdown(), STOP_TIMEOUT_S / 2)
        except Exception as exc:  # noqa: BLE001 - a half shut-down broker is cancelled below
            logging.getLogger("sim.hil").debug("MQTT broker shutdown: %r", exc)
        current = asyncio.current_task()
        left = [t for t in asyncio.all_tasks() if t is not current]
        for task in left:
            task.cancel()
        await asyncio.gather(*left, return_exceptions=True)

    def stop(self) -> None:
        """Drop every connection and close the listener (the thread stays, for a restart); bounded waits."""
        broker, self._broker = self._broker, None
        if broker is not None:
            self._run(self._kill(broker), STOP_TIMEOUT_S)

    def close(self) -> None:
        """``stop`` and end the thread."""
        self.stop()
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(STOP_TIMEOUT_S)
        if not self._thread.is_alive() and not self._loop.is_closed():
            self._loop.close()

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()
