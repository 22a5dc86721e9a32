"""The desk's call controls on the real switch, through `hotline run`'s web panel:
a SIPp caller goes through the heating IVR into queue default, baresip agent 1001
answers; on that live call agent 1001 (signed in to the panel) holds and resumes
(the switch fires CHANNEL_HOLD / CHANNEL_UNHOLD on the agent's leg), blind-
transfers the caller to agent 1002 (whose baresip answers; 1001's leg ends), and
agent 1002 hangs up through the control (the caller gets the BYE). Agent 1001 may
not touch 1002's leg. However the desk moved the call (blind transfer, consult then
cancel or complete, 3-way), when the last agent hangs up the caller goes on to the
flow's survey, and the recording goes on with the agent who took the call over (1002's
phone sends a 1400 Hz tone: it is found after the transfer, not before).
Waits for events, never for a fixed time."""
import json
from pathlib import Path

import pytest
from werkzeug.security import generate_password_hash

from db.connect import bind, open_database
from db.models import Agent, Queue, Tier, User
from tests.real import sipp
from tests.real.baresip import AgentPhone
from tests.real.harness import free_port
from tests.real.hotline_proc import EventWatcher, HotlineProcess
from tests.real.ivr_setup import (
    FLOWS_DIR,
    open_all_day_today,
    sample_flows_with_prompts,
    wait_for_open,
)
from tests.real.panel import Panel
from tests.real.tones import samples, tone_share, write_tone

pytestmark = [pytest.mark.freeswitch, pytest.mark.usefixtures("sip_phones")]

HEATING_DID = "88001234"
AGENTS = [{"extension": "1001", "display_name": "Agent One", "sip_password": "agent-1001-secret"},
          {"extension": "1002", "display_name": "Agent Two", "sip_password": "agent-1002-secret"}]
PASSWORD = "desk controls password"
TONE_HZ = 1400        # what 1002's phone says
EMPTY_QUEUE = "empty"  # no agent; gives its callers back after 2 s
WAV_HEADER, SECOND = 44, 8000 * 2
EVENTS = ("CHANNEL_ANSWER CHANNEL_EXECUTE CHANNEL_BRIDGE CHANNEL_UNBRIDGE CHANNEL_HOLD "
          "CHANNEL_UNHOLD CHANNEL_HANGUP_COMPLETE")


@pytest.fixture
def switch(real_switch_factory, tmp_path):
    prompts_dir = tmp_path / "prompts"
    prompts_dir.mkdir()
    flows = sample_flows_with_prompts(prompts_dir)
    return real_switch_factory(
        flows=flows, agents=AGENTS,
        dids=[{"number": HEATING_DID, "flow": "heating_main", "language": "zh_CN"}],
        paths={"prompts_dir": str(prompts_dir)}, ivr={"flows_dir": str(FLOWS_DIR)},
        queues=[{"name": "default", "max_wait_time_with_no_agent": 30},
                {"name": EMPTY_QUEUE, "max_wait_time": 2}]).start()


@pytest.fixture
def hotline(switch):
    proc = HotlineProcess(switch)           # `hotline init` made the database
    db = bind(open_database(switch.config.database_url))
    open_all_day_today(switch)
    with db.connection_context():
        queue, _ = Queue.get_or_create(name="default")
        Queue.create(name=EMPTY_QUEUE, max_wait_time=2)    # no agents: gives callers back
        for number, row in enumerate(AGENTS, 1):
            user = User.create(username=f"agent{number}", role="agent",
                               password_hash=generate_password_hash(PASSWORD),
                               display_name=row["display_name"])
            agent = Agent.create(user=user, state="Logged Out", **row)
            if number == 1:    # only 1001 takes queue calls; 1002 is reached by transfer
                agent.state = "Available"
                agent.save()
                Tier.get_or_create(queue=queue, agent=agent)
    proc.start()
    yield proc
    proc.stop()
    db.close()


