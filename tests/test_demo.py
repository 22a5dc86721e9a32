"""Demo mode: `hotline run --demo` (and --demo-if-no-switch with no switch) runs on
the demo switch, which places the sample calls through the sample flows to the
demo agent once they press Ready: the pop reaches their desk's event stream and the
call record lands; the demo is marked on every page, in the CLI output and on
/healthz; the real database is left alone.

The demo switch's reply texts and mod_callcenter tables are checked against the
traffic recorded from the real switch (tests/fixtures/esl/)."""
import http.client
import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from db.connect import bind, open_database
from db.models import Agent, CallRecord, SurveyResult
from esl_apps.acd import commands as cc
from esl_apps.demo import callcenter
from esl_apps.demo.calls import SAMPLE_CALLS, DemoCall
from esl_apps.demo.data import SAMPLE_CUSTOMERS, load_demo_rows
from esl_apps.demo.switch import DemoSwitch
from esl_apps.inbound import InboundClient
from esl_apps.ivr.hours import Hours
from esl_apps.ivr.loader import load_flows
from esl_apps.ivr.runtime import Runner
from esl_apps.ivr.services import IvrServices
from esl_apps.paths import data_dir
from esl_apps.switch_render import flow_queues
from tests.fakeswitch.inbound import recorded_replies
from tests.fakeswitch.recording import Recording
from tests.webpanel import csrf_token, make_app

HOTLINE = str(Path(sys.executable).with_name("hotline"))
FLOWS = data_dir("ivr_flows")
PASSWORD_LINE = re.compile(r"as (\S+), password: (\S+)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {what} within {timeout} s")
        time.sleep(0.05)


# -- the demo as `hotline run` starts it ------------------------------------------
class DemoProcess:
    """`hotline run --demo...` on a fresh config with free loopback ports."""

    def __init__(self, root: Path, *args, talk="1", pause="0.5"):
        self.root = root
        self.config = root / "hotline.toml"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
        self.env.update(HOTLINE_CONFIG=str(self.config), HOTLINE_WEB_PORT=str(free_port()),
                        HOTLINE_FREESWITCH_ESL_PORT=str(free_port()),   # nothing listens
                        HOTLINE_FREESWITCH_SOCKET_PORT=str(free_port()))
        self.base = f"http://127.0.0.1:{self.env['HOTLINE_WEB_PORT']}"
        subprocess.run([HOTLINE, "init"], env=self.env, check=True, capture_output=True)
        self.args = [HOTLINE, "run", *args, "--demo-talk-seconds", talk,
                     "--demo-pause-seconds", pause]
        self.proc = None

    def start(self):
        self.out = open(self.root / "run.out", "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(self.args, env=self.env, stdout=self.out,
                                     stderr=subprocess.STDOUT)
        self.user, self.password = wait_for(self._credentials, 30, "demo sign-in line")
        # the ACD's first sync with the demo switch is over: the demo agent is there
        wait_for(lambda: self.proc.poll() is not None or "synced with mod_callcenter"
                 in self.output(), 30, "the ACD's first sync")
        assert self.proc.poll() is None, self.output()
        return self

    def _credentials(self):
        if self.proc.poll() is not None:
            raise AssertionError("hotline run ended:\n" + self.output())
        match = PASSWORD_LINE.search(self.output())
        return match.groups() if match else None

    def output(self) -> str:
        path = self.root / "run.out"
        return path.read_text() if path.exists() else ""

    def demo_database(self):
        return bind(open_database(f"sqlite:///{self.root / 'data' / 'demo' / 'hotline.db'}"))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(20)
        if self.proc:
            self.out.close()


