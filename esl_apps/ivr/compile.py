"""Flows as FreeSWITCH dialplan: the switch runs every node it can by itself.

A socket per call costs FreeSWITCH a thread, a copy of every event and the
channel dump on connect (see ../shared/FIELD-NOTES.md); run natively, a menu
costs what a hand-written dialplan menu does. So each flow is compiled into one
dialplan context per language, an extension per node, and only the nodes that
need Python (lookups) hand the call to the socket app, which sends it back to
the next node when it is done. The YAML stays the one source of truth: this is
generated from the loaded, validated flows, and `esl_apps.ivr.runtime` runs the
very same nodes (the simulator, socket mode, lookups) with the same semantics:
both read digits through play_and_get_digits and the same regexes.

Names:
    context hotline_flows     extension flow_<name>: a DID's way into a flow
    context hl_<flow>_<version>_<language>
        n_<node>              run the node
        r_return              go back to the node after the subflow call
A context's version is a hash of the flow, so a call keeps the version it
started with when the file changes; old versions stay an hour for such calls.

A `transfer` costs the switch a dialplan hunt and a new caller profile, which
the call record then carries (measured: five of them made a 3-node menu cost
1.5x the switch CPU of the same menu written by hand). So where an action list
ends by going to a node whose extension has no conditions of its own, that
node's actions are copied in instead (up to INLINE_DEPTH nodes of the same
context, never around a loop); every node keeps its own extension for the calls
that land on it. A DID's extension copies in the entry node's chain the same way.

Every application run, inline sets included, fires two events that copy all of
the channel's variables; runs of sets therefore go out as one multiset where that
stores the same (esl_apps/ivr/sets.py).
"""
import copy
import hashlib
import logging
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from esl_apps.ivr import calldata, sets
from esl_apps.ivr.digits import menu_regex
from esl_apps.ivr.verbs import VERBS
from esl_apps.ivr.verbs.base import DIGIT_KEYS, RETURN
from esl_apps.ivr.verbs.say import LITERAL
from esl_apps.prompts.paths import builtin_path, prompt_path, say_dir

log = logging.getLogger(__name__)

ENTRY_CONTEXT = "hotline_flows"
FALLBACK = "hotline_fallback XML fallback"
LANGUAGES = ("zh", "en")
KEEP_OLD_SECONDS = 3600
INLINE_DEPTH = 12
INVALID_SILENCE = "silence_stream://250"
INPUT_VAR = "hotline_input"
AFTER_AGENT_VAR = "hotline_after_agent"
BEEP = "tone_stream://%(500,0,800)"
SAY = {"number": "NUMBER PRONOUNCED", "money": "CURRENCY PRONOUNCED",
       "digits": "NUMBER ITERATED", "date": "CURRENT_DATE PRONOUNCED"}
SAY_MODULE = {"zh": "zh_CN", "en": "en"}
# values that reach the dialplan: one line, and no $${...} (the preprocessor's);
# a ${...} is always one of our call-data refs (checked when the flow loads)
_UNSAFE = re.compile(r"[\x00-\x1f]|\$\$\{")


class CompileError(ValueError):
    pass


@dataclass
class Target:
    """Where compiled flows run: paths and addresses from the config."""
    prompts_dir: Path
    recordings_dir: Path
    socket_host: str = "127.0.0.1"
    socket_port: int = 8084
    domain: str = "127.0.0.1"
    cc_domain: str = "default"
    outbound_gateway: str = ""
    connect_watchdog: int = 30
    mode: str = "native"   # or "socket": the socket app runs every node
    inline_depth: int = INLINE_DEPTH   # nodes copied in place of a transfer (0: none)


def version(flow) -> str:
    return hashlib.sha256(flow.model_dump_json().encode()).hexdigest()[:8]


def context_name(flow_name: str, flow_version: str, language: str) -> str:
    return f"hl_{flow_name}_{flow_version}_{language}"


def runs_natively(flow, node_name) -> bool:
    """The runtime's handback test: may the switch run this node itself?"""
    return getattr(VERBS[flow.nodes[node_name].verb], "NATIVE", True)