@pytest.fixture
def phones(switch, hotline, tmp_path):
    tone = write_tone(tmp_path / "tone.wav", TONE_HZ, 120)
    made = [AgentPhone(tmp_path, row["extension"], row["sip_password"], switch.agents_port,
                       audio_file=tone if row["extension"] == "1002" else None).start()
            for row in AGENTS]
    cc_agent = "1001@default"
    domain = switch.fs.sip_ip
    for command in (f"callcenter_config agent add {cc_agent} callback",
                    f"callcenter_config agent set contact {cc_agent} user/1001@{domain}",
                    f"callcenter_config agent set status {cc_agent} Available",
                    f"callcenter_config tier add default@default {cc_agent} 1 1"):
        reply = switch.api(command)
        assert reply.startswith("+OK") or "already exist" in reply, (command, reply)
    yield made
    for phone in made:
        phone.stop()


OK_TO_INVITE = sipp.OK_TO_BYE.replace("Content-Length: 0\n", "") + sipp.SDP


def caller_scenario() -> str:
    """INVITE; on the INFO, press 0 (main menu); talk; then wait for the switch's BYE,
    answering the re-INVITEs the switch sends when the caller's bridge changes."""
    who = {"caller": "13800138000", "caller_name": "SIPp"}
    audio = sipp.PLAY.format(pcaps=sipp.PCAPS, pcap="g711a.pcap")
    return "".join([
        '<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="desk controls">\n',
        sipp._send(sipp._request("INVITE", 1, tail="X-FS-Support: send_info\n" + sipp.SDP,
                                 **who), retrans=True), sipp.ANSWERED,
        sipp._send(sipp._request("ACK", 1, tail="Content-Length: 0\n", **who)), audio,
        '  <recv request="INFO" timeout="60000"/>\n', sipp._send(sipp.OK_TO_REQUEST),
        sipp.PLAY.format(pcaps=sipp.PCAPS, pcap=sipp.DIGIT_PCAP["0"]),
        '  <recv request="INFO" timeout="60000"/>\n', sipp._send(sipp.OK_TO_REQUEST), audio,
        '  <label id="1"/>\n',
        '  <recv request="INVITE" optional="true" next="2"/>\n',
        '  <recv request="BYE" timeout="120000"/>\n',
        f'  <send next="3"><![CDATA[\n{sipp.OK_TO_BYE}]]></send>\n',
        '  <label id="2"/>\n',
        f'  <send><![CDATA[\n{OK_TO_INVITE}]]></send>\n',
        '  <recv request="ACK" next="1"/>\n',
        '  <label id="3"/>\n',
        "</scenario>\n"])


def on(uuid, name, app=None):
    return lambda e: (e.get("Unique-ID") == uuid and e.get("Event-Name") == name
                      and (app is None or e.get("Application") == app))


def bridged(one, two):
    return lambda e: (e.get("Event-Name") == "CHANNEL_BRIDGE"
                      and {e.get("Unique-ID"), e.get("Other-Leg-Unique-ID")} == {one, two})


