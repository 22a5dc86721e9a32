"""Call controls of the agent desk, sent to FreeSWITCH as API commands.

The desk names a call by its agent leg (the pop's ``leg_uuid``, or the leg
click-to-dial made). Before any command, one ``eval uuid:<leg> ...`` asks the
switch whose leg it is and what state the desk left on it; a leg that is not the
signed-in agent's own is refused. Every command is built here from values that
passed a strict pattern (UUIDs, extensions, queue and flow names, dial digits);
nothing a user typed reaches the switch as such.

The state of a controlled call lives on the agent's leg itself, as channel
variables (so the panel keeps none and a restart loses nothing):

    hotline_desk_agent   the extension that owns a leg Hotline created
    hotline_desk_caller  the caller's leg (else cc_member_session_uuid, bridge_to)
    hotline_desk_state   talking | held | consulting | conference
    hotline_desk_other   the consulted target's or the third party's leg
    hotline_desk_target  what that leg dials ("agent:1002", "number:01012345678")

How each control works (A = the agent's leg, C = the caller's, T = a new leg):

    hang up        uuid_kill A: as if the agent hung up (a queue caller goes on to
                   the flow's next node, e.g. the survey)
    hold / resume  uuid_hold [off] A: the agent's phone is held and the caller
                   hears hold_music (set on A first)
    blind transfer uuid_transfer C to an inline extension: bridge to the agent's
                   user (the fallback queue on no answer), desk_queue_<queue> XML
                   fallback for a queue (dialplan/fallback/40_desk_queue.xml: given
                   back, the caller goes on as the flow's queue node says), or the
                   flow's entry (flow_<name> XML hotline_flows, where DIDs
                   land); mod_callcenter's agent leg A hangs up when C leaves
    consult        park_after_bridge on A; C to an inline hold (music); A to an
                   inline bridge to T (then park)
    complete       uuid_bridge C T, then uuid_kill A
    cancel         uuid_bridge C A, then uuid_kill T

Wherever the desk moves the caller (consult's hold, a transfer to an agent or a
queue), transfer_after_bridge is set first to the flow's way on after an agent
(AFTER_AGENT; for a queue, its dialplan extension does): so when the last agent
hangs up, the caller still gets the survey.
    3-way          originate T &three_way(A): T hears and is heard by both
    click-to-dial  originate the agent's user &bridge(the number through the
                   configured gateway); the agent's phone rings first
"""
import logging
import re
import time
import uuid as uuidlib
from dataclasses import dataclass

import phonenumbers

from esl_apps.acd import commands as cc
from esl_apps.inbound import EslUnavailable

log = logging.getLogger(__name__)

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
EXTENSION_RE = re.compile(r"^[0-9]{2,16}$")
QUEUE_RE = cc.QUEUE_NAME_RE
FLOW_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
GATEWAY_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
DIGITS_RE = re.compile(r"^[0-9]{3,20}$")
# what a hold-music source may look like: local_stream://moh, tone_stream://..., a path
MUSIC_RE = re.compile(r"^[A-Za-z0-9_./:%(),=-]{1,200}$")
_SEPARATORS = re.compile(r"[\s\-().]")
# how long a move waits for the switch to bridge the legs it asked for before it
# hangs up the leg that is left over (polling every SETTLE_STEP seconds)
SETTLE_SECONDS, SETTLE_STEP = 3.0, 0.02
# the caller's way on when the agent it is bridged to hangs up: the queue node's
# answered outcome (e.g. the survey), which the flow left in hotline_after_agent
# (esl_apps/ivr/compile.py); transfer_after_bridge wins over hangup_after_bridge
# and is used once; unset (a call that met no queue), the caller is hung up
AFTER_AGENT = "set:transfer_after_bridge=${hotline_after_agent}"

STATES = ("talking", "held", "consulting", "conference")
TARGET_KINDS = ("agent", "queue", "flow", "number")
# consult and 3-way need a person at the other end
PERSON_KINDS = ("agent", "number")
# what `eval` reads from a leg, in this order, joined by "|"
EVAL_FIELDS = ("Unique-ID", "Answer-State", "variable_hotline_desk_agent", "variable_cc_agent",
               "variable_cc_side", "variable_dialed_user", "variable_hotline_desk_caller",
               "variable_cc_member_session_uuid", "variable_bridge_to", "variable_cc_agent_uuid",
               "variable_hotline_desk_state", "variable_hotline_desk_other",
               "variable_hotline_desk_target")