def say_args(language: str, kind: str, value: str) -> str:
    """The `say` application's data; a date is spoken from its epoch. Chinese uses
    mod_say_zh's zh_CN interface: its money is 元/角/分 (plain zh reads 12.5 as 5 分)."""
    if kind == "date":
        value = "${strepoch(" + value + " 12:00:00)}"
    return f"{SAY_MODULE[language]} {SAY[kind]} {value}"


def queue_result(cc_cause: str, cc_cancel_reason: str) -> str:
    """The queue verb's outcome from what mod_callcenter left on the caller's channel."""
    if cc_cause == "answered":
        return "answered"
    return "callback" if cc_cancel_reason == "EXIT_WITH_KEY" else "timeout"


def export(name: str) -> tuple[str, str]:
    """The action that adds a variable to those copied to the agent's leg."""
    return "set", f"{calldata.EXPORTS}=${{{calldata.EXPORTS}}},{name}"


def pagd_args(maximum, tries, timeout, terminators, prompt, invalid, regex) -> str:
    """play_and_get_digits: min max tries timeout terminators prompt invalid var
    regex digit-timeout. The length is in the regex (see esl_apps.ivr.digits)."""
    ms = str(int(timeout * 1000))
    return " ".join(["1", str(maximum), str(tries), ms, terminators or "none", prompt,
                     invalid or INVALID_SILENCE, INPUT_VAR, regex, ms])


def voicemail_file(target: Target, box: str) -> str:
    return f"{target.recordings_dir}/voicemail/{box}/${{strftime(%Y%m%d-%H%M%S)}}-${{uuid}}.wav"


def _safe(value: str, what: str) -> str:
    if _UNSAFE.search(value):
        raise CompileError(f"{what}: {value!r} cannot go into the dialplan "
                           "(a control character or $${)")
    return value


class _Extension:
    def __init__(self, name):
        self.name = name
        self.conditions = []   # (field, expression)
        self.actions = []      # (app, data)
        self.anti = []

    def when(self, field, expression):
        self.conditions.append((field, expression))
        return self

    def do(self, app, data=""):
        self.actions.append((app, data))
        return self

    def xml(self) -> str:
        lines = [f"  <extension name={quoteattr(self.name)}>"]
        for i, (field, expression) in enumerate(self.conditions):
            last = i == len(self.conditions) - 1
            head = f"    <condition field={quoteattr(field)} expression={quoteattr(expression)}"
            if not last:
                lines.append(head + "/>")
                continue
            lines.append(head + ">")
            leading = True
            for a, d in sets.merge(self.actions):
                # the sets before the first application run while the dialplan is
                # hunted (inline): no state change, no wait for the media thread
                leading = leading and a in ("set", "multiset")
                tail = ' inline="true"/>' if leading else "/>"
                lines.append(f"      <action application={quoteattr(a)} data={quoteattr(d)}{tail}")
            lines += [f"      <anti-action application={quoteattr(a)} data={quoteattr(d)}/>"
                      for a, d in sets.merge(self.anti)]
            lines.append("    </condition>")
        lines.append("  </extension>")
        return "\n".join(lines)


