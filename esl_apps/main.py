"""The composition root of `hotline run`: builds every service from the config and
hands each its dependencies. Nothing else in the code base opens the database or
the event socket on its own."""
import logging
import signal

import gevent
from gevent.event import Event
from gevent.pywsgi import WSGIServer

from db.connect import bind, open_database
from esl_apps.acd.render import SwitchFiles
from esl_apps.acd.service import AcdService
from esl_apps.apps import builtin_apps
from esl_apps.apps.ivr import IvrApp
from esl_apps.apps.sticky import StickyApp
from esl_apps.blacklist.service import BlacklistService
from esl_apps.inbound import InboundClient
from esl_apps.ivr.compile import runs_natively
from esl_apps.ivr.hours import Hours
from esl_apps.ivr.runtime import Runner
from esl_apps.ivr.service import IvrService
from esl_apps.jobs import build_scheduler
from esl_apps.ivr.services import IvrServices
from esl_apps.outbound import OutboundServer
from esl_apps.switch_render import flow_queues, flow_target, switch_dirs
from esl_apps.waiting.service import WaitingService
from webui import create_app
from webui.desk.call_control import CallControl
from webui.desk.control import AcdAgentControl
from webui.events import DeskEvents, PopHub

log = logging.getLogger(__name__)


class Services:
    def __init__(self, config):
        self.config = config
        fs = config.freeswitch
        self.db = bind(open_database(config.database_url))
        self.db.close()
        hours = Hours(self.db)
        self.app = create_app({
            "SECRET_KEY": config.web.secret_key,
            "PERMANENT_SESSION_LIFETIME": config.web.session_minutes * 60,
            "HOTLINE_CONFIG": config,
            "HOTLINE_POP_HUB": PopHub(),
            "HOTLINE_HOURS": hours,   # the hours page drops its cache after an edit
        })
        self.web = WSGIServer((config.web.host, config.web.port), self.app,
                              log=logging.getLogger("webui.access"), error_log=log)
        self.esl = InboundClient(fs.esl_host, fs.esl_port, fs.esl_password)
        dirs, native = config.dirs, config.ivr.mode == "native"
        ivr_services = IvrServices(database=self.db, hours=hours)
        target = flow_target(config)
        self.ivr = IvrService(config.flows_dir, dirs["prompts_dir"],
                              dirs["switch_conf_dir"] / "dialplan", target, self.esl, hours,
                              ivr_services, native=native,
                              reload_seconds=config.ivr.reload_seconds)
        runner = Runner(self.ivr.flowset, ivr_services, dirs["prompts_dir"],
                        handback=runs_natively if native else None)
        # the apps reach the waiting service (built below) only once calls arrive
        apps = dict(builtin_apps(),
                    ivr=lambda session, calllog: IvrApp(
                        session, calllog, runner=runner, target=target,
                        offer_first=self.waiting.offer_first),
                    sticky=lambda session, calllog: StickyApp(
                        session, calllog, offer_first=self.waiting.offer_first,
                        cc_domain=target.cc_domain))
        self.calls = OutboundServer(fs.socket_host, fs.socket_port, apps,
                                    max_calls=fs.max_sessions)
        self.jobs = build_scheduler(config, self.db)
        self.acd = AcdService(self.esl, self.db, fs.sip_ip,
                              files=SwitchFiles(config, dirs["switch_conf_dir"],
                                                lambda: flow_queues(self.ivr.flowset.flows)),
                              callcenter_db=switch_dirs(config)["db"] / "callcenter.db",
                              reconcile_seconds=config.acd.reconcile_seconds,
                              sticky_held=lambda queue, ext: self.waiting.holds_tier(queue, ext))
        # the desk: agent status through the ACD, screen pops from the agent legs' events
        self.app.config["HOTLINE_AGENT_CONTROL"] = AcdAgentControl(self.acd)
        self.app.config["HOTLINE_CALL_CONTROL"] = CallControl.from_config(self.esl, config)
        self.desk = DeskEvents(self.esl, self.app.config["HOTLINE_POP_HUB"], self.db,
                               region=config.locale.default_region)
        self.blacklist = BlacklistService(self.esl, self.db, dirs["prompts_dir"])
        self.app.config["HOTLINE_BLACKLIST"] = self.blacklist  # the panel pushes at once
        self.waiting = WaitingService(self.esl, self.db, dirs["prompts_dir"],
                                      region=config.locale.default_region)
        self._stopping = Event()

    def start(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            gevent.signal_handler(sig, self.stop)
        self.web.start()
        log.info("web panel on http://%s:%s/", self.config.web.host, self.config.web.port)
        self.calls.start()
        self.ivr.start()
        self.blacklist.start()
        self.acd.start()
        self.esl.start()
        self.waiting.start()
        self.jobs.start()

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
        self.jobs.shutdown(wait=False)
        self.waiting.stop()
        self.ivr.stop()
        self.blacklist.stop()
        self.acd.stop()
        self.esl.stop()
        self.calls.stop(timeout=5)
        self.web.stop(timeout=5)
