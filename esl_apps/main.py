"""The composition root of `hotline run`: builds every service from the config and
hands each its dependencies. Nothing else in the code base opens the database or
the event socket on its own."""
import logging
import signal

import gevent
from gevent.pywsgi import WSGIServer

from db.connect import bind, open_database
from esl_apps.probe import probe_event_socket
from webui import create_app

log = logging.getLogger(__name__)


class Services:
    def __init__(self, config):
        self.config = config
        self.db = bind(open_database(config.database_url))
        self.db.close()
        self.app = create_app({
            "SECRET_KEY": config.web.secret_key,
            "PERMANENT_SESSION_LIFETIME": config.web.session_minutes * 60,
            "HOTLINE_CONFIG": config,
        })
        self.web = WSGIServer((config.web.host, config.web.port), self.app,
                              log=logging.getLogger("webui.access"), error_log=log)
        self._stopping = gevent.event.Event()

    def start(self):
        self.web.start()
        log.info("web panel on http://%s:%s/", self.config.web.host, self.config.web.port)

    def freeswitch_status(self) -> str | None:
        fs = self.config.freeswitch
        try:
            probe_event_socket(fs.esl_host, fs.esl_port, fs.esl_password, timeout=2)
            return None
        except ConnectionError as exc:
            return (f"FreeSWITCH is not reachable at {fs.esl_host}:{fs.esl_port} ({exc}); "
                    "Hotline keeps running and connects when it comes up.")

    def stop(self):
        self._stopping.set()

    def serve_forever(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            gevent.signal_handler(sig, self.stop)
        self._stopping.wait()
        log.info("stopping")
        self.web.stop(timeout=5)