class FlowCompiler:
    def __init__(self, flows: dict, target: Target):
        self.flows = flows
        self.target = target
        self.versions = {name: version(flow) for name, flow in flows.items()}
        self._built = {}

    def context(self, flow_name, language):
        return context_name(flow_name, self.versions[flow_name], language)

    # files -------------------------------------------------------------------
    def write(self, dialplan_dir: Path) -> list[Path]:
        """Write every flow (and the entry context) under dialplan_dir/flows and
        the flows' DIDs as dialplan_dir/public/55_flow_dids.xml."""
        out = Path(dialplan_dir) / "flows"
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, flow in sorted(self.flows.items()):
            path = out / f"{name}.{self.versions[name]}.xml"
            _write(path, self.flow_xml(flow))
            written.append(path)
            for node in flow.nodes.values():
                if node.verb == "voicemail":
                    (Path(self.target.recordings_dir) / "voicemail" / node.box).mkdir(
                        parents=True, exist_ok=True)
        entry = out / "00_entry.xml"
        _write(entry, self.entry_xml())
        public = Path(dialplan_dir) / "public"
        public.mkdir(parents=True, exist_ok=True)
        dids = public / "55_flow_dids.xml"
        _write(dids, self.dids_xml())
        self._prune(out, set(written) | {entry})
        return written + [entry, dids]

    @staticmethod
    def _prune(out: Path, keep: set):
        now = time.time()
        for path in out.glob("*.xml"):
            if path not in keep and now - path.stat().st_mtime > KEEP_OLD_SECONDS:
                path.unlink()
                log.info("removed old flow version %s", path.name)

    # the entry context and the DIDs --------------------------------------------
    def entry_xml(self) -> str:
        parts = []
        for name, flow in sorted(self.flows.items()):
            if self.target.mode == "socket":
                parts.append(self._socket_entry(name))
                continue
            # the flow's own language last: it takes every call the others did not
            for language in sorted(LANGUAGES, key=lambda lang: lang == flow.language):
                ext = _Extension(f"flow_{name}_{language}")
                ext.when("destination_number", f"^flow_{name}$")
                if language != flow.language:
                    ext.when("${hotline_language}", f"^{language}")
                ext.actions += self._enter(name, flow, language)
                parts.append(ext)
        catch = _Extension("flow_unknown").when("destination_number", "^.*$")
        catch.do("log", "WARNING hotline: no flow ${destination_number}; fail-open route")
        catch.do("transfer", FALLBACK)
        parts.append(catch)
        return _include([_context_xml(ENTRY_CONTEXT, parts, "How a DID enters a flow.")])

    def _enter(self, name, flow, language, first=()) -> list:
        """Start a call in the flow: its call data, answer, the entry node. The
        entry node's actions are copied in where they can be (as between nodes):
        a transfer less per call. Its sets run before the answer, all the static
        ones as one multiset (esl_apps.ivr.sets); the caller's number goes first,
        on its own (it must not join a multiset)."""
        ctx = self.context(name, language)
        actions = [("set", calldata.var_name("caller") + "=${caller_id_number}"), *first,
                   ("set", f"hotline_flow={name}"), ("set", f"hotline_language={language}"),
                   ("set", "playback_terminators=any"),
                   ("set", calldata.var_name("did") + "=${hotline_did}"),
                   ("set", f"{calldata.EXPORTS}={','.join(calldata.BASE_EXPORTS)}")]
        body = self.inline([("transfer", f"n_{flow.entry} XML {ctx}")],
                           self.bodies(flow, language))
        lead = 0
        while lead < len(body) and body[lead][0] == "set":
            lead += 1
        return actions + body[:lead] + [("answer", "")] + body[lead:]

    def _socket_entry(self, name):
        """Socket mode: the socket app runs the flow; fail-open if it cannot."""
        t = self.target
        ext = _Extension(f"flow_{name}").when("destination_number", f"^flow_{name}$")
        ext.do("set", f"hotline_flow={name}")
        ext.do("set", "hotline_app=ivr")
        ext.do("sched_transfer", f"+{t.connect_watchdog} {FALLBACK}")
        ext.do("socket", f"{t.socket_host}:{t.socket_port} async full")
        ext.do("transfer", FALLBACK)
        return ext

    def dids_xml(self) -> str:
        lines = ['<?xml version="1.0"?>', "<include>",
                 "  <!-- DIDs named in the flow files (generated; numbers in the database's "
                 "DID table come first, through the context hotline_flows). -->"]
        for name, flow in sorted(self.flows.items()):
            for did in flow.dids:
                ext = _Extension(f"flow_did_{did.lstrip('+')}")
                ext.when("destination_number", f"^\\+?{re.escape(did.lstrip('+'))}$")
                if self.target.mode == "socket":
                    ext.do("set", f"hotline_did={did}")
                    ext.do("transfer", f"flow_{name} XML {ENTRY_CONTEXT}")
                else:   # straight in, in the flow's language: a transfer less
                    ext.actions += self._enter(name, flow, flow.language,
                                               first=[("set", f"hotline_did={did}")])
                lines.append(ext.xml())
        lines.append("</include>")
        return "\n".join(lines) + "\n"

    # one flow ----------------------------------------------------------------
    def flow_xml(self, flow) -> str:
        blocks = []
        for language in LANGUAGES:
            bodies = self.bodies(flow, language)
            extensions = []
            for built in self.node_extensions(flow, language):
                ext = copy.copy(built)      # the built ones stay as they are: bodies
                ext.actions = self.inline(built.actions, bodies)
                ext.anti = self.inline(built.anti, bodies)
                extensions.append(ext)
            extensions.append(self._return_ext(flow, language))
            catch = _Extension("unknown").when("destination_number", "^.*$")
            catch.do("log", f"WARNING hotline: flow {flow.name}: no node ${{destination_number}}")
            catch.do("transfer", FALLBACK)
            extensions.append(catch)
            blocks.append(_context_xml(self.context(flow.name, language), extensions,
                                       f"flow {flow.name} ({language}), generated from "
                                       f"{flow.path.name if flow.path else 'a flow file'}"))
        return _include(blocks)

    def node_extensions(self, flow, language) -> list:
        """Every node's extensions in one context, built once (the flow's context
        and the entry extensions both read them); never changed once built."""
        key = (flow.name, language)
        if key not in self._built:
            self._built[key] = [e for name, node in flow.nodes.items()
                                for e in self.node(flow, name, node, language)]
        return self._built[key]

    def bodies(self, flow, language) -> dict:
        """The actions of the node extensions with no condition but their name
        (landing there always runs them), by their transfer target, before any
        extension is inlined."""
        ctx = self.context(flow.name, language)
        return {f"{e.name} XML {ctx}": e.actions for e in self.node_extensions(flow, language)
                if e.name.startswith("n_") and len(e.conditions) == 1 and not e.anti}

    def inline(self, actions: list, bodies: dict) -> list:
        """`actions` with a final transfer to a plain node of the same context (a key
        of `bodies`) replaced by the node's own actions, and so on along the chain (see
        the module's doc). A transfer to another context is left alone: a language
        switch or a subflow names its version's context there. (The entry extensions,
        in public or hotline_flows, copy the entry node's chain in the same way, so
        the first nodes of a call run with that Caller-Context.)"""
        out, seen = list(actions), set()
        while out and out[-1][0] == "transfer" and len(seen) < self.target.inline_depth:
            to = out[-1][1]
            body = bodies.get(to)
            if body is None or to in seen:
                break
            seen.add(to)
            out[-1:] = body
        return out

    def goto(self, flow, target, language) -> tuple[str, str]:
        if target is None:
            return "transfer", FALLBACK
        if target == RETURN:
            return "transfer", f"r_return XML {self.context(flow.name, language)}"
        return "transfer", f"n_{target} XML {self.context(flow.name, language)}"

    def _return_ext(self, flow, language):
        ext = _Extension("r_return").when("destination_number", "^r_return$")
        ext.when(f"${{hotline_ret_{flow.name}}}", "^.")
        ext.do("transfer", f"${{hotline_ret_{flow.name}}}")
        ext.anti.append(("transfer", FALLBACK))
        return ext

    def _start(self, name, flow, node_name):
        ext = _Extension(f"n_{node_name}").when("destination_number", f"^n_{node_name}$")
        ext.do("set", f"hotline_path=${{hotline_path}} {flow.name}:{node_name}")
        return ext

    def node(self, flow, name, node, language) -> list[_Extension]:
        build = getattr(self, f"_{node.verb}")
        return build(flow, name, node, language)

    def _prompt(self, prompt, language, flow) -> str:
        if prompt is None:
            return INVALID_SILENCE
        flow_dir = flow.path.parent if flow.path else Path(".")
        path = str(prompt_path(prompt, language, flow_dir, self.target.prompts_dir))
        if " " in path:
            raise CompileError(f"prompt path {path!r} has a space; the switch splits on spaces")
        return _safe(path, "prompt path")

    def _next(self, flow, node, outcome, language):
        return self.goto(flow, node.next.get(outcome), language)

    # verbs -------------------------------------------------------------------
    def _play(self, flow, name, node, language):
        ext = self._start(name, flow, name)
        ext.do("playback", self._prompt(node, language, flow))
        ext.do(*self._next(flow, node, "done", language))
        return [ext]

    def _record_notice(self, flow, name, node, language):
        ext = self._start(name, flow, name)
        if node.prompt is not None:
            ext.do("playback", self._prompt(node.prompt, language, flow))
        else:
            ext.do("playback", str(builtin_path(self.target.prompts_dir, language,
                                                "record_notice")))
        ext.do("set", "hotline_record_notice=played")
        ext.do(*self._next(flow, node, "done", language))
        return [ext]

    def _read(self, ext, flow, node, language, maximum, terminators, regex):
        # no `unset hotline_input` first: play_and_get_digits clears it (and
        # hotline_input_invalid) before it reads (switch_ivr_read)
        ext.do("play_and_get_digits", pagd_args(
            maximum, node.retries, node.timeout, terminators,
            self._prompt(node.prompt, language, flow),
            self._prompt(node.invalid_prompt, language, flow), regex))

    def _dispatch(self, flow, name, cases, language):
        """After reading: one extension per (conditions, actions), first match wins."""
        exts = []
        for i, (conditions, actions) in enumerate(cases):
            ext = _Extension(f"o_{name}_{i}").when("destination_number", f"^o_{name}$")
            for field, expression in conditions:
                ext.when(field, expression)
            ext.actions += actions
            exts.append(ext)
        return exts

    def _menu(self, flow, name, node, language):
        keys = [k for k in node.next if k in DIGIT_KEYS]
        regex = menu_regex(keys)
        ext = self._start(name, flow, name)
        self._read(ext, flow, node, language, 1, "", regex)
        ext.do("transfer", f"o_{name} XML {self.context(flow.name, language)}")
        cases = []
        for key in keys:
            actions = [("set", f"{calldata.var_name(node.store)}={key}"),
                       export(calldata.var_name(node.store))] if node.store else []
            actions.append(self.goto(flow, node.next[key], language))
            cases.append(([("${hotline_input}", f"^{re.escape(key)}$")], actions))
        cases.append(([("${hotline_input_invalid}", ".")],
                      [self._next(flow, node, "invalid", language)]))
        cases.append(([], [self._next(flow, node, "timeout", language)]))
        return [ext] + self._dispatch(flow, name, cases, language)

    def _collect(self, flow, name, node, language):
        regex = node.regex()
        if " " in regex:
            raise CompileError(f"node {name}: the pattern has a space")
        ext = self._start(name, flow, name)
        self._read(ext, flow, node, language, node.max, node.terminator, regex)
        ext.do("transfer", f"o_{name} XML {self.context(flow.name, language)}")
        cases = [
            ([("${hotline_input}", regex)],
             [("set", f"{calldata.var_name(node.store)}=${{hotline_input}}"),
              export(calldata.var_name(node.store)),
              self._next(flow, node, "done", language)]),
            ([("${hotline_input_invalid}", ".")], [self._next(flow, node, "invalid", language)]),
            ([], [self._next(flow, node, "no_input", language)]),
        ]
        return [ext] + self._dispatch(flow, name, cases, language)

    def _say(self, flow, name, node, language):
        value = _safe(calldata.to_switch(node.value), f"node {name} value")
        lang = node.language or language
        ext = self._start(name, flow, name)
        ext.when(value, LITERAL[node.kind])
        ext.do("set", f"sound_prefix={say_dir(self.target.prompts_dir, lang)}")
        ext.do("say", say_args(lang, node.kind, value))
        ext.do(*self._next(flow, node, "done", language))
        ext.anti.append(("log", f"WARNING hotline: say {name}: {value} is not a {node.kind}"))
        ext.anti.append(self._next(flow, node, "error", language))
        return [ext]

    def _set(self, flow, name, node, language):
        value = _safe(calldata.to_switch(node.value), f"node {name} value")
        ext = self._start(name, flow, name)
        name_ = calldata.var_name(node.section + "." + node.key)
        ext.do("set", f"{name_}={value}")
        ext.do(*export(name_))
        ext.do(*self._next(flow, node, "done", language))
        return [ext]

    def _language(self, flow, name, node, language):
        ext = self._start(name, flow, name)
        ext.do("set", f"hotline_language={node.language}")
        ext.do(*self.goto(flow, node.next.get("done"), node.language))
        return [ext]

    def _branch(self, flow, name, node, language):
        conditions = {"true": node.when} if node.when is not None else dict(node.cases)
        exts = []
        for outcome, condition in conditions.items():
            ext = self._start(name, flow, name)
            for field, expression in _condition_tests(condition):
                ext.when(field, expression)
            ext.do(*self._next(flow, node, outcome, language))
            exts.append(ext)
        last = self._start(name, flow, name)
        last.do(*self._next(flow, node, "false" if node.when is not None else "default",
                            language))
        exts.append(last)
        for i, ext in enumerate(exts):
            ext.name = f"n_{name}_{i}"
        return exts

    def _queue(self, flow, name, node, language):
        """Where the queue wants the sticky agent (the global hotline_sticky_<queue> the
        waiting service pushes), the `sticky` app gives the caller's last agent level 0
        first, so mod_callcenter's first offer goes to it; then q_<node> joins the
        queue. Without Hotline the socket fails and the call joins all the same."""
        t, ctx = self.target, self.context(flow.name, language)
        ext = self._start(name, flow, name)
        ext.when(f"${{hotline_sticky_{node.queue}}}", "^[1-9]")
        sets = [("set", f"hotline_queue={node.queue}"),
                ("set", "hangup_after_bridge=false"),   # the caller stays for a survey
                ("set", "RECORD_BRIDGE_REQ=true"),      # record the agent call, not the survey
                # where the caller goes when the last agent leaves, however the desk moved
                # the call (consult, transfer): webui/desk/call_control.py sets it as
                # transfer_after_bridge; the dispatch sees cc_cause=answered
                ("set", f"{AFTER_AGENT_VAR}=o_{name}:XML:{ctx}")]
        if node.callback_key:
            sets.append(("set", f"cc_exit_keys={node.callback_key}"))
        join = f"q_{name} XML {ctx}"
        ext.actions[1:1] = sets   # after the path, which _start set
        for action in (("set", "hotline_app=sticky"), ("set", f"hotline_sticky_next={join}"),
                       ("sched_transfer", f"+{t.connect_watchdog} {join}"),
                       ("socket", f"{t.socket_host}:{t.socket_port} async full"),
                       ("transfer", join)):
            ext.do(*action)
        ext.anti = ext.actions[:1 + len(sets)] + [("transfer", join)]
        joins = _Extension(f"q_{name}").when("destination_number", f"^q_{name}$")
        joins.do("callcenter", f"{node.queue}@{t.cc_domain}")
        joins.do("transfer", f"o_{name} XML {ctx}")
        answered = node.next.get("answered")
        cases = [([("${cc_cause}", "^answered$")],
                  [("hangup", "NORMAL_CLEARING")] if answered is None
                  else [self.goto(flow, answered, language)]),
                 ([("${cc_cancel_reason}", "^EXIT_WITH_KEY$")],
                  [self._next(flow, node, "callback", language)]),
                 ([], [self._next(flow, node, "timeout", language)])]
        return [ext, joins] + self._dispatch(flow, name, cases, language)

    def _transfer(self, flow, name, node, language):
        ext = self._start(name, flow, name)
        if node.to == "flow":
            ext.do("transfer", f"flow_{node.target} XML {ENTRY_CONTEXT}")
            return [ext]
        dial = self.dial_string(node.to, node.target)
        if dial is None:
            ext.do("log", f"ERR hotline: node {name}: no outbound gateway is configured")
        else:
            ext.do("set", "continue_on_fail=true")
            ext.do("set", "hangup_after_bridge=true")
            ext.do("bridge", dial)
        ext.do(*self._next(flow, node, "error", language))
        return [ext]

    def dial_string(self, to, target) -> str | None:
        if to == "extension":
            return f"user/{target}@{self.target.domain}"
        if not self.target.outbound_gateway:
            return None
        return f"sofia/gateway/{self.target.outbound_gateway}/{target}"

    def _voicemail(self, flow, name, node, language):
        ext = self._start(name, flow, name)
        if node.greeting is not None:
            ext.do("playback", self._prompt(node.greeting, language, flow))
        ext.do("set", f"hotline_voicemail_box={node.box}")
        ext.do("set", f"hotline_voicemail_file={voicemail_file(self.target, node.box)}")
        ext.do("playback", BEEP)
        ext.do("record", f"${{hotline_voicemail_file}} {node.max_seconds} 200 5")
        ext.do("hangup", "NORMAL_CLEARING")
        return [ext]

    def _callback(self, flow, name, node, language):
        ext = self._start(name, flow, name)
        ext.do("set", f"hotline_callback_queue={node.queue}")
        ext.do("set", "hotline_callback_number="
               + _safe(calldata.to_switch(node.number), f"node {name} number"))
        if node.confirm is not None:
            ext.do("playback", self._prompt(node.confirm, language, flow))
        ext.do(*self._next(flow, node, "done", language))
        return [ext]

    def _hangup(self, flow, name, node, language):
        return [self._start(name, flow, name).do("hangup", node.cause)]

    def _subflow(self, flow, name, node, language):
        ext = self._start(name, flow, name)
        back = self.goto(flow, node.next.get("done"), language)[1]
        ext.do("set", f"hotline_ret_{node.flow}={back}")
        sub = self.flows[node.flow]
        ext.do("transfer", f"n_{sub.entry} XML {self.context(node.flow, language)}")
        return [ext]

    def _lookup(self, flow, name, node, language):
        """Python's part: hand the call to the socket app, fail-open to `error`."""
        t = self.target
        on_error = " ".join(self.goto(flow, node.next.get("error"), language)[1:])
        ext = self._start(name, flow, name)
        ext.do("set", "hotline_app=ivr")
        ext.do("set", f"hotline_resume={flow.name}:{name}")
        ext.do("set", f"hotline_context={self.context(flow.name, language)}")
        ext.do("sched_transfer", f"+{t.connect_watchdog} {on_error}")
        ext.do("socket", f"{t.socket_host}:{t.socket_port} async full")
        ext.do("transfer", on_error)
        return [ext]


