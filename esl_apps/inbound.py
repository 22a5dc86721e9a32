"""The inbound event-socket client: API commands and the events Hotline uses.

It keeps one connection to FreeSWITCH and reconnects with backoff whenever the
switch goes away, so `hotline run` keeps serving while FreeSWITCH is down.
Handlers are registered once and re-attached on every new connection.
"""
import logging

import gevent
from gevent.event import Event
from greenswitch.esl import NotConnectedError

from esl_apps.hardened import HardenedInbound
from esl_apps.wire import check_command_line

log = logging.getLogger(__name__)

# Only what Hotline consumes: every event and log line is checked against every
# listener under one global lock inside FreeSWITCH, so asking for less is cheaper.
EVENTS = ("CHANNEL_CREATE", "CHANNEL_ANSWER", "CHANNEL_BRIDGE", "CHANNEL_HANGUP_COMPLETE",
          "CUSTOM", "callcenter::info")


class EslUnavailable(Exception):
    """No connection to FreeSWITCH right now, or it did not answer in time."""


class InboundClient:
    def __init__(self, host: str, port: int, password: str, events=EVENTS,
                 backoff_start: float = 0.05, backoff_max: float = 1.0,
                 connect_timeout: float = 3.0, command_timeout: float = 10.0):
        self.host, self.port, self.password = host, port, password
        self.events = tuple(events)
        self.backoff_start, self.backoff_max = backoff_start, backoff_max
        self.connect_timeout = connect_timeout
        self.command_timeout = command_timeout
        self.handlers: list[tuple[str, callable]] = []
        self.on_connect: list[callable] = []
        self.connected = Event()
        self.connections = 0
        self._esl = None
        self._stopping = False
        self._runner = None

    def on(self, name: str, handler) -> None:
        """Call handler(event) for events named `name` (Event-Name, or Event-Subclass)."""
        self.handlers.append((name, handler))
        if self._esl is not None:
            self._esl.register_handle(name, handler)

    def start(self) -> None:
        self._runner = gevent.spawn(self._run)

    def stop(self) -> None:
        self._stopping = True
        if self._runner is not None:
            self._runner.kill()
        esl = self._esl
        if esl is not None:
            try:
                with gevent.Timeout(1):
                    esl.send("exit")
            except Exception:
                pass
            self._close(esl)

    def wait_connected(self, timeout: float | None = None) -> bool:
        return self.connected.wait(timeout)

    def api(self, command: str, timeout: float | None = None) -> str:
        """Run an API command; its text reply. Raises EslUnavailable when disconnected."""
        return self._send("api " + check_command_line(command), timeout).data

    def bgapi(self, command: str) -> str:
        """Start a background API job; its Job-UUID (the result comes as BACKGROUND_JOB)."""
        reply = self._send("bgapi " + check_command_line(command), None)
        return reply.headers.get("Job-UUID", "")

    def _send(self, frame: str, timeout: float | None):
        esl = self._esl
        if esl is None or not self.connected.is_set():
            raise EslUnavailable(f"not connected to FreeSWITCH at {self.host}:{self.port}")
        try:
            with gevent.Timeout(timeout or self.command_timeout):
                return esl.send(frame)
        except gevent.Timeout:
            raise EslUnavailable(f"FreeSWITCH did not answer {frame.split()[1]!r} in time") from None
        except (NotConnectedError, OSError) as exc:
            raise EslUnavailable(f"connection to FreeSWITCH lost: {exc}") from None

    def _run(self) -> None:
        delay = self.backoff_start
        while not self._stopping:
            try:
                delay = self._connection(delay)
            except Exception:  # never let one bad connection end the reconnect loop
                log.exception("event-socket connection failed")
                self.connected.clear()
                self._esl = None
                gevent.sleep(delay)
                delay = min(delay * 2, self.backoff_max)

    def _connection(self, delay: float) -> float:
        """One connection's life; the backoff delay for the next attempt."""
        esl = HardenedInbound(self.host, self.port, self.password,
                              timeout=self.connect_timeout)
        try:
            with gevent.Timeout(self.connect_timeout):
                esl.connect()
                for name, handler in self.handlers:
                    esl.register_handle(name, handler)
                esl.send("event plain " + " ".join(self.events))
        except (gevent.Timeout, NotConnectedError, ValueError, OSError) as exc:
            self._close(esl)
            reason = "password refused" if isinstance(exc, ValueError) else (
                str(exc) or type(exc).__name__)
            log.debug("FreeSWITCH at %s:%s not reachable: %s", self.host, self.port, reason)
            gevent.sleep(delay)
            return min(delay * 2, self.backoff_max)
        self._esl = esl
        self.connections += 1
        self.connected.set()
        log.info("connected to FreeSWITCH at %s:%s", self.host, self.port)
        for callback in self.on_connect:
            gevent.spawn(callback)
        esl._receive_events_greenlet.join()
        self.connected.clear()
        self._esl = None
        self._close(esl)
        if not self._stopping:
            log.warning("lost FreeSWITCH at %s:%s; reconnecting", self.host, self.port)
        return self.backoff_start

    @staticmethod
    def _close(esl) -> None:
        esl._run = False
        for greenlet in (esl._receive_events_greenlet, esl._process_events_greenlet):
            if greenlet is not None and greenlet is not gevent.getcurrent():
                greenlet.kill(block=True, timeout=1)
        for name in ("sock_file", "sock"):
            handle = getattr(esl, name, None)
            if handle is not None:
                try:
                    handle.close()
                except OSError:
                    pass
