"""Running a flow on a call: follow the nodes, verb by verb, outcome by outcome.

The Runner knows nothing about sockets: it drives a `Call` (the switch over the
event socket, the terminal simulator, or a test double), and each verb's `run`
method does its work through the `Step` it is given and returns an outcome.

A call that reaches an outcome the node does not map, or `return` from the top
flow, or an error in Python, leaves the flow as `fallback`: the caller goes to
the dialplan's fail-open route (a queue), never to a dead line.
"""
import logging
from dataclasses import dataclass, field
from pathlib import Path

from esl_apps.ivr import calldata
from esl_apps.ivr.verbs.base import RETURN
from esl_apps.prompts.paths import builtin_path, prompt_path

log = logging.getLogger(__name__)

PATH_SEP = " "
MAX_STEPS = 500  # a caller looping through menus for hours still ends somewhere


@dataclass
class Audio:
    """A sound for the caller: the file the switch plays, and what it says."""
    path: str
    label: str


@dataclass
class Result:
    end: str                    # hangup | queue | transfer | voicemail | fallback | handback
    path: list = field(default_factory=list)    # ["flow:node", ...]
    data: dict = field(default_factory=dict)
    detail: str = ""


class Leave(Exception):
    """A verb ends the flow's control of the call (hangup, queue, transfer...)."""

    def __init__(self, end: str, detail: str = ""):
        super().__init__(end)
        self.end = end
        self.detail = detail


class Step:
    """What a verb sees while it runs: the call, its data, prompts and services."""

    def __init__(self, runner, call, flow, node_name, state):
        self.runner = runner
        self.call = call
        self.flow = flow
        self.node_name = node_name
        self.state = state
        self.services = runner.services
        self.log = call.log

    @property
    def language(self) -> str:
        return self.state.language

    @property
    def data(self) -> dict:
        return self.state.data

    def expand(self, text: str) -> str:
        return calldata.expand(text, self.state.data)

    def set_data(self, key: str, value) -> None:
        value = calldata.clean(value)
        self.state.data[key] = value
        name = calldata.var_name(key)
        self.call.set_var(name, value)
        exports = self.state.exports
        if name not in exports:   # mod_callcenter copies these to the agent's leg
            exports.append(name)
            self.call.set_var(calldata.EXPORTS, ",".join(exports))

    def audio(self, prompt) -> Audio | None:
        if prompt is None:
            return None
        return self.runner.audio(prompt, self.language, self.flow)

    def play(self, prompt) -> None:
        audio = self.audio(prompt)
        if audio is not None:
            self.call.play(audio)

    def builtin(self, name: str, label: str) -> Audio:
        return self.runner.builtin(name, self.language, label)

    def set_language(self, language: str) -> None:
        self.state.language = language
        self.call.set_var("hotline_language", language)

    def leave(self, end: str, detail: str = ""):
        raise Leave(end, detail)


@dataclass
class State:
    language: str
    data: dict
    path: list = field(default_factory=list)
    stack: list = field(default_factory=list)   # (flow, node) to go back to on `return`
    exports: list = field(default_factory=list)  # the call's cc_export_vars


class Runner:
    """Walks flows. `handback(flow, node)` says whether the switch should run a
    node natively instead (see esl_apps.ivr.compile); None runs every node here."""

    def __init__(self, flows, services, prompts_dir: Path | None, handback=None):
        self.flows = flows
        self.services = services
        self.prompts_dir = Path(prompts_dir) if prompts_dir else None
        self.handback = handback

    # prompts ---------------------------------------------------------------
    def audio(self, prompt, language, flow) -> Audio:
        if prompt.text is not None:
            label = getattr(prompt.text, language) or prompt.text.zh or prompt.text.en
        else:
            label = f"<{prompt.file}>"
        flow_dir = flow.path.parent if flow.path else Path(".")
        return Audio(str(prompt_path(prompt, language, flow_dir, self.prompts_dir)), label)

    def builtin(self, name, language, label) -> Audio:
        return Audio(str(builtin_path(self.prompts_dir, language, name)), label)

    # the walk --------------------------------------------------------------
    def run(self, call, flow_name: str, node: str | None = None, *, language=None,
            data=None, stack=None, path=None, exports=None) -> Result:
        flow = self.flows.get(flow_name)
        if flow is None:
            call.log.error("flow %s is not loaded; fallback", flow_name)
            return Result("fallback", detail=f"no flow {flow_name}")
        state = State(language or flow.language, dict(data or {}), list(path or []),
                      list(stack or []),
                      list(calldata.BASE_EXPORTS if exports is None else exports))
        name, first = node or flow.entry, True
        if state.path and state.path[-1] == f"{flow.name}:{name}":
            state.path.pop()  # the dialplan counted the node it handed over
        try:
            for _ in range(MAX_STEPS):
                if not first and self.handback and self.handback(flow, name):
                    call.handback(flow, name, state.language)
                    return self._result("handback", state, f"{flow.name}:{name}")
                flow, name = self._step(call, flow, name, state)
                first = False
                if name is None:
                    return self._result("fallback", state)
            call.log.warning("flow %s ran %d steps; fallback", flow_name, MAX_STEPS)
            return self._result("fallback", state, "too many steps")
        except Leave as leave:
            return self._result(leave.end, state, leave.detail)

    def _step(self, call, flow, name, state):
        """Run one node; return the (flow, node) to go to, node None for fallback."""
        node = flow.nodes[name]
        state.path.append(f"{flow.name}:{name}")
        call.set_var("hotline_path", PATH_SEP.join(state.path))
        step = Step(self, call, flow, name, state)
        if node.verb == "subflow":
            state.stack.append((flow.name, name))
            sub = self.flows.get(node.flow)
            if sub is None:
                call.log.error("subflow %s is not loaded", node.flow)
                return self._follow(call, flow, name, "error", state)
            return sub, sub.entry
        if node.verb == "transfer" and node.to == "flow":
            target = self.flows.get(node.target)
            if target is None:
                return self._follow(call, flow, name, "error", state)
            state.stack.clear()
            return target, target.entry
        try:
            outcome = node.run(step)
        except Leave:
            raise
        except call.Gone:
            raise Leave("hangup", "caller hung up")
        except Exception:
            call.log.exception("node %s:%s (%s) failed", flow.name, name, node.verb)
            outcome = "error"
        call.log.info("%s:%s %s -> %s", flow.name, name, node.verb, outcome)
        return self._follow(call, flow, name, outcome, state)

    def _follow(self, call, flow, name, outcome, state):
        target = flow.nodes[name].next.get(outcome)
        if target is None:
            call.log.warning("node %s:%s has no transition for %r; fallback",
                             flow.name, name, outcome)
            return flow, None
        while target == RETURN:
            if not state.stack and self.handback:
                # the switch keeps the subflow's way back: let it take it
                call.handback(flow, RETURN, state.language)
                raise Leave("handback", f"{flow.name}:{RETURN}")
            if not state.stack:
                call.log.info("flow %s returned at the top; fallback", flow.name)
                return flow, None
            parent_name, sub_node = state.stack.pop()
            flow = self.flows.get(parent_name)
            if flow is None:
                return flow, None
            target = flow.nodes[sub_node].next.get("done")
            if target is None:
                return flow, None
        return flow, target

    def _result(self, end, state, detail=""):
        return Result(end, state.path, state.data, detail)
