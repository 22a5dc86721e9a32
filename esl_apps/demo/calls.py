"""Sample calls through the sample flows (ivr_flows/), placed on the demo switch.

Each sample call is a caller, the number dialled and the keys the caller presses.
The flow is walked by the same runtime as the socket app and `hotline flow try`
(esl_apps.ivr.runtime) with `DemoCall` in the switch's place: prompts are only
logged, reads take the next scripted keys, lookups and business hours use the
demo database. At a `queue` node the demo switch offers the call to an agent the
way mod_callcenter would (an Available, Waiting agent with a tier in the queue),
sends the agent leg's events (the screen pop), lets them talk, hangs up, and the
flow goes on (the survey). When the call is over the switch posts its CDR to
/api/cdr like mod_xml_cdr.

The flows are walked as at 10:00 on a working Wednesday (DEMO_HOURS_AT) in the
locale's time zone, so that the demo shows agents at work at any hour; the call
records carry the real time.

Calls are placed one at a time, and only while some agent is Available (the
desk's Ready button): nobody is left waiting in a demo queue.
"""
import base64
import datetime
import itertools
import logging
import threading
import time
import urllib.request
import uuid as uuidlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import quote
from zoneinfo import ZoneInfo

from esl_apps.calllog import call_logger
from esl_apps.demo.callcenter import DOMAIN
from esl_apps.ivr import calldata
from esl_apps.ivr.digits import read_like_the_switch
from esl_apps.ivr.simulator import CallerHungUp

log = logging.getLogger(__name__)

DEMO_HOURS_AT = (2026, 11, 18, 10, 0)   # a Wednesday, 10:00 local


@dataclass(frozen=True)
class SampleCall:
    caller: str
    caller_name: str
    did: str
    keys: tuple[str, ...]   # one item per read, terminator included; "" is silence
    what: str


# Known callers are the demo database's sample customers (esl_apps.demo.data).
SAMPLE_CALLS = (
    SampleCall("13912345678", "张伟", "88001234", ("1", "20481357#", "0", "5"),
               "heating: bill of account 20481357, then an agent; rates 5"),
    SampleCall("13800138000", "", "88001234", ("2", "4"),
               "heating: a repair, from an unknown number; rates 4"),
    SampleCall("13622334455", "李娜", "88005678", ("3", "60817395#", "0", "5"),
               "gas: fee of account 60817395, then an agent; rates 5"),
    SampleCall("13711112222", "", "12345", ("2", "3"),
               "12345: a complaint, from an unknown number; rates 3"),
)


def hours_clock(timezone: str):
    zone = ZoneInfo(timezone)
    at = datetime.datetime(*DEMO_HOURS_AT, tzinfo=zone)
    return lambda: at


class DemoCall:
    """The switch's side of one sample call, as the flow runtime drives it."""
    Gone = CallerHungUp

    def __init__(self, switch, sample: SampleCall, flow: str, talk_seconds: float,
                 queue_wait: float, stopped: threading.Event):
        self.switch, self.sample = switch, sample
        self.uuid = str(uuidlib.uuid4())
        self.caller, self.did = sample.caller, sample.did
        self.log = call_logger(__name__, self.uuid)
        self.keys = list(sample.keys)
        self.talk_seconds, self.queue_wait, self.stopped = talk_seconds, queue_wait, stopped
        self.start = time.time()
        self.variables: dict = {"uuid": self.uuid, "direction": "inbound",
                                "hotline_did": sample.did, "hotline_flow": flow,
                                "sip_from_user": sample.caller,
                                "start_epoch": int(self.start), "answer_epoch": int(self.start),
                                calldata.var_name("caller"): sample.caller,
                                calldata.var_name("did"): sample.did}
        self.hangup_cause = "NORMAL_CLEARING"

    # what the runtime asks of a call
    def play(self, audio):
        self.log.debug("plays %s", audio.label)

    def say(self, language, kind, value):
        self.log.debug("says %s %s", kind, value)

    def read(self, prompt, invalid, *, minimum, maximum, tries, timeout, terminators, regex):
        def once():
            keys = self.keys.pop(0) if self.keys else ""
            for terminator in terminators:
                if terminator in keys:
                    keys = keys[:keys.index(terminator)]
            self.log.info("caller pressed %r", keys)
            return keys[:maximum]
        return read_like_the_switch(once, lambda: None, minimum=minimum, tries=tries,
                                    regex=regex)

    def set_var(self, name, value):
        self.variables[name] = value

    def transfer(self, to, target):
        self.log.info("transferred to %s %s", to, target)
        return True

    def voicemail(self, box, max_seconds):
        self.log.info("voicemail box %s (no message: a demo caller says nothing)", box)

    def hangup(self, cause):
        self.hangup_cause = cause

    def handback(self, flow, node, language):  # pragma: no cover - every node runs here
        raise AssertionError("the demo runs every node itself")

    def queue(self, queue, callback_key=None):
        """mod_callcenter's part: an agent answers, they talk, the agent hangs up."""
        cc_queue = f"{queue}@{DOMAIN}"
        joined = int(time.time())
        self.variables.update(cc_queue=cc_queue, cc_queue_joined_epoch=joined)
        agent = self.switch.callcenter.wait_for_agent(cc_queue, self.queue_wait)
        if agent is None:
            self.variables.update(cc_cause="cancel", cc_cancel_reason="TIMEOUT",
                                  cc_queue_canceled_epoch=int(time.time()))
            return "timeout"
        ext = agent.split("@", 1)[0]
        leg = str(uuidlib.uuid4())
        exported = self.variables.get(calldata.EXPORTS, ",".join(calldata.BASE_EXPORTS))
        leg_vars = {name: self.variables[name] for name in exported.split(",")
                    if name in self.variables}
        leg_vars.update(cc_agent=agent, cc_side="agent", cc_queue=cc_queue,
                        cc_member_session_uuid=self.uuid, dialed_user=ext,
                        cc_agent_type="callback")
        self.variables.update(cc_agent=agent, cc_queue_answered_epoch=int(time.time()),
                              cc_cause="answered")
        sent = (self.sample.caller, self.sample.caller_name, ext, leg_vars)
        self.switch.track(leg, True)
        self.switch.callcenter.bridged(agent)
        self.switch.channel_event("CHANNEL_ANSWER", leg, *sent)
        self.switch.channel_event("CHANNEL_BRIDGE", leg, *sent)
        self.log.info("bridged to agent %s (queue %s)", agent, queue)
        self.stopped.wait(self.talk_seconds)
        self.switch.channel_event("CHANNEL_HANGUP_COMPLETE", leg, *sent)
        self.switch.track(leg, False)
        self.switch.callcenter.ended(agent, int(self.talk_seconds))
        return "answered"