class Browserless:
    """A signed-in HTTP session (cookies, CSRF) against the demo's web panel."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=10) as response:
            return response.read().decode()

    def post(self, path: str, fields: dict, token_from: str, **headers) -> str:
        data = urllib.parse.urlencode({"csrf_token": csrf_token(self.get(token_from)),
                                       **fields}).encode()
        request = urllib.request.Request(self.base + path, data=data, headers=headers)
        with self.opener.open(request, timeout=10) as response:
            return response.read().decode()

    def sign_in(self, user: str, password: str) -> str:
        return self.post("/login", {"username": user, "password": password}, "/login")

    def events(self) -> "EventStream":
        cookie = "; ".join(f"{c.name}={c.value}" for c in self.jar)
        return EventStream(self.base, cookie)


class EventStream:
    """The desk's server-sent events, read line by line."""

    def __init__(self, base: str, cookie: str):
        parts = urllib.parse.urlsplit(base)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        self.conn.request("GET", "/desk/events", headers={"Cookie": cookie,
                                                          "Accept": "text/event-stream"})
        self.response = self.conn.getresponse()
        assert self.response.status == 200, self.response.status
        assert self.response.readline().startswith(b"retry:")

    def next_event(self, name: str = "pop") -> dict:
        """The data of the next event called `name` (the socket times out at 60 s)."""
        event = None
        while True:
            line = self.response.readline().decode().rstrip("\n")
            if not line and self.response.isclosed():
                raise EOFError("the event stream ended")
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == name:
                return json.loads(line[6:])

    def close(self):
        self.conn.close()


@pytest.fixture
def demo(tmp_path):
    proc = DemoProcess(tmp_path, "--demo-if-no-switch").start()
    yield proc
    proc.stop()


def test_the_demo_pops_a_call_on_the_agents_desk_and_stores_its_record(demo, tmp_path):
    out = demo.output()
    assert "DEMO MODE: FreeSWITCH is not reachable" in out
    assert demo.user == "demo.agent" and len(demo.password) >= 12

    web = Browserless(demo.base)
    assert 'id="demo-banner"' in web.get("/login")          # the banner, signed out too
    assert json.loads(web.get("/healthz")) == {"mode": "demo", "status": "ok"}
    page = web.sign_in(demo.user, demo.password)
    assert 'id="demo-banner"' in page
    desk = web.get("/desk")
    assert 'id="demo-banner"' in desk and 'id="agent-status"' in desk

    stream = web.events()
    try:
        # nobody is Ready yet: the demo switch places no call
        db = demo.demo_database()
        assert CallRecord.select().count() == 0
        reply = json.loads(web.post("/desk/status", {"action": "ready"}, "/desk",
                                    Accept="application/json"))
        assert reply["ok"] and reply["status"] == "Available", reply
        pop = stream.next_event("pop")
    finally:
        stream.close()

    first = SAMPLE_CALLS[0]
    assert pop["agent"] == "1001" and pop["caller"] == first.caller
    assert pop["caller_name"] == first.caller_name and pop["did"] == first.did
    assert pop["flow"] == "heating_main" and pop["queue"] == "default"
    assert pop["customer"]["name"] == SAMPLE_CUSTOMERS[0][0]          # a known caller
    assert pop["data"]["account"] == "20481357"                       # what the IVR learnt
    assert pop["data"]["bill.amount_due"] == "1234.5"
    assert "heating_main:ask_account" in pop["path"].split()

    record = wait_for(lambda: CallRecord.get_or_none(CallRecord.call_uuid == pop["call_uuid"]),
                      30, "the demo call's record")
    assert record.agent_id == Agent.get(Agent.extension == "1001").id
    assert record.queue == "default" and record.queue_result == "answered"
    assert record.caller == first.caller and record.flow == "heating_main"
    assert record.call_data["ivr"]["account"] == "20481357"
    survey = wait_for(lambda: SurveyResult.get_or_none(SurveyResult.call_uuid == record.call_uuid),
                      10, "the survey score")
    assert survey.score == 5
    db.close()

    # the real database (DATA_DIR/hotline.db) got no demo rows
    real = bind(open_database(f"sqlite:///{tmp_path / 'data' / 'hotline.db'}"))
    try:
        assert CallRecord.select().count() == 0
        assert Agent.select().count() == 0
    finally:
        real.close()


def test_a_reachable_switch_keeps_demo_if_no_switch_out_of_demo_mode(tmp_path):
    switch = DemoSwitch("not-the-configured-password").start()   # a switch is there
    proc = DemoProcess(tmp_path, "--demo-if-no-switch")
    proc.env["HOTLINE_FREESWITCH_ESL_PORT"] = str(switch.port)
    proc.out = open(tmp_path / "run.out", "w")  # noqa: SIM115 - closed in stop()
    proc.proc = subprocess.Popen(proc.args, env=proc.env, stdout=proc.out,
                                 stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: "Hotline is running" in proc.output(), 30, "the normal start line")
        assert "DEMO" not in proc.output()
        assert json.loads(Browserless(proc.base).get("/healthz")) == {"status": "ok"}
    finally:
        proc.stop()
        switch.stop()


