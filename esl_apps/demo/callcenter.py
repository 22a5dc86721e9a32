"""mod_callcenter's state as the demo switch keeps it: agents, tiers and queues,
changed and listed with the same `callcenter_config` commands and reply texts as
the real module (the list replies' columns are those of FreeSWITCH 1.11.1; a test
compares them with tests/fixtures/esl/inbound_callcenter.jsonl).

Hotline's ACD service pushes its agents, tiers and queues here as it would to
the real switch, so the desk's state buttons change what the demo switch does:
`pick(queue)` offers a call only to an agent who is Available and Waiting, with
a tier in that queue (the longest idle first).
"""
import threading
import time

DOMAIN = "default"
AGENT_COLUMNS = ("name", "instance_id", "uuid", "type", "contact", "status", "state",
                 "max_no_answer", "wrap_up_time", "reject_delay_time", "busy_delay_time",
                 "no_answer_delay_time", "last_bridge_start", "last_bridge_end",
                 "last_offered_call", "last_status_change", "no_answer_count",
                 "calls_answered", "talk_time", "ready_time", "external_calls_count")
TIER_COLUMNS = ("queue", "agent", "state", "level", "position")
QUEUE_COLUMNS = ("name", "strategy", "moh_sound", "time_base_score", "tier_rules_apply",
                 "tier_rule_wait_second", "tier_rule_wait_multiply_level",
                 "tier_rule_no_agent_no_wait", "discard_abandoned_after",
                 "abandoned_resume_allowed", "max_wait_time", "max_wait_time_with_no_agent",
                 "max_wait_time_with_no_agent_time_reached", "record_template",
                 "calls_answered", "calls_abandoned", "ring_progressively_delay",
                 "skip_agents_with_external_calls", "agent_no_answer_status")
TIMES = ("max_no_answer", "wrap_up_time", "reject_delay_time", "busy_delay_time",
         "no_answer_delay_time")
OK = "+OK\n"
NO_AGENT = "-ERR Agent not found!\n"
NO_QUEUE = "-ERR Invalid Queue not found!\n"
USAGE = "-USAGE: callcenter_config ...\n"


def _table(columns, rows) -> str:
    lines = ["|".join(columns)] + ["|".join(str(row.get(c, "")) for c in columns)
                                   for row in rows]
    return "\n".join(lines) + "\n+OK\n"


def _unquote(words: list[str]) -> str:
    return " ".join(words).strip("'")


