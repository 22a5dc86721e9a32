"""The composition of demo mode (see esl_apps.demo): the demo switch, the demo
database, Hotline's services on a config pointed at both, and the sample caller."""
import logging
import secrets

from esl_apps.config import DatabaseConfig, PathsConfig
from esl_apps.demo.calls import SampleCaller, hours_clock
from esl_apps.demo.data import (
    DEMO_USER,
    demo_database_path,
    fresh_database,
    load_demo_rows,
)
from esl_apps.demo.switch import DemoSwitch
from esl_apps.ivr.hours import Hours
from esl_apps.ivr.loader import load_flows
from esl_apps.ivr.runtime import Runner
from esl_apps.ivr.services import IvrServices
from esl_apps.switch_render import flow_queues

log = logging.getLogger(__name__)


def demo_config(config, switch: DemoSwitch, cdr_password: str):
    """The config with the database, data directories, event socket, call socket
    and CDR password of demo mode; prompts and flows stay those of the config."""
    demo_dir = demo_database_path(config.paths.data_dir).parent
    paths = PathsConfig(data_dir=demo_dir, prompts_dir=config.dirs["prompts_dir"])
    fs = config.freeswitch.model_copy(update={
        "esl_host": "127.0.0.1", "esl_port": switch.port, "esl_password": switch.password,
        "socket_host": "127.0.0.1", "socket_port": 0, "cdr_password": cdr_password})
    return config.model_copy(update={
        "paths": paths, "freeswitch": fs,
        "database": DatabaseConfig(url=f"sqlite:///{demo_database_path(config.paths.data_dir)}")})


def web_base(config) -> str:
    host = config.web.host if config.web.host not in ("", "0.0.0.0", "::") else "127.0.0.1"
    return f"http://{host}:{config.web.port}"


class Demo:
    def __init__(self, config, talk_seconds: float = 20.0, pause_seconds: float = 10.0):
        from esl_apps.main import Services

        self.switch = DemoSwitch(secrets.token_hex(16)).start()
        self.config = demo_config(config, self.switch, secrets.token_hex(16))
        flows, _errors = load_flows(self.config.flows_dir,
                                    prompts_dir=self.config.dirs["prompts_dir"])
        db = fresh_database(demo_database_path(config.paths.data_dir))
        self.user, self.password = DEMO_USER, load_demo_rows(db, flow_queues(flows))
        db.close()
        self.services = Services(self.config)
        self.services.app.config["HOTLINE_DEMO"] = True
        database = self.services.db
        ivr = IvrServices(database=database, hours=Hours(database),
                          clock=hours_clock(self.config.locale.timezone))
        flowset = self.services.ivr.flowset
        self.caller = SampleCaller(
            self.switch, Runner(flowset, ivr, self.config.dirs["prompts_dir"]), flowset,
            web_base(self.config) + "/api/cdr", self.config.freeswitch.cdr_password,
            talk_seconds=talk_seconds, pause_seconds=pause_seconds)

    def start(self):
        self.services.start()
        self.caller.start()
        log.info("demo mode: demo switch on 127.0.0.1:%s, database %s", self.switch.port,
                 self.config.database_url)
        return self

    def serve_forever(self):
        try:
            self.services.serve_forever()
        finally:
            self.caller.stop()
            self.switch.stop()