def _condition_tests(condition):
    """A branch condition as dialplan (field, regex) pairs, all of which must match."""
    tests = []
    if condition.business_hours is not None:
        # pushed by Hotline every minute; unknown (never pushed) counts as open
        tests.append((f"${{hotline_open_{condition.business_hours}}}", "^(true)?$"))
    if condition.caller_prefix is not None:
        tests.append(("caller_id_number",
                      "^(" + "|".join(re.escape(p) for p in condition.caller_prefix) + ")"))
    if condition.did is not None:
        tests.append(("${hotline_did}",
                      "^(" + "|".join(re.escape(d) for d in condition.did) + ")$"))
    if condition.data is not None:
        field = "${" + calldata.var_name(condition.data.key) + "}"
        if condition.data.equals is not None:
            tests.append((field, "^" + re.escape(condition.data.equals) + "$"))
        else:
            tests.append((field, condition.data.regex))
    return tests


def _context_xml(name, extensions, comment) -> str:
    body = "\n".join(e.xml() for e in extensions)
    return (f"<!-- {escape(comment)} -->\n<context name={quoteattr(name)}>\n{body}\n"
            "</context>\n")


def _include(blocks) -> str:
    return '<?xml version="1.0"?>\n<include>\n' + "\n".join(blocks) + "</include>\n"


def _write(path: Path, text: str):
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def compile_flows(flows: dict, target: Target, dialplan_dir: Path) -> list[Path]:
    return FlowCompiler(flows, target).write(dialplan_dir)