def cdr_xml(call: DemoCall) -> str:
    """The call as mod_xml_cdr writes it: variables URL-encoded, the first caller profile."""
    root = ET.Element("cdr", {"core-uuid": "hotline-demo"})
    variables = ET.SubElement(root, "variables")
    for name, value in call.variables.items():
        ET.SubElement(variables, name).text = quote(str(value), safe="")
    profile = ET.SubElement(ET.SubElement(root, "callflow"), "caller_profile")
    for name, value in (("caller_id_number", call.sample.caller),
                        ("caller_id_name", call.sample.caller_name),
                        ("destination_number", call.sample.did)):
        ET.SubElement(profile, name).text = value
    return ET.tostring(root, encoding="unicode")


class SampleCaller:
    """Places the sample calls in turn, one at a time, while an agent is Available."""

    def __init__(self, switch, runner, flows, cdr_url: str, cdr_password: str,
                 talk_seconds: float = 20.0, pause_seconds: float = 10.0,
                 queue_wait: float = 30.0, samples=SAMPLE_CALLS):
        self.switch, self.runner, self.flows = switch, runner, flows
        self.cdr_url, self.cdr_password = cdr_url, cdr_password
        self.talk_seconds, self.pause_seconds, self.queue_wait = (
            talk_seconds, pause_seconds, queue_wait)
        self.samples = samples
        self.placed = 0
        self.stopped = threading.Event()
        self._thread = None

    def start(self):
        self._thread = threading.Thread(target=self._run, name="demo-caller", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self.stopped.set()

    def _run(self):
        for sample in itertools.cycle(self.samples):
            while not self.stopped.is_set() and not self.switch.callcenter.anyone_ready():
                with self.switch.callcenter.changed:
                    self.switch.callcenter.changed.wait(0.5)
            if self.stopped.is_set():
                return
            try:
                self.place(sample)
            except Exception:
                log.exception("demo: sample call failed")
            if self.stopped.wait(self.pause_seconds):
                return

    def place(self, sample: SampleCall) -> DemoCall:
        flow = self.flows.by_did(sample.did)
        if flow is None:
            raise LookupError(f"no flow for the sample DID {sample.did}")
        call = DemoCall(self.switch, sample, flow.name, self.talk_seconds, self.queue_wait,
                        self.stopped)
        call.log.info("demo call from %s to %s (%s)", sample.caller, sample.did, sample.what)
        self.switch.track(call.uuid, True)
        sent = (sample.caller, sample.caller_name, sample.did, call.variables)
        self.switch.channel_event("CHANNEL_ANSWER", call.uuid, *sent)
        try:
            result = self.runner.run(call, flow.name, data={"caller": sample.caller,
                                                            "did": sample.did})
        finally:
            call.variables.update(end_epoch=int(time.time()), hangup_cause=call.hangup_cause)
            self.switch.channel_event("CHANNEL_HANGUP_COMPLETE", call.uuid, *sent)
            self.switch.track(call.uuid, False)
        call.log.info("demo call ended: %s, path %s", result.end, " ".join(result.path))
        self.post_cdr(call)
        self.placed += 1
        return call

    def post_cdr(self, call: DemoCall) -> None:
        token = base64.b64encode(f"hotline:{self.cdr_password}".encode()).decode()
        request = urllib.request.Request(
            self.cdr_url, data=cdr_xml(call).encode("utf-8"), method="POST",
            headers={"Content-Type": "text/xml", "Authorization": f"Basic {token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
