"""The work-order workflow: states and the transitions each role may make.

The definition is JSON, kept in WorkOrderWorkflow.definition and edited by an
admin; it is checked whole before it replaces the working one (check()):

    {"initial": "dispatched",
     "states": [{"code": "dispatched", "zh": "已派工", "en": "Dispatched"},
                {"code": "repairing", "zh": "维修中", "en": "Repairing", "responded": true},
                ...],
     "transitions": [{"from": "dispatched", "to": "repairing", "roles": ["field"],
                      "zh": "开始维修", "en": "Start repair"}, ...]}

State flags say what entering the state means for the order:
- responded: the response deadline is met (the first time);
- resolved: the resolution deadline is met (the first time);
- revisit: a revisit task is made (回访);
- final: the order is closed.
A transition with "redispatch": true reopens the order: a new round of SLA
deadlines from that moment, and a dispatch notification.
"""
import re
from collections import deque
from dataclasses import dataclass, field

from db.models import ROLES

CODE_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
STATE_FLAGS = ("responded", "resolved", "revisit", "final")


class WorkflowError(ValueError):
    """The definition is not a usable workflow; the message lists every problem."""


@dataclass(frozen=True)
class State:
    code: str
    zh: str
    en: str
    flags: frozenset = frozenset()

    def label(self, language: str) -> str:
        return self.zh if language.startswith("zh") else self.en


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    roles: frozenset
    zh: str
    en: str
    redispatch: bool = False

    def label(self, language: str) -> str:
        return self.zh if language.startswith("zh") else self.en


@dataclass
class Workflow:
    initial: str
    states: dict[str, State]
    transitions: list[Transition] = field(default_factory=list)

    @classmethod
    def from_definition(cls, definition) -> "Workflow":
        problems = check(definition)
        if problems:
            raise WorkflowError("; ".join(problems))
        states = {}
        for item in definition["states"]:
            flags = frozenset(f for f in STATE_FLAGS if item.get(f))
            states[item["code"]] = State(item["code"], item["zh"], item["en"], flags)
        transitions = [Transition(t["from"], t["to"], frozenset(t["roles"]), t["zh"], t["en"],
                                  bool(t.get("redispatch")))
                       for t in definition["transitions"]]
        return cls(definition["initial"], states, transitions)

    def state(self, code: str) -> State | None:
        return self.states.get(code)

    def label(self, code: str, language: str) -> str:
        state = self.states.get(code)
        return state.label(language) if state else code

    def has(self, code: str, flag: str) -> bool:
        state = self.states.get(code)
        return state is not None and flag in state.flags

    def allowed(self, source: str, role: str) -> list[Transition]:
        """The transitions out of `source` that `role` may make, in definition order."""
        return [t for t in self.transitions if t.source == source and role in t.roles]

    def find(self, source: str, target: str, role: str) -> Transition | None:
        for t in self.allowed(source, role):
            if t.target == target:
                return t
        return None

    def path(self, source: str, role: str, goal) -> list[Transition] | None:
        """The shortest run of transitions `role` may make from `source` whose last
        step satisfies goal(transition); None when there is none."""
        seen = {source}
        queue = deque([(source, [])])
        while queue:
            state, steps = queue.popleft()
            for t in self.allowed(state, role):
                run = steps + [t]
                if goal(t):
                    return run
                if t.target not in seen:
                    seen.add(t.target)
                    queue.append((t.target, run))
        return None

    def final_states(self) -> list[str]:
        return [code for code, s in self.states.items() if "final" in s.flags]

    def open_states(self) -> list[str]:
        return [code for code, s in self.states.items() if "final" not in s.flags]


def _text(value) -> bool:
    return isinstance(value, str) and 0 < len(value.strip()) <= 64


def check(definition) -> list[str]:
    """Every problem of a workflow definition (empty: it is usable)."""
    if not isinstance(definition, dict):
        return ["the workflow must be a JSON object"]
    problems = []
    states = definition.get("states")
    transitions = definition.get("transitions")
    if not isinstance(states, list) or not states:
        return ["'states' must be a non-empty list"]
    if not isinstance(transitions, list):
        return ["'transitions' must be a list"]
    codes = []
    for n, item in enumerate(states, 1):
        if not isinstance(item, dict):
            problems.append(f"state {n}: must be an object")
            continue
        code = item.get("code")
        if not isinstance(code, str) or not CODE_RE.match(code):
            problems.append(f"state {n}: code {code!r} must be a-z, 0-9 and _, "
                            "starting with a letter (at most 32)")
            continue
        if code in codes:
            problems.append(f"state {code}: defined twice")
        codes.append(code)
        for lang in ("zh", "en"):
            if not _text(item.get(lang)):
                problems.append(f"state {code}: needs a name in '{lang}' (1 to 64 characters)")
        unknown = set(item) - {"code", "zh", "en", *STATE_FLAGS}
        if unknown:
            problems.append(f"state {code}: unknown keys {sorted(unknown)}")
    initial = definition.get("initial")
    if initial not in codes:
        problems.append(f"initial state {initial!r} is not one of the states")
    finals = [s.get("code") for s in states if isinstance(s, dict) and s.get("final")]
    if not finals:
        problems.append("no state is marked final (closed)")
    edges: dict[str, set] = {}
    for n, t in enumerate(transitions, 1):
        if not isinstance(t, dict):
            problems.append(f"transition {n}: must be an object")
            continue
        source, target = t.get("from"), t.get("to")
        name = f"transition {n} ({source} -> {target})"
        if source not in codes:
            problems.append(f"{name}: 'from' is not one of the states")
        if target not in codes:
            problems.append(f"{name}: 'to' is not one of the states")
        roles = t.get("roles")
        if not isinstance(roles, list) or not roles:
            problems.append(f"{name}: 'roles' must list at least one role")
        else:
            bad = [r for r in roles if r not in ROLES]
            if bad:
                problems.append(f"{name}: unknown roles {bad} (roles: {', '.join(ROLES)})")
        for lang in ("zh", "en"):
            if not _text(t.get(lang)):
                problems.append(f"{name}: needs a label in '{lang}' (1 to 64 characters)")
        unknown = set(t) - {"from", "to", "roles", "zh", "en", "redispatch"}
        if unknown:
            problems.append(f"{name}: unknown keys {sorted(unknown)}")
        edges.setdefault(source, set()).add(target)
    if problems:
        return problems
    reached, todo = {initial}, [initial]
    while todo:
        for target in edges.get(todo.pop(), ()):
            if target not in reached:
                reached.add(target)
                todo.append(target)
    for code in codes:
        if code not in reached:
            problems.append(f"state {code}: cannot be reached from {initial}")
    for s in states:
        if not s.get("final") and not edges.get(s["code"]):
            problems.append(f"state {s['code']}: not final and no transition leaves it")
    return problems