class LiveCall:
    """A SIPp caller through the heating IVR into queue default, answered by 1001;
    both agents signed in to the panel."""

    def __init__(self, switch, phones, workdir):
        self.switch, (self.one, self.two) = switch, phones
        self.watcher = EventWatcher(switch, EVENTS)
        self.caller = None
        wait_for_open(switch)
        self.caller = sipp.start(workdir, switch.trunks_port, HEATING_DID, free_port(),
                                 free_port() & ~1, caller_scenario(), timeout=180)
        wait = self.wait
        self.call = wait(lambda e: e.get("Event-Name") == "CHANNEL_ANSWER"
                         and e.get("variable_hotline_did") == HEATING_DID,
                         "the heating call answered")["Unique-ID"]
        wait(on(self.call, "CHANNEL_EXECUTE", "play_and_get_digits"), "the menu")
        assert switch.api(f"uuid_send_info {self.call} text plain press0").startswith("+OK")
        wait(on(self.call, "CHANNEL_EXECUTE", "callcenter"), "the queue")
        assert self.one.wait_event("CALL_ESTABLISHED", timeout=30) is not None, "no answer"
        wait(on(self.call, "CHANNEL_BRIDGE"), "caller bridged to 1001")
        assert switch.api(f"uuid_send_info {self.call} text plain talk").startswith("+OK")
        self.leg_one = wait(lambda e: e.get("Event-Name") == "CHANNEL_ANSWER"
                            and e.get("variable_cc_agent") == "1001@default"
                            and e.get("variable_cc_side") == "agent", "1001's leg")["Unique-ID"]
        self.desk_one = Panel(switch.web_port, "agent1", PASSWORD)
        self.desk_two = Panel(switch.web_port, "agent2", PASSWORD)

    def wait(self, predicate, what, since=0):
        return self.watcher.wait(predicate, what=what, since=since)

    def leg_of_1002(self, what="1002's leg answered") -> str:
        return self.wait(lambda e: e.get("Event-Name") == "CHANNEL_ANSWER"
                         and e.get("variable_dialed_user") == "1002"
                         and e.get("Unique-ID") not in self.seen_legs, what)["Unique-ID"]

    @property
    def seen_legs(self):
        return getattr(self, "_seen", set())

    def forget(self, uuid):
        self._seen = self.seen_legs | {uuid}

    def exists(self, uuid) -> bool:
        return self.switch.api(f"uuid_exists {uuid}").strip() == "true"

    def survey(self):
        """The caller is asked for a rating (the flow's answered outcome); then the
        switch hangs up on them (no waiting for the survey's timeouts)."""
        self.wait(lambda e: e.get("Unique-ID") == self.call
                  and e.get("Event-Name") == "CHANNEL_EXECUTE"
                  and e.get("Application") == "play_and_get_digits"
                  and "survey:ask" in e.get("variable_hotline_path", ""),
                  "the caller asked for a rating")
        assert self.switch.api(f"uuid_kill {self.call}").startswith("+OK")
        self.caller_done()

    def recording(self) -> Path:
        reply = self.switch.api(f"uuid_getvar {self.call} cc_record_filename").strip()
        assert reply.endswith(f"{self.call}.wav"), reply
        return Path(reply)

    def recorded(self, recording: Path, seconds: float, what: str) -> int:
        """Wait until `seconds` more of the call are in the recording; its size before."""
        start = recording.stat().st_size if recording.is_file() else WAV_HEADER
        self.switch.wait_for(lambda: recording.is_file() and recording.stat().st_size
                             >= start + seconds * SECOND, timeout=30, what=what)
        return start

    def caller_done(self):
        self.wait(on(self.call, "CHANNEL_HANGUP_COMPLETE"), "the caller's hangup")
        out, _ = self.caller.communicate(timeout=30)
        assert self.caller.returncode == 0, out[-3000:]
        self.caller = None

    def close(self):
        self.watcher.close()
        if self.caller is not None and self.caller.poll() is None:
            self.caller.kill()
            self.caller.wait(5)


@pytest.fixture
def live(switch, phones, tmp_path):
    call = LiveCall(switch, phones, tmp_path / "sipp")
    yield call
    call.close()


