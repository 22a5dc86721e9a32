"""Re-render the two switch files that depend on agents and queues (the SIP
directory and callcenter.conf.xml) into the running switch's config tree, so a
new agent can register and a new or changed queue can be loaded with
`reloadxml` + `callcenter_config queue load|reload`, without a restart."""
import os
from pathlib import Path

from esl_apps.cli.switch_cmds import AGENT_FIELDS, QUEUE_FIELDS
from esl_apps.paths import data_dir
from esl_apps.switch_render import CONNECT_WATCHDOG, _context, _environment

FILES = ("directory/default.xml", "autoload_configs/callcenter.conf.xml")


def switch_rows(model, fields):
    return [{f: getattr(row, f) for f in fields} for row in model.select()]


class SwitchFiles:
    def __init__(self, config, conf_dir: Path, flow_queue_names=lambda: ()):
        self.config = config
        self.conf_dir = Path(conf_dir)
        self.flow_queue_names = flow_queue_names

    def render(self, agents: list[dict], queues: list[dict]) -> list[Path]:
        """agents/queues as `hotline switch render` reads them (AGENT_FIELDS, QUEUE_FIELDS)."""
        known = {q["name"] for q in queues}
        queues = list(queues) + [{"name": n, "max_wait_time": 300,
                                  "max_wait_time_with_no_agent": 30}
                                 for n in sorted(set(self.flow_queue_names()) - known)]
        context = _context(self.config, agents, [], queues, CONNECT_WATCHDOG)
        env = _environment(data_dir("freeswitch"))
        written = []
        for rel in FILES:
            out = self.conf_dir / rel
            if not out.parent.is_dir():
                continue  # no rendered tree here (tests, or the switch runs elsewhere)
            tmp = out.with_suffix(".xml.tmp")
            tmp.write_text(env.get_template(rel).render(context), encoding="utf-8")
            os.replace(tmp, out)
            written.append(out)
        return written

    def render_from_database(self) -> list[Path]:
        from db.models import Agent, Queue
        return self.render(switch_rows(Agent, AGENT_FIELDS), switch_rows(Queue, QUEUE_FIELDS))


__all__ = ["SwitchFiles", "AGENT_FIELDS", "QUEUE_FIELDS"]
