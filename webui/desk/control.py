"""How the desk changes an agent's status: one small interface, injected through
the app config (``HOTLINE_AGENT_CONTROL``) by the composition root, so the panel
never opens an event-socket connection of its own.

``set_status(agent, status, reason)`` logs the change (source "hotline", as the
CLI does) and asks mod_callcenter for it; it returns None when the switch has it,
else a short sentence saying why not yet (the next reconcile pass pushes it).
"""
import logging

from esl_apps.acd import commands as cc
from esl_apps.acd.store import Store

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
