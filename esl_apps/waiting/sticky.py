"""Sticky agent: a caller who spoke to an agent of a queue in the last N days
(Queue.sticky_agent_days) is offered to that agent first.

mod_callcenter has no preferred-agent option. Every strategy orders the agents it
may offer a member to by tier level first (then position, idle time, ...), so
Hotline gives the sticky agent's tier of that queue level 0, below every tier
Hotline writes (levels start at 1), for as long as it takes mod_callcenter to
offer the member to someone (agent-offering), the member to leave, or
STICKY_SECONDS, whichever comes first; then the tier's own level is put back and
the queue's strategy decides as usual (the sticky agent not answering is
mod_callcenter's ordinary no-answer path).

The level is changed without asking the agent's status first: mod_callcenter only
ever offers a member to an agent that is Available and Waiting (idle), so a
sticky agent on a call or on break is simply passed over and the queue's strategy
picks another; asking first would only widen the race below. The tier's own level
comes from Hotline's Tier table (what the ACD pushes), so one API command is sent.
When the agent is idle and the caller joins, nobody else of that queue is waiting
for an agent (an idle agent would have taken them), so the level-0 tier in
practice only serves this caller.

Known limit: mod_callcenter inserts the member before it fires member-queue-start,
and its dispatch thread looks at waiting members every 100 ms, so a dispatch can
offer the caller to another agent before the level is changed. That case is seen
(agent-offering to another agent first) and logged as missed."""
import datetime
import re

from db.models import Agent, CallRecord, Queue, Tier
from db.phone import PhoneNumberError, to_e164

STICKY_SECONDS = 10.0
STICKY_LEVEL = 0
AGENT_RE = re.compile(r"^[0-9]{2,16}@[A-Za-z0-9_.-]{1,64}$")
QUEUE_RE = re.compile(r"^[A-Za-z0-9_.+-]{1,64}@[A-Za-z0-9_.-]{1,64}$")
IDLE_STATUSES = ("Available", "Available (On Demand)")


def caller_key(raw: str, region: str) -> str | None:
    try:
        return to_e164(raw, region)
    except (PhoneNumberError, ValueError, TypeError):
        return None


def last_agent(caller_e164: str, queue: str, days: int, now: datetime.datetime) -> str | None:
    """The extension of the agent who last answered this caller in `queue` (Hotline's
    queue name, without @domain) within `days` days; None when there is none."""
    if not caller_e164 or not days or days <= 0:
        return None
    since = now - datetime.timedelta(days=int(days))
    row = (CallRecord.select(Agent.extension).join(Agent)
           .where(CallRecord.caller_e164 == caller_e164, CallRecord.queue == queue,
                  CallRecord.start_at >= since, CallRecord.agent.is_null(False))
           .order_by(CallRecord.start_at.desc()).limit(1).tuples().first())
    return row[0] if row else None


def sticky_tier(caller_e164: str, queue: str, days: int,
                now: datetime.datetime) -> tuple[str, int] | None:
    """(extension, its tier level in `queue`) of the caller's last agent, when that
    agent still serves the queue."""
    ext = last_agent(caller_e164, queue, days, now)
    if ext is None:
        return None
    row = (Tier.select(Tier.level).join(Queue).switch(Tier).join(Agent)
           .where(Queue.name == queue, Agent.extension == ext).tuples().first())
    return (ext, row[0]) if row else None


def should_offer(status: str, state: str) -> bool:
    """Offer first only to an agent that is logged in as available and idle."""
    return status.strip() in IDLE_STATUSES and state.strip() == "Waiting"


def tier_levels(tier_list: str, queue: str) -> dict[str, int]:
    """{agent: level} of `queue` from `callcenter_config tier list` output."""
    lines = [line for line in tier_list.splitlines() if "|" in line]
    if not lines:
        return {}
    head = lines[0].split("|")
    try:
        iq, ia, il = head.index("queue"), head.index("agent"), head.index("level")
    except ValueError:
        return {}
    levels = {}
    for line in lines[1:]:
        cols = line.split("|")
        if len(cols) == len(head) and cols[iq] == queue and cols[il].lstrip("-").isdigit():
            levels[cols[ia]] = int(cols[il])
    return levels


def set_level_command(queue: str, agent: str, level: int) -> str:
    if not QUEUE_RE.match(queue) or not AGENT_RE.match(agent):
        raise ValueError(f"not a queue/agent name: {queue!r} {agent!r}")
    return f"callcenter_config tier set level {queue} {agent} {int(level)}"