def test_hold_resume_blind_transfer_and_hang_up_through_the_desk(live):
    call, leg_one, desk_one, desk_two = live.call, live.leg_one, live.desk_one, live.desk_two
    # the card names the caller's leg (the pop's call UUID): the desk finds 1001's
    assert desk_one.leg_of(call) == leg_one
    status, body = desk_two.open(f"/desk/call?call={leg_one}", accept="application/json")
    assert status == 403 and json.loads(body)["error"] == "not_yours"

    # hold and resume: the switch holds 1001's leg, and lets it go again
    status, body = desk_one.control("hold", leg_one)
    assert status == 200 and body["state"] == "held", body
    live.wait(on(leg_one, "CHANNEL_HOLD"), "1001's leg held")
    assert live.switch.api(f"uuid_getvar {leg_one} hotline_desk_state").strip() == "held"
    status, body = desk_one.control("resume", leg_one)
    assert status == 200 and body["state"] == "talking", body
    live.wait(on(leg_one, "CHANNEL_UNHOLD"), "1001's leg taken off hold")

    # 2 s with 1001 in the recording (whose phone is silent)
    recording = live.recording()
    live.recorded(recording, 2, "2 s with 1001 in the recording")

    # blind transfer to agent 1002: their phone answers, 1001's leg ends
    before = recording.stat().st_size
    status, body = desk_one.control("transfer", leg_one, target="agent:1002")
    assert status == 200 and body["state"] == "transferred", body
    assert live.two.wait_event("CALL_ESTABLISHED", timeout=30) is not None, "1002 no answer"
    leg_two = live.leg_of_1002()
    assert live.switch.api(f"uuid_getvar {leg_two} hotline_desk_caller").strip() == call
    live.wait(on(leg_one, "CHANNEL_HANGUP_COMPLETE"), "1001's leg gone")
    live.wait(bridged(call, leg_two), "caller bridged to 1002")
    assert desk_two.leg_of(call) == leg_two
    live.recorded(recording, 3, "3 s with 1002 in the recording")

    # 1001 may not control 1002's call; 1002 hangs up through the desk
    status, body = desk_one.control("hangup", leg_two)
    assert status == 403 and body["error"] == "not_yours", body
    assert live.exists(leg_two)
    status, body = desk_two.control("hangup", leg_two)
    assert status == 200 and body["state"] == "ended", body
    hangup = live.wait(on(leg_two, "CHANNEL_HANGUP_COMPLETE"), "1002's leg gone")
    assert hangup["Hangup-Cause"] == "NORMAL_CLEARING"
    live.survey()

    # one recording of the whole call: 1001's part without the tone, 1002's with it
    data, rate = samples(recording)
    cut = (before - WAV_HEADER) // 2
    with_one, with_two = data[:cut], data[cut + rate:]     # a second for the ringing
    assert len(with_one) >= 2 * rate and len(with_two) >= 2 * rate
    assert tone_share(with_one, rate, TONE_HZ) < 0.1, "1002's tone before the transfer"
    assert tone_share(with_two, rate, TONE_HZ) > 0.5, "1002 is not in the recording"


def test_blind_transfer_to_a_queue_that_gives_the_caller_back(live):
    """1001 sends the caller to a queue with no agent: 1001's leg ends, the caller
    waits there, and when that queue gives them back they go on as the flow's own
    queue node says for a timeout (to_agent's busy notice, then voicemail), not
    hung up."""
    call, leg_one, desk_one = live.call, live.leg_one, live.desk_one
    mark = live.watcher.mark()
    status, body = desk_one.control("transfer", leg_one, target=f"queue:{EMPTY_QUEUE}")
    assert status == 200 and body["state"] == "transferred", body
    live.wait(on(leg_one, "CHANNEL_HANGUP_COMPLETE"), "1001's leg gone", since=mark)
    live.wait(lambda e: on(call, "CHANNEL_EXECUTE", "callcenter")(e)
              and e.get("Application-Data") == f"{EMPTY_QUEUE}@default",
              "the caller in the empty queue", since=mark)
    busy = live.wait(lambda e: on(call, "CHANNEL_EXECUTE")(e)
                     and e.get("variable_hotline_path", "").endswith("to_agent:busy"),
                     "the flow's timeout way on", since=mark)
    assert (busy["variable_cc_cause"], busy["variable_cc_cancel_reason"]) == ("cancel", "TIMEOUT")
    assert busy["variable_hotline_queue"] == EMPTY_QUEUE
    assert live.exists(call)
    assert live.switch.api(f"uuid_kill {call}").startswith("+OK")
    live.caller_done()