# -- the pieces -------------------------------------------------------------------
def test_the_banner_shows_on_every_page_in_demo_mode_only(db):
    demo_app = make_app(HOTLINE_DEMO=True)
    page = demo_app.test_client().get("/login")
    assert page.status_code == 200 and 'id="demo-banner"' in page.text
    assert 'id="demo-banner"' not in make_app().test_client().get("/login").text
    assert demo_app.test_client().get("/healthz").json == {"mode": "demo", "status": "ok"}


def test_the_demo_switch_replies_as_the_recorded_switch_does():
    recorded = recorded_replies(Recording("inbound_session"), Recording("inbound_badauth"))
    for key, (headers, body) in DemoSwitch.replies.items():
        want_headers, want_body = recorded[key]
        assert set(headers) == set(want_headers) - {"Job-UUID"}, key
        if key not in ("bgapi", "filter"):      # those carry the job's uuid, the filter
            assert headers == want_headers and body == want_body, key


def test_the_demo_callcenter_lists_the_columns_mod_callcenter_lists():
    replies = Recording("inbound_callcenter").api_replies()
    for command, columns in ((cc.AGENT_LIST, callcenter.AGENT_COLUMNS),
                             (cc.TIER_LIST, callcenter.TIER_COLUMNS),
                             (cc.QUEUE_LIST, callcenter.QUEUE_COLUMNS)):
        assert replies[command].splitlines()[0].split("|") == list(columns), command


def test_the_acd_service_syncs_the_demo_callcenter_and_the_ready_agent_is_offered_calls(db):
    switch = DemoSwitch("pw").start()
    esl = InboundClient("127.0.0.1", switch.port, "pw")
    try:
        esl.start()
        assert esl.wait_connected(5)
        flows, _ = load_flows(FLOWS)
        load_demo_rows(db, flow_queues(flows))
        from esl_apps.acd.reconciler import Reconciler
        from esl_apps.acd.store import Store
        reconciler = Reconciler(esl.api, Store(db), "127.0.0.1")
        heals = reconciler.run_once()
        assert any("agent 1001 added" in str(h) for h in heals)
        assert reconciler.run_once() == []            # in sync: nothing more to heal
        assert switch.callcenter.pick("default@default") is None   # Logged Out
        Agent.update(state="Available").execute()
        reconciler.run_once()
        assert switch.callcenter.pick("default@default") == "1001@default"
        assert switch.callcenter.agents["1001@default"]["state"] == "Receiving"
    finally:
        esl.stop()
        switch.stop()


class _Switch:
    """The demo switch's part of a call without sockets: an agent always answers."""

    def __init__(self):
        self.events = []
        self.callcenter = self

    def wait_for_agent(self, queue, timeout):
        return "1001@default"

    def bridged(self, name):
        pass

    def ended(self, name, talk):
        pass

    def track(self, uuid, up):
        pass

    def channel_event(self, name, uuid, *sent):
        self.events.append((name, sent[-1]))


@pytest.mark.parametrize("sample", SAMPLE_CALLS, ids=lambda s: s.what)
def test_each_sample_call_reaches_an_agent_and_rates_the_call(db, sample, tmp_path):
    import threading

    from db.sample_data import load_sample_billing
    from esl_apps.demo.calls import hours_clock
    from esl_apps.ivr.flowset import FlowSet

    load_sample_billing(db)
    flows = FlowSet(FLOWS)
    flows.reload()
    runner = Runner(flows, IvrServices(database=db, hours=Hours(db),
                                       clock=hours_clock("Asia/Shanghai")), tmp_path)
    switch = _Switch()
    flow = flows.by_did(sample.did)
    call = DemoCall(switch, sample, flow.name, 0, 0, threading.Event())
    result = runner.run(call, flow.name, data={"caller": sample.caller, "did": sample.did})
    assert result.end == "hangup", result
    assert [name for name, _ in switch.events] == ["CHANNEL_ANSWER", "CHANNEL_BRIDGE",
                                                   "CHANNEL_HANGUP_COMPLETE"]
    leg = switch.events[1][1]
    assert leg["cc_agent"] == "1001@default" and leg["cc_member_session_uuid"] == call.uuid
    assert leg["hotline_data_caller"] == sample.caller
    assert call.variables["cc_cause"] == "answered"
    assert call.variables["hotline_data_score"] == sample.keys[-1]