EVAL_EXPRESSION = "|".join("${" + name + "}" for name in EVAL_FIELDS)


class CallError(Exception):
    """A control that cannot be done; `code` is stable (the web layer words it)."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code, self.detail = code, detail


@dataclass(frozen=True)
class Target:
    kind: str     # agent | queue | flow | number
    value: str    # the extension, queue or flow name, or the digits to dial

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.value}"


@dataclass
class Leg:
    uuid: str
    agent: str
    caller: str
    state: str
    other: str = ""
    target: str = ""
    answered: bool = True


def dial_digits(text: str, region: str = "CN") -> str:
    """The digits to send to the gateway for what the agent typed: a valid number is
    dialled as one dials it from `region` (national form, or the international
    prefix); a short service number (95598, 12345) as its digits; else CallError."""
    raw = _SEPARATORS.sub("", (text or "").strip())
    if not raw or len(raw) > 24 or not re.match(r"^\+?[0-9]+$", raw):
        raise CallError("bad_number", "digits only")
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and phonenumbers.is_valid_number(number):
        out = phonenumbers.format_out_of_country_calling_number(number, region)
        digits = re.sub(r"[^0-9]", "", out)
        if DIGITS_RE.match(digits):
            return digits
    if raw.startswith("+") or not DIGITS_RE.match(raw):
        raise CallError("bad_number", "not a number that can be dialled")
    return raw


def parse_target(kind: str, value: str, region: str = "CN") -> Target:
    """A transfer/consult/3-way target from the desk's form, or CallError."""
    value = (value or "").strip()
    if kind == "agent" and EXTENSION_RE.match(value):
        return Target("agent", value)
    if kind == "queue" and QUEUE_RE.match(value):
        return Target("queue", value)
    if kind == "flow" and FLOW_RE.match(value):
        return Target("flow", value)
    if kind == "number":
        return Target("number", dial_digits(value, region))
    raise CallError("bad_target", f"{kind!r}")


def _uuid(value: str, what: str = "leg") -> str:
    value = (value or "").strip().lower()
    if not UUID_RE.match(value):
        raise CallError("bad_leg", what)
    return value


def _queue(value: str) -> str:
    if not QUEUE_RE.match(value or ""):
        raise CallError("bad_target", "queue")
    return value


def _extension(value: str) -> str:
    if not EXTENSION_RE.match(value or ""):
        raise CallError("bad_target", "extension")
    return value


def _ok(reply: str) -> bool:
    return reply.lstrip().startswith("+OK")


