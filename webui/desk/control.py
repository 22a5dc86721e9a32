"""How the desk changes an agent's status: one small interface, injected through
the app config (``HOTLINE_AGENT_CONTROL``) by the composition root, so the panel
never opens an event-socket connection of its own.

``set_status(agent, status, reason)`` logs the change (source "hotline", as the
CLI does) and asks mod_callcenter for it; it returns None when the switch has it,
else a short sentence saying why not yet (the next reconcile pass pushes it).

``sync(render, reload_queues, unload_queues)`` is the admin pages' (agents, queues,
tiers): the database already has the change; the switch files are re-rendered
(SIP directory, callcenter.conf.xml) and reloaded, the named queues reloaded or
unloaded in mod_callcenter, then one reconcile pass pushes agents and tiers.
Same return value as set_status.
"""
import logging

from esl_apps.acd import commands as cc
from esl_apps.acd.store import Store
from esl_apps.inbound import EslUnavailable
from esl_apps.switch_render import RenderError

log = logging.getLogger(__name__)


class AgentControl:
    """Without a switch (a panel on its own): the change is logged in the database
    and `hotline run`'s reconcile pass pushes it to mod_callcenter."""

    def __init__(self, database):
        self.store = Store(database)

    def set_status(self, agent, status: str, reason: str = "") -> str | None:
        status = cc.status(status)
        reason = cc.reason(reason) if status == "On Break" else ""
        self.store.record(agent, status, self.store.last_state(agent), "hotline",
                          reason=reason)
        log.info("desk: agent %s status %s%s", agent.extension, status,
                 f" ({reason})" if reason else "")
        return self.push(agent)

    def push(self, agent) -> str | None:
        return "saved; pushed to the switch by the next reconcile pass"

    def sync(self, render: bool = False, reload_queues=(), unload_queues=()) -> str | None:
        return "saved; pushed to the switch by the next reconcile pass"


class AcdAgentControl(AgentControl):
    """Inside `hotline run`: one reconcile pass of the running ACD service right
    away, as `hotline agent ready` does."""

    def __init__(self, acd):
        super().__init__(acd.store.database)
        self.acd = acd

    def push(self, agent) -> str | None:
        heals = self.acd.reconcile()
        if heals is None:
            return "saved; the switch is not reachable, pushed when it is back"
        return None

    def sync(self, render: bool = False, reload_queues=(), unload_queues=()) -> str | None:
        """An admin change of agents, queues or tiers, pushed right away."""
        files = self.acd.reconciler.files
        try:
            if (render or reload_queues or unload_queues) and files is not None:
                files.render_from_database()   # local files: written even when the switch is down
        except (RenderError, OSError) as exc:
            log.error("admin: switch files not written: %s", exc)
            return f"saved, but the switch files could not be written: {exc}"
        try:
            if render or reload_queues or unload_queues:
                self._api("reloadxml")
            for name in unload_queues:
                self._api(f"callcenter_config queue unload {cc.cc_queue(name)}")
            for name in reload_queues:
                self._api(cc.queue_reload(name))
        except EslUnavailable as exc:
            log.info("admin: switch not reached: %s", exc)
            return "saved; the switch is not reachable, pushed when it is back"
        except (cc.SwitchRefused, cc.InvalidValue) as exc:
            log.error("admin: the switch refused a change: %s", exc)
            return f"saved, but FreeSWITCH refused it: {exc}"
        return self.push(None)

    def _api(self, command: str) -> str:
        return cc.check_ok(self.acd.esl.api(command), command)
