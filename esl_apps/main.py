"""The composition root of `hotline run`: builds every service from the config and
hands each its dependencies. Nothing else in the code base opens the database or
the event socket on its own."""
import logging
import signal

import gevent
from gevent.event import Event
from gevent.pywsgi import WSGIServer

from db.connect import bind, open_database
from esl_apps.apps import builtin_apps
from esl_apps.inbound import InboundClient
from esl_apps.outbound import OutboundServer
from webui import create_app

log = logging.getLogger(__name__)


class Services:
    def __init__(self, config):
        self.config = config
        fs = config.freeswitch
        self.db = bind(open_database(config.database_url))
        self.db.close()
        self.app = create_app({
            "SECRET_KEY": config.web.secret_key,
            "PERMANENT_SESSION_LIFETIME": config.web.session_minutes * 60,
            "HOTLINE_CONFIG": config,
        })
        self.web = WSGIServer((config.web.host, config.web.port), self.app,
                              log=logging.getLogger("webui.access"), error_log=log)
        self.esl = InboundClient(fs.esl_host, fs.esl_port, fs.esl_password)
        self.calls = OutboundServer(fs.socket_host, fs.socket_port, builtin_apps(),
                                    max_calls=fs.max_sessions)
        self._stopping = Event()

    def start(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            gevent.signal_handler(sig, self.stop)
        self.web.start()
        log.info("web panel on http://%s:%s/", self.config.web.host, self.config.web.port)
        self.calls.start()
        self.esl.start()

    def freeswitch_status(self, wait: float = 2.0) -> str | None:
        """None when connected, else a sentence for the person who started Hotline."""
        if self.esl.wait_connected(wait):
            return None
        fs = self.config.freeswitch
        return (f"FreeSWITCH is not reachable at {fs.esl_host}:{fs.esl_port}; "
                "Hotline keeps running and connects as soon as it comes up.")

    def stop(self):
        self._stopping.set()

    def serve_forever(self):
        self._stopping.wait()
        log.info("stopping")
        self.esl.stop()
        self.calls.stop(timeout=5)
        self.web.stop(timeout=5)