class CallControl:
    """The desk's call controls over the inbound event socket (`esl.api`, `esl.bgapi`).

    domain: the agents' SIP domain (user/EXT@domain); gateway: the sofia gateway for
    outside numbers ("" = none); fallback_queue: where a caller goes when the agent
    a call was transferred to does not answer."""

    def __init__(self, esl, domain: str, *, cc_domain: str = "default", gateway: str = "",
                 region: str = "CN", hold_music: str = "local_stream://moh",
                 fallback_queue: str = "default", ring_seconds: int = 30,
                 caller_id: str = ""):
        self.esl = esl
        for value, what in ((domain, "SIP domain"), (cc_domain, "callcenter domain")):
            if not cc.DOMAIN_RE.match(value or ""):
                raise ValueError(f"{what} {value!r} is not a domain")
        self.domain, self.cc_domain = domain, cc_domain
        if gateway and not GATEWAY_RE.match(gateway):
            raise ValueError(f"outbound gateway {gateway!r} is not a gateway name")
        self.gateway = gateway
        self.region = region
        if not MUSIC_RE.match(hold_music):
            raise ValueError(f"hold music {hold_music!r} is not a playable source")
        self.hold_music = hold_music
        if not QUEUE_RE.match(fallback_queue):
            raise ValueError(f"fallback queue {fallback_queue!r} is not a queue name")
        self.fallback_queue = fallback_queue
        self.ring_seconds = int(ring_seconds)
        if caller_id and not re.match(r"^\+?[0-9]{1,20}$", caller_id):
            raise ValueError(f"outbound caller ID {caller_id!r} is not a number")
        self.caller_id = caller_id

    @classmethod
    def from_config(cls, esl, config) -> "CallControl":
        """What `hotline run` injects as HOTLINE_CALL_CONTROL."""
        fs = config.freeswitch
        caller_id = fs.outbound_caller_id
        if not caller_id and re.match(r"^\+?[0-9]{1,20}$", fs.gateway_username):
            caller_id = fs.gateway_username
        return cls(esl, fs.sip_ip, gateway=fs.outbound_gateway,
                   region=config.locale.default_region, fallback_queue=fs.fallback_queue,
                   caller_id=caller_id)

    # -- talking to the switch ---------------------------------------------------
    def _api(self, command: str) -> str:
        try:
            reply = self.esl.api(command)
        except EslUnavailable as exc:
            raise CallError("no_switch", str(exc)) from None
        log.debug("desk call control: %s -> %s", command, reply.strip()[:200])
        return reply

    def _must(self, command: str) -> str:
        reply = self._api(command)
        if not _ok(reply):
            log.warning("desk call control: %s refused: %s", command, reply.strip()[:200])
            raise CallError("refused", reply.strip()[:200])
        return reply

    def _quiet(self, command: str) -> str:
        """A command whose failure is fine (the leg may be gone already)."""
        return self._api(command)

    def _bgapi(self, command: str) -> str:
        try:
            return self.esl.bgapi(command)
        except EslUnavailable as exc:
            raise CallError("no_switch", str(exc)) from None

    def _setvars(self, leg: str, **values) -> None:
        pairs = ";".join(f"{name}={value}" for name, value in values.items())
        self._must(f"uuid_setvar_multi {leg} {pairs}")

    # -- whose leg ---------------------------------------------------------------
    def read(self, leg_uuid: str) -> dict | None:
        """The EVAL_FIELDS of a leg, or None when the switch has no such channel."""
        leg_uuid = _uuid(leg_uuid)
        reply = self._api(f"eval uuid:{leg_uuid} {EVAL_EXPRESSION}").rstrip("\n")
        parts = reply.split("|")
        if len(parts) != len(EVAL_FIELDS):
            log.warning("desk call control: unexpected eval reply %r", reply[:200])
            return None
        fields = dict(zip(EVAL_FIELDS, parts))
        if fields["Unique-ID"] != leg_uuid:
            return None
        return fields

    @staticmethod
    def owner(fields: dict) -> str:
        """The extension a leg belongs to ("" for none): the one Hotline set on a leg it
        made ("none" on a caller's leg it bridges to an agent: bridging to user/EXT
        sets dialed_user on the caller's leg too), else mod_callcenter's agent (not on
        the member's side), else the dialled user."""
        if fields.get("variable_cc_side", "") == "member":
            return ""       # a queue caller's leg (it may carry cc_agent, dialed_user)
        own = fields.get("variable_hotline_desk_agent", "")
        if not own:
            own = fields.get("variable_cc_agent", "").split("@", 1)[0]
        if not own:
            own = fields.get("variable_dialed_user", "")
        return own if EXTENSION_RE.match(own) else ""

    def leg(self, extension: str, leg_uuid: str) -> Leg:
        """The agent's own leg, with its caller and state; CallError when it is not
        theirs (`not_yours`) or is gone (`no_call`)."""
        extension = _extension(extension)
        fields = self.read(leg_uuid)
        if fields is None:
            raise CallError("no_call")
        if self.owner(fields) != extension:
            log.warning("desk call control: agent %s tried leg %s of %r", extension,
                        leg_uuid, self.owner(fields) or "nobody")
            raise CallError("not_yours")
        caller = ""
        for name in ("variable_hotline_desk_caller", "variable_cc_member_session_uuid",
                     "variable_bridge_to"):
            value = fields.get(name, "").lower()
            if UUID_RE.match(value) and value != fields["Unique-ID"]:
                caller = value
                break
        state = fields.get("variable_hotline_desk_state", "")
        other = fields.get("variable_hotline_desk_other", "").lower()
        target = fields.get("variable_hotline_desk_target", "")
        leg = Leg(uuid=fields["Unique-ID"], agent=extension, caller=caller,
                  state=state if state in STATES else "talking",
                  other=other if UUID_RE.match(other) else "",
                  target=target if re.match(r"^[a-z]+:[A-Za-z0-9_-]{1,64}$", target) else "",
                  answered=fields.get("Answer-State", "") == "answered")
        if leg.state == "conference" and (not leg.other or self.read(leg.other) is None):
            leg.state, leg.other, leg.target = "talking", "", ""   # the third party left
        return leg

    def state(self, extension: str, leg_uuid: str) -> Leg:
        return self.leg(extension, leg_uuid)

    def _need(self, leg: Leg, *states: str) -> None:
        if leg.state not in states:
            raise CallError("bad_state", leg.state)

    def _need_caller(self, leg: Leg) -> str:
        if not leg.caller:
            raise CallError("no_caller")
        return leg.caller

    # -- the controls ------------------------------------------------------------
    def hangup(self, extension: str, leg_uuid: str) -> Leg:
        leg = self.leg(extension, leg_uuid)
        if leg.state == "consulting":
            raise CallError("bad_state", leg.state)   # complete or cancel first
        if leg.state == "held":
            self._quiet(f"uuid_hold off {leg.uuid}")
        if leg.state == "conference" and leg.other:
            self._quiet(f"uuid_kill {leg.other} NORMAL_CLEARING")
        self._must(f"uuid_kill {leg.uuid} NORMAL_CLEARING")
        log.info("desk: agent %s hung up leg %s", extension, leg.uuid)
        leg.state = "ended"
        return leg

    def hold(self, extension: str, leg_uuid: str) -> Leg:
        leg = self.leg(extension, leg_uuid)
        self._need(leg, "talking")
        self._setvars(leg.uuid, hold_music=self.hold_music, hotline_desk_state="held")
        try:
            self._must(f"uuid_hold {leg.uuid}")
        except CallError:
            self._quiet(f"uuid_setvar {leg.uuid} hotline_desk_state talking")
            raise
        log.info("desk: agent %s held leg %s", extension, leg.uuid)
        leg.state = "held"
        return leg

    def resume(self, extension: str, leg_uuid: str) -> Leg:
        leg = self.leg(extension, leg_uuid)
        self._need(leg, "held")
        self._must(f"uuid_hold off {leg.uuid}")
        self._setvars(leg.uuid, hotline_desk_state="talking")
        log.info("desk: agent %s resumed leg %s", extension, leg.uuid)
        leg.state = "talking"
        return leg

    def transfer(self, extension: str, leg_uuid: str, target: Target) -> Leg:
        """Blind transfer: the caller goes to the target; the agent's leg ends."""
        leg = self.leg(extension, leg_uuid)
        self._need(leg, "talking", "held")
        caller = self._need_caller(leg)
        if target.kind == "agent" and target.value == extension:
            raise CallError("bad_target", "yourself")
        command = self.transfer_command(caller, target)   # before anything changes
        if leg.state == "held":
            self._quiet(f"uuid_hold off {leg.uuid}")
        if target.kind in ("queue", "flow"):
            # the queue's record-template writes the same file again: close the first
            # recording and let the next one append to it
            self._quiet(f"uuid_record {caller} stop all")
            self._quiet(f"uuid_setvar {caller} RECORD_APPEND true")
        self._must(command)
        log.info("desk: agent %s transferred caller %s to %s", extension, caller, target.label)
        leg.state = "transferred"
        leg.target = target.label
        return leg

    def transfer_command(self, caller: str, target: Target) -> str:
        caller = _uuid(caller, "caller")
        if target.kind == "flow":
            return f"uuid_transfer {caller} flow_{target.value} XML hotline_flows"
        if target.kind == "queue":
            # dialplan/fallback/40_desk_queue.xml: when the queue gives the caller
            # back, the flow's queue node decides (its timeout or callback way on)
            return f"uuid_transfer {caller} desk_queue_{_queue(target.value)} XML fallback"
        dial = self.dial_string(target, {"hotline_desk_caller": caller,
                                         "cc_member_session_uuid": caller})
        steps = ["set:hotline_desk_agent=none", "set:hangup_after_bridge=true",
                 "set:continue_on_fail=true"]
        if target.kind == "agent":
            steps.append(AFTER_AGENT)
        steps += ["set:export_vars=${cc_export_vars}", f"bridge:{dial}",
                  f"callcenter:{self.fallback_queue}@{self.cc_domain}", "hangup"]
        return f"uuid_transfer {caller} {inline(steps)} inline"

    def dial_string(self, target: Target, variables: dict | None = None) -> str:
        """user/EXT@domain, or sofia/gateway/GW/DIGITS (CallError without a gateway),
        with {variables} (values checked: no separators)."""
        variables = dict(variables or {})
        variables.setdefault("call_timeout", self.ring_seconds)
        if target.kind == "agent":
            variables.setdefault("hotline_desk_agent", target.value)
            end = f"user/{_extension(target.value)}@{self.domain}"
        elif target.kind == "number":
            if not self.gateway:
                raise CallError("no_gateway")
            if not DIGITS_RE.match(target.value):
                raise CallError("bad_number")
            end = f"sofia/gateway/{self.gateway}/{target.value}"
        else:
            raise CallError("bad_target", target.kind)
        for name, value in variables.items():
            if not re.match(r"^[A-Za-z0-9_]+$", name) or not re.match(
                    r"^[A-Za-z0-9_.@:+-]*$", str(value)):
                raise CallError("bad_target", f"variable {name}")
        inner = ",".join(f"{name}={value}" for name, value in variables.items())
        return "{" + inner + "}" + end

    def consult(self, extension: str, leg_uuid: str, target: Target) -> Leg:
        """Attended transfer, first half: the caller holds (music), the agent's leg
        rings the target."""
        leg = self.leg(extension, leg_uuid)
        self._need(leg, "talking", "held")
        caller = self._need_caller(leg)
        if target.kind not in PERSON_KINDS or (target.kind == "agent"
                                               and target.value == extension):
            raise CallError("bad_target", target.kind)
        other = str(uuidlib.uuid4())
        dial = self.dial_string(target, {"origination_uuid": other,
                                         "origination_caller_id_number": extension})
        if leg.state == "held":
            self._quiet(f"uuid_hold off {leg.uuid}")
        self._setvars(leg.uuid, park_after_bridge="true", hotline_desk_state="consulting",
                      hotline_desk_caller=caller, hotline_desk_other=other,
                      hotline_desk_target=target.label)
        hold = inline(["set:hangup_after_bridge=true", AFTER_AGENT,
                       f"endless_playback:{self.hold_music}", "hangup"])
        self._must(f"uuid_transfer {caller} {hold} inline")
        ring = inline(["set:hangup_after_bridge=false", "set:continue_on_fail=true",
                       f"bridge:{dial}", "park"])
        self._must(f"uuid_transfer {leg.uuid} {ring} inline")
        log.info("desk: agent %s consults %s (leg %s), caller %s holds", extension,
                 target.label, other, caller)
        leg.state, leg.other, leg.target, leg.caller = "consulting", other, target.label, caller
        return leg

    def complete(self, extension: str, leg_uuid: str) -> Leg:
        """Attended transfer, done: the caller is bridged to the target; the agent leaves."""
        leg = self.leg(extension, leg_uuid)
        self._need(leg, "consulting")
        caller = self._need_caller(leg)
        fields = self.read(leg.other) if leg.other else None
        if fields is None:
            raise CallError("target_gone")
        if fields.get("Answer-State") != "answered":
            raise CallError("not_answered")
        self._setvars(leg.other, hotline_desk_caller=caller, cc_member_session_uuid=caller)
        self._must(f"uuid_bridge {caller} {leg.other}")
        self._settle(leg.other, caller)
        self._quiet(f"uuid_kill {leg.uuid} NORMAL_CLEARING")
        log.info("desk: agent %s completed the transfer of %s to %s", extension, caller,
                 leg.target)
        leg.state = "transferred"
        return leg

    def cancel(self, extension: str, leg_uuid: str) -> Leg:
        """Attended transfer, called off: back to the caller; the target's leg ends."""
        leg = self.leg(extension, leg_uuid)
        self._need(leg, "consulting")
        caller = self._need_caller(leg)
        self._setvars(leg.uuid, park_after_bridge="false", hotline_desk_state="talking")
        self._must(f"uuid_bridge {caller} {leg.uuid}")
        if leg.other:
            self._settle(leg.uuid, caller)
            self._quiet(f"uuid_kill {leg.other} NORMAL_CLEARING")
        log.info("desk: agent %s back to caller %s", extension, caller)
        leg.state, leg.other, leg.target = "talking", "", ""
        return leg

    def _settle(self, leg: str, partner: str) -> bool:
        """Wait until `leg` is bridged to `partner`. uuid_bridge answers before the
        legs have moved; hanging up the leg they leave while they move can take the
        moving leg down with it (seen on 1.11.1: the agent's leg and then the caller
        hung up when the consulted leg was killed at once)."""
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            reply = self._api(f"eval uuid:{leg} ${{variable_bridge_to}}").strip().lower()
            if reply == partner:
                return True
            if time.monotonic() > deadline:
                log.warning("desk call control: leg %s not bridged to %s after %.0f s (%r)",
                            leg, partner, SETTLE_SECONDS, reply[:80])
                return False
            time.sleep(SETTLE_STEP)

    def conference(self, extension: str, leg_uuid: str, target: Target) -> Leg:
        """3-way: the third party is called and joins the agent's call (three_way:
        they hear the agent and the caller, and both hear them)."""
        leg = self.leg(extension, leg_uuid)
        self._need(leg, "talking")
        if target.kind not in PERSON_KINDS or (target.kind == "agent"
                                               and target.value == extension):
            raise CallError("bad_target", target.kind)
        other = str(uuidlib.uuid4())
        dial = self.dial_string(target, {"origination_uuid": other,
                                         "origination_caller_id_number": extension,
                                         "originate_timeout": self.ring_seconds})
        self._setvars(leg.uuid, hotline_desk_state="conference", hotline_desk_other=other,
                      hotline_desk_target=target.label)
        self._bgapi(f"originate {dial} &three_way({leg.uuid})")
        log.info("desk: agent %s adds %s (leg %s) to leg %s", extension, target.label,
                 other, leg.uuid)
        leg.state, leg.other, leg.target = "conference", other, target.label
        return leg

    def leave_conference(self, extension: str, leg_uuid: str) -> Leg:
        """The third party is dropped; agent and caller talk on."""
        leg = self.leg(extension, leg_uuid)
        self._need(leg, "conference")
        self._quiet(f"uuid_kill {leg.other} NORMAL_CLEARING")
        self._setvars(leg.uuid, hotline_desk_state="talking")
        leg.state, leg.other, leg.target = "talking", "", ""
        return leg

    def dial(self, extension: str, number: str) -> Leg:
        """Click-to-dial: the agent's phone rings; when it answers, the number is
        dialled through the outbound gateway. The new agent leg is returned."""
        extension = _extension(extension)
        if not self.gateway:
            raise CallError("no_gateway")
        digits = dial_digits(number, self.region)
        leg, customer = str(uuidlib.uuid4()), str(uuidlib.uuid4())
        # the customer sees the hotline's number (the agent leg carries theirs, for the
        # agent's phone to show, and bridge would pass it on)
        outside = self.dial_string(Target("number", digits), {
            "origination_uuid": customer,
            "origination_caller_id_number": self.caller_id or extension})
        agent = self.dial_string(Target("agent", extension), {
            "origination_uuid": leg, "hotline_desk_caller": customer,
            "origination_caller_id_number": digits, "originate_timeout": self.ring_seconds,
            "hotline_desk_dialled": digits})
        self._bgapi(f"originate {agent} &bridge({outside})")
        log.info("desk: agent %s dials %s (leg %s)", extension, digits, leg)
        return Leg(uuid=leg, agent=extension, caller=customer, state="dialing",
                   target=f"number:{digits}", answered=False)


def inline(steps: list[str]) -> str:
    """An inline dialplan with '^' between the steps (their data may hold commas);
    no step may hold a space, a quote, '^' or a line break."""
    for step in steps:
        if re.search(r"[\s'\"^\\]", step):
            raise CallError("bad_target", "inline step")
    return "m:^:" + "^".join(steps)
