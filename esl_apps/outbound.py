"""The outbound-socket server: FreeSWITCH connects here once per call
(`socket 127.0.0.1:PORT async full`) and each call runs in its own greenlet.

The app is picked by the channel variable `hotline_app` the dialplan set. When
there is no such app, or the app fails, the socket is closed without hanging up,
and the dialplan goes on to its fail-open route, so a caller is never dropped
because of a Python error.
"""
import logging

import gevent
from gevent.server import StreamServer
from greenswitch.esl import NotConnectedError, OutboundSessionHasGoneAway

from esl_apps.calllog import call_logger
from esl_apps.hardened import HardenedSession

log = logging.getLogger(__name__)


class OutboundServer:
    def __init__(self, host: str, port: int, apps: dict, max_calls: int = 1000,
                 connect_timeout: float = 10.0):
        self.apps = apps
        self.max_calls = max_calls
        self.connect_timeout = connect_timeout
        self.calls: set = set()
        self._server = StreamServer((host, port), self._handle)

    @property
    def port(self) -> int:
        return self._server.server_port

    def start(self):
        self._server.start()
        log.info("outbound socket server on %s:%s", *self._server.address[:2])

    def stop(self, timeout: float = 5.0):
        self._server.stop(timeout=timeout)

    def _handle(self, sock, address):
        session = HardenedSession(address, sock)
        current = gevent.getcurrent()
        self.calls.add(current)
        try:
            self._serve(session)
        finally:
            self.calls.discard(current)
            try:
                session.stop()
            except Exception:  # the socket may already be gone
                pass

    def _serve(self, session):
        try:
            with gevent.Timeout(self.connect_timeout):
                session.connect()
                session.myevents()
                session.linger()
        except (gevent.Timeout, OutboundSessionHasGoneAway, NotConnectedError, OSError):
            log.warning("outbound connection from %s failed during connect", session.sock)
            return
        calllog = call_logger("esl_apps.call", session.uuid)
        data = session.session_data or {}
        name = data.get("variable_hotline_app", "")
        if len(self.calls) > self.max_calls:
            calllog.warning("over %d calls at once; leaving the call to the dialplan fallback",
                            self.max_calls)
            return
        factory = self.apps.get(name)
        if factory is None:
            calllog.error("no app named %r; leaving the call to the dialplan fallback", name)
            return
        calllog.info("app %s for %s -> %s", name, data.get("Caller-Caller-ID-Number", ""),
                     data.get("Caller-Destination-Number", ""))
        try:
            # The dialplan armed a watchdog (sched_transfer to the fail-open route)
            # in case no app took the call; this one does. A call let go above keeps
            # it: dropping the socket right after connect can leave the call parked,
            # and only the watchdog gets it out then.
            session.call_command("sched_cancel")
            factory(session, calllog).run()
            calllog.info("app %s finished", name)
        except OutboundSessionHasGoneAway:
            calllog.info("caller hung up")
        except Exception:
            calllog.exception("app %s failed; the dialplan fallback takes the call", name)
