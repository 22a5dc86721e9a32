"""greenswitch's protocol classes with their rough edges filed off.

greenswitch's reader greenlet dies on a frame it cannot parse, and when the
socket closes without a disconnect notice every pending wait blocks forever.
Here a bad frame or an EOF closes the connection and fails every pending wait
(OutboundSessionHasGoneAway / NotConnectedError), so one broken connection can
never hang a call greenlet or kill the daemon.
"""
import logging

from greenswitch.esl import (ESLEvent, InboundESL, NotConnectedError, OutboundSession,
                             OutboundSessionHasGoneAway)

log = logging.getLogger(__name__)

GONE = ESLEvent("Content-Type: text/disconnect-notice\n")


class _Hardened:
    def handle_event(self, event):
        try:
            super().handle_event(event)
        except Exception as exc:  # a malformed frame: drop this connection only
            log.warning("malformed ESL frame (%s: %s); closing the connection",
                        type(exc).__name__, exc)
            self._run = False
            self.connected = False
            try:
                self.sock.close()
            except OSError:
                pass

    def receive_events(self):
        try:
            super().receive_events()
        finally:
            self.connected = False
            self._run = False
            self._auth_request_event.set()  # let a waiting connect() see the failure
            self._fail_pending()

    def _fail_pending(self):
        for pending in self._commands_sent:
            if not pending.ready():
                pending.set_exception(self._gone_error())
        self._commands_sent.clear()

    def _gone_error(self):
        return NotConnectedError("event socket closed")


class HardenedInbound(_Hardened, InboundESL):
    """InboundESL whose waits end when the connection does."""

    def connect(self):
        super().connect()
        if not self.connected:
            raise NotConnectedError("FreeSWITCH closed the connection")


class HardenedSession(_Hardened, OutboundSession):
    """OutboundSession whose waits end when the connection does."""

    def _gone_error(self):
        return OutboundSessionHasGoneAway()

    def _fail_pending(self):
        super()._fail_pending()
        self.on_disconnect(GONE)
