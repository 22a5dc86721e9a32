"""What the ACD reads and writes in Hotline's database: the wanted agents, tiers
and queues, and the agent state log."""
from dataclasses import dataclass, field

from peewee import fn

from db.models import Agent, AgentStateLog, Queue, Tier, utcnow

# How a status and call state read for a person ("Wrap Up" is Hotline's own: logged
# at bridge-agent-end, see service.AgentEvents).
STATE_WORDS = {"Waiting": "", "Receiving": "Ringing", "In a queue call": "On Call",
               "Idle": "Idle (on demand)", "Reserved": "Reserved", "Wrap Up": "Wrap Up"}


def describe(status: str, state: str = "") -> str:
    """'Available', 'Available / Wrap Up', 'On Break', ..."""
    extra = STATE_WORDS.get(state, state) if status != "Logged Out" else ""
    return f"{status} / {extra}" if extra else status


def _flag(value) -> str:
    return "true" if value else "false"


def queue_settings(queue) -> dict:
    """A queue's settings as `callcenter_config queue list` shows them (the columns
    rendered into callcenter.conf.xml that a reload changes)."""
    return {"strategy": queue.strategy,
            "max_wait_time": str(queue.max_wait_time),
            "max_wait_time_with_no_agent": str(queue.max_wait_time_with_no_agent),
            "tier_rules_apply": _flag(queue.tier_rules_apply),
            "discard_abandoned_after": str(queue.discard_abandoned_after),
            "abandoned_resume_allowed": _flag(queue.abandoned_resume_allowed)}


@dataclass
class Desired:
    agents: dict = field(default_factory=dict)  # ext -> Agent
    tiers: dict = field(default_factory=dict)  # (queue, ext) -> (level, position)
    queues: dict = field(default_factory=dict)  # name -> {column of queue list: value}


class Store:
    def __init__(self, database):
        self.database = database

    def desired(self) -> Desired:
        with self.database.connection_context():
            want = Desired()
            want.agents = {a.extension: a for a in Agent.select()}
            want.queues = {q.name: queue_settings(q) for q in Queue.select()}
            for tier in (Tier.select(Tier, Queue.name, Agent.extension)
                         .join_from(Tier, Queue).join_from(Tier, Agent)):
                want.tiers[(tier.queue.name, tier.agent.extension)] = (tier.level, tier.position)
            return want

    def agent(self, ext: str):
        with self.database.connection_context():
            return Agent.get_or_none(Agent.extension == ext)

    def last_change(self, agent):
        with self.database.connection_context():
            return (AgentStateLog.select(fn.MAX(AgentStateLog.at))
                    .where(AgentStateLog.agent == agent).scalar())

    def last_entry(self, agent):
        with self.database.connection_context():
            return (AgentStateLog.select().where(AgentStateLog.agent == agent)
                    .order_by(AgentStateLog.at.desc(), AgentStateLog.id.desc()).first())

    def last_state(self, agent) -> str:
        row = self.last_entry(agent)
        return row.state if row else ""

    def changed_since(self, agent) -> bool:
        """The agent's row no longer holds the status this (stale) copy was read with:
        someone (a status button) changed it meanwhile."""
        with self.database.connection_context():
            now = Agent.get_or_none(Agent.id == agent.id)
            return now is None or now.state != agent.state or now.break_reason != agent.break_reason

    def record(self, agent, status: str, state: str, source: str, reason: str = "",
               at=None, if_unchanged: bool = False) -> AgentStateLog | None:
        """Log one change; the agent's row takes the status (and break reason).
        if_unchanged: compare-and-set, only while the row still holds the status
        `agent` was read with; None (nothing written) when it was changed meanwhile."""
        break_reason = reason if status == "On Break" else ""
        with self.database.connection_context(), self.database.atomic():
            if if_unchanged:
                updated = (Agent.update(state=status, break_reason=break_reason)
                           .where(Agent.id == agent.id, Agent.state == agent.state,
                                  Agent.break_reason == agent.break_reason).execute())
                if not updated:
                    return None
                agent.state, agent.break_reason = status, break_reason
            elif agent.state != status or (status == "On Break" and agent.break_reason != reason):
                agent.state, agent.break_reason = status, break_reason
                agent.save(only=[Agent.state, Agent.break_reason])
            return AgentStateLog.create(agent=agent, status=status, state=state or "",
                                        reason=reason or "", source=source, at=at or utcnow())