class Callcenter:
    def __init__(self, notify=None, clock=time.time):
        """notify(headers): a callcenter::info event for the switch to emit."""
        self.notify = notify or (lambda headers: None)
        self.clock = clock
        self.lock = threading.RLock()
        self.agents: dict[str, dict] = {}
        self.tiers: dict[tuple[str, str], dict] = {}
        self.queues: dict[str, dict] = {}
        self.changed = threading.Condition(self.lock)   # an agent's status or state moved

    # -- the API ------------------------------------------------------------
    def command(self, args: str) -> str:
        words = args.split()
        with self.lock:
            try:
                return self._command(words)
            except (IndexError, ValueError):
                return USAGE

    def _command(self, w: list[str]) -> str:
        area, action = w[0], w[1]
        if area == "agent":
            if action == "list":
                return _table(AGENT_COLUMNS, self.agents.values())
            if action == "add":
                self.agents.setdefault(w[2], self._new_agent(w[2], w[3]))
                return OK
            if action == "del":
                self.tiers = {k: v for k, v in self.tiers.items() if k[1] != w[2]}
                return OK if self.agents.pop(w[2], None) else NO_AGENT
            if action == "set":
                return self._agent_set(w[3], w[2], _unquote(w[4:]))
        elif area == "tier":
            if action == "list":
                return _table(TIER_COLUMNS, self.tiers.values())
            if action == "add":
                self.tiers[(w[2], w[3])] = {"queue": w[2], "agent": w[3], "state": "Ready",
                                            "level": int(w[4]), "position": int(w[5])}
                return OK
            if action == "set":
                tier = self.tiers.get((w[3], w[4]))
                if tier is None:
                    return "-ERR Tier not found!\n"
                tier[w[2]] = int(w[5])
                return OK
            if action == "del":
                return OK if self.tiers.pop((w[2], w[3]), None) else "-ERR Tier not found!\n"
        elif area == "queue":
            if action == "list":
                if len(w) > 2:   # queue list members NAME: no caller waits long here
                    return OK
                return _table(QUEUE_COLUMNS, self.queues.values())
            if action in ("load", "reload"):
                self.queues[w[2]] = {"name": w[2], "strategy": "longest-idle-agent",
                                     "moh_sound": "local_stream://moh", "time_base_score": "system"}
                return OK
        return USAGE

    def _new_agent(self, name: str, kind: str) -> dict:
        row = {c: "0" for c in AGENT_COLUMNS}
        row.update(name=name, instance_id="single_box", uuid="", type=kind, contact="",
                   status="Logged Out", state="Waiting", max_no_answer="3", wrap_up_time="10",
                   reject_delay_time="10", busy_delay_time="60", no_answer_delay_time="10")
        self._tell(name, "agent-add", **{"CC-Agent-Type": kind})
        return row

    def _agent_set(self, name: str, key: str, value: str) -> str:
        agent = self.agents.get(name)
        if agent is None:
            return NO_AGENT
        if key == "status":
            agent.update(status=value, last_status_change=str(int(self.clock())))
            self._tell(name, "agent-status-change", **{"CC-Agent-Status": value})
        elif key == "state":
            self.set_state(name, value)
        elif key == "contact":
            agent["contact"] = value
        elif key in TIMES:
            agent[key] = str(int(value))
        else:
            return USAGE
        self.changed.notify_all()
        return OK

    # -- calls --------------------------------------------------------------
    def set_state(self, name: str, state: str) -> None:
        with self.lock:
            self.agents[name]["state"] = state
            self._tell(name, "agent-state-change", **{"CC-Agent-State": state})
            self.changed.notify_all()

    def pick(self, queue: str) -> str | None:
        """An agent to offer a call of `queue` (NAME@default) to, now; else None.
        The agent is Receiving from then on."""
        with self.lock:
            now = self.clock()
            ready = [self.agents[a] for (q, a) in sorted(self.tiers)
                     if q == queue and a in self.agents and self._ready(self.agents[a], now)]
            if not ready:
                return None
            agent = min(ready, key=lambda a: int(a["last_bridge_end"] or 0))
            agent["last_offered_call"] = str(int(self.clock()))
            self.set_state(agent["name"], "Receiving")
            return agent["name"]

    @staticmethod
    def _ready(agent: dict, now: float) -> bool:
        wrapped_up = int(agent["last_bridge_end"]) + int(agent["wrap_up_time"]) <= now
        return agent["status"] == "Available" and agent["state"] == "Waiting" and wrapped_up

    def anyone_ready(self) -> bool:
        """Some agent with a tier could be offered a call now."""
        with self.lock:
            now = self.clock()
            return any(a in self.agents and self._ready(self.agents[a], now)
                       for (_q, a) in self.tiers)

    def wait_for_agent(self, queue: str, timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                name = self.pick(queue)
                left = deadline - time.monotonic()
                if name is not None or left <= 0:
                    return name
                self.changed.wait(min(left, 0.5))   # a wrap-up ends without a change

    def bridged(self, name: str) -> None:
        with self.lock:
            self.agents[name]["last_bridge_start"] = str(int(self.clock()))
            self.set_state(name, "In a queue call")

    def ended(self, name: str, talk_seconds: int) -> None:
        """The call is over: bridge-agent-end and Waiting at once, as mod_callcenter
        does; the agent is offered no call before wrap_up_time has passed."""
        with self.lock:
            agent = self.agents.get(name)
            if agent is None:
                return
            agent["last_bridge_end"] = str(int(self.clock()))
            agent["calls_answered"] = str(int(agent["calls_answered"]) + 1)
            agent["talk_time"] = str(int(agent["talk_time"]) + talk_seconds)
            self._tell(name, "bridge-agent-end")
            self.set_state(name, "Waiting")

    def _tell(self, name: str, action: str, **headers) -> None:
        self.notify({"Event-Name": "CUSTOM", "Event-Subclass": "callcenter::info",
                     "CC-Agent": name, "CC-Action": action, **headers})