def test_attended_transfer_called_off_then_completed(live):
    call, leg_one, desk_one, desk_two = live.call, live.leg_one, live.desk_one, live.desk_two
    # consult 1002: the caller holds, 1001's own leg rings 1002
    status, body = desk_one.control("consult", leg_one, target="agent:1002")
    assert status == 200 and body["state"] == "consulting", body
    consulted = body["other"]
    assert live.two.wait_event("CALL_ESTABLISHED", timeout=30) is not None, "1002 no answer"
    live.wait(bridged(leg_one, consulted), "1001 talking to 1002")
    assert live.exists(call)
    # back to the caller: 1002's leg ends, caller and 1001 talk again
    mark = live.watcher.mark()
    status, body = desk_one.control("cancel", leg_one)
    assert status == 200 and body["state"] == "talking", body
    live.wait(on(consulted, "CHANNEL_HANGUP_COMPLETE"), "the consulted leg gone")
    live.wait(bridged(call, leg_one), "caller back with 1001", since=mark)
    live.forget(consulted)

    # again, and this time complete: the caller talks to 1002, 1001 leaves
    status, body = desk_one.control("consult", leg_one, target="agent:1002")
    assert status == 200 and body["state"] == "consulting", body
    consulted = body["other"]
    live.wait(bridged(leg_one, consulted), "1001 talking to 1002 again")
    status, body = desk_one.control("complete", leg_one)
    assert status == 200 and body["state"] == "transferred", body
    live.wait(bridged(call, consulted), "caller bridged to 1002")
    live.wait(on(leg_one, "CHANNEL_HANGUP_COMPLETE"), "1001's leg gone")
    assert desk_two.leg_of(call) == consulted
    status, body = desk_two.control("hangup", consulted)
    assert status == 200, body
    live.survey()         # 1002 hung up: the caller rates the call


def test_consult_called_off_then_the_agent_hangs_up_and_the_caller_rates(live):
    call, leg_one, desk_one = live.call, live.leg_one, live.desk_one
    status, body = desk_one.control("consult", leg_one, target="agent:1002")
    assert status == 200 and body["state"] == "consulting", body
    consulted = body["other"]
    live.wait(bridged(leg_one, consulted), "1001 talking to 1002")
    mark = live.watcher.mark()
    status, body = desk_one.control("cancel", leg_one)
    assert status == 200 and body["state"] == "talking", body
    live.wait(bridged(call, leg_one), "caller back with 1001", since=mark)
    status, body = desk_one.control("hangup", leg_one)
    assert status == 200 and body["state"] == "ended", body
    live.wait(on(leg_one, "CHANNEL_HANGUP_COMPLETE"), "1001's leg gone")
    live.survey()


def test_three_way_call_then_the_agent_hangs_up(live):
    call, leg_one, desk_one = live.call, live.leg_one, live.desk_one
    status, body = desk_one.control("conference", leg_one, target="agent:1002")
    assert status == 200 and body["state"] == "conference", body
    third = body["other"]
    assert live.two.wait_event("CALL_ESTABLISHED", timeout=30) is not None, "1002 no answer"
    live.wait(on(third, "CHANNEL_EXECUTE", "three_way"), "1002 joins the call")
    assert live.exists(call) and live.exists(leg_one)
    status, body = desk_one.open(f"/desk/call?call={call}", accept="application/json")
    assert json.loads(body)["state"] == "conference"
    # drop the third party: caller and 1001 talk on
    status, body = desk_one.control("leave", leg_one)
    assert status == 200 and body["state"] == "talking", body
    live.wait(on(third, "CHANNEL_HANGUP_COMPLETE"), "the third party gone")
    assert live.exists(call) and live.exists(leg_one)
    status, body = desk_one.control("hangup", leg_one)
    assert status == 200 and body["state"] == "ended", body
    live.wait(on(leg_one, "CHANNEL_HANGUP_COMPLETE"), "1001's leg gone")
    live.survey()
