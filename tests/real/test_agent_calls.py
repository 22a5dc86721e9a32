"""An agent call on the real switch, end to end: a SIPp caller goes through the
heating IVR (0 at the main menu) into queue default; a baresip agent answers;
mod_callcenter records the call (record-template); the agent hangs up first, the
caller is taken to the survey and presses 4; `hotline run` stores the CDR it gets
on /api/cdr with a Recording row and a SurveyResult of 4 for that agent and queue.

The test steers SIPp with SIP INFO (uuid_send_info) when the switch is ready,
and waits for events (ESL, baresip's control socket, the recording's size, a
database row), never for a fixed time."""
import array
import wave
from pathlib import Path

import pytest

from db.connect import bind, open_database
from db.models import Agent, CallRecord, Queue, Recording, RecordingFailure, SurveyResult, Tier
from esl_apps.switch_render import switch_dirs
from tests.real import sipp
from tests.real.baresip import AgentPhone
from tests.real.harness import free_port
from tests.real.hotline_proc import EventWatcher, HotlineProcess
from tests.real.ivr_setup import (FLOWS_DIR, open_all_day_today, sample_flows_with_prompts,
                                  wait_for_open)

pytestmark = [pytest.mark.freeswitch, pytest.mark.usefixtures("sip_phones")]

HEATING_DID = "88001234"
AGENT = {"extension": "1001", "display_name": "Agent One", "sip_password": "agent-1001-secret"}
CC_AGENT = f"{AGENT['extension']}@default"
EVENTS = ("CHANNEL_ANSWER CHANNEL_EXECUTE CHANNEL_BRIDGE CHANNEL_UNBRIDGE "
          "CHANNEL_HANGUP_COMPLETE")
WAV_HEADER = 44
RATE = 8000
TALK_BYTES = 4 * RATE * 2      # 4 s of 16-bit mono 8 kHz written to the recording


@pytest.fixture(scope="module")
def prompts(tmp_path_factory):
    prompts_dir = tmp_path_factory.mktemp("prompts")
    return sample_flows_with_prompts(prompts_dir), prompts_dir


@pytest.fixture
def switch(real_switch_factory, prompts):
    flows, prompts_dir = prompts
    return real_switch_factory(
        flows=flows, agents=[AGENT],
        dids=[{"number": HEATING_DID, "flow": "heating_main", "language": "zh_CN"}],
        paths={"prompts_dir": str(prompts_dir)}, ivr={"flows_dir": str(FLOWS_DIR)},
        queues=[{"name": "default", "max_wait_time_with_no_agent": 30}]).start()


@pytest.fixture
def database(switch):
    hotline = HotlineProcess(switch)         # `hotline init` made the database
    db = bind(open_database(switch.config.database_url))
    yield hotline, db
    db.close()


@pytest.fixture
def hotline(database):
    proc, db = database
    open_all_day_today(proc.switch)
    with db.connection_context():
        # Hotline's own rows too, for whatever of them `hotline run` pushes to the switch
        agent = Agent.create(state="Available", **AGENT)
        queue, _ = Queue.get_or_create(name="default")
        Tier.get_or_create(queue=queue, agent=agent)
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture
def agent(switch, hotline, tmp_path):
    phone = AgentPhone(tmp_path, AGENT["extension"], AGENT["sip_password"],
                       switch.agents_port).start()
    domain = switch.fs.sip_ip
    for command in (f"callcenter_config agent add {CC_AGENT} callback",
                    f"callcenter_config agent set contact {CC_AGENT} user/1001@{domain}",
                    f"callcenter_config agent set status {CC_AGENT} Available",
                    f"callcenter_config tier add default@default {CC_AGENT} 1 1"):
        reply = switch.api(command)
        assert reply.startswith("+OK") or "already exist" in reply, (command, reply)
    yield phone
    phone.stop()


def caller_scenario(rates: bool = True, talks: bool = True) -> str:
    """INVITE; on each INFO: press 0 (main menu), talk (the g711a sample, once the
    agent is on; not with talks=False), then either press 4 (the survey) and wait for
    the switch's BYE, or (rates=False) hang up on the agent. Two INFOs must not come
    back to back: SIPp aborts on one that arrives while it starts a pcap."""
    who = {"caller": "13800138000", "caller_name": "SIPp"}
    audio = sipp.PLAY.format(pcaps=sipp.PCAPS, pcap="g711a.pcap")

    def digit(d):
        return sipp.PLAY.format(pcaps=sipp.PCAPS, pcap=sipp.DIGIT_PCAP[d])

    step = ['  <recv request="INFO" timeout="60000"/>\n', sipp._send(sipp.OK_TO_REQUEST)]
    parts = ['<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="agent call">\n',
             sipp._send(sipp._request("INVITE", 1, tail="X-FS-Support: send_info\n" + sipp.SDP,
                                      **who), retrans=True), sipp.ANSWERED,
             sipp._send(sipp._request("ACK", 1, tail="Content-Length: 0\n", **who)), audio,
             *step, digit("0"), *((*step, audio) if talks else ()), *step]
    if rates:
        parts += [digit("4"), '  <recv request="BYE" timeout="60000"/>\n',
                  sipp._send(sipp.OK_TO_BYE)]
    else:
        parts += [sipp._send(sipp._request("BYE", 2, tail="Content-Length: 0\n", **who),
                             retrans=True), '  <recv response="200"/>\n']
    return "".join(parts) + "</scenario>\n"


class AgentCall:
    """One SIPp caller steered to the agent; the test says what happens next."""

    def __init__(self, switch, watcher, agent, workdir, rates=True, talks=True):
        self.switch, self.watcher, self.agent = switch, watcher, agent
        self.caller = sipp.start(workdir, switch.trunks_port, HEATING_DID, free_port(),
                                 free_port() & ~1, caller_scenario(rates, talks))
        self.talks = talks
        self.uuid = watcher.wait(lambda e: e.get("Event-Name") == "CHANNEL_ANSWER"
                                 and e.get("variable_hotline_did") == HEATING_DID,
                                 what="the heating call answered")["Unique-ID"]

    def mine(self, event, name=None, app=None) -> bool:
        return (event.get("Unique-ID") == self.uuid
                and (name is None or event.get("Event-Name") == name)
                and (app is None or event.get("Application") == app))

    def wait(self, name, app=None, what=None) -> dict:
        return self.watcher.wait(lambda e: self.mine(e, name, app), what=what or name)

    def reads(self) -> int:
        return sum(1 for e in self.watcher.seen
                   if self.mine(e, "CHANNEL_EXECUTE", "play_and_get_digits"))

    def info(self, text):
        reply = self.switch.api(f"uuid_send_info {self.uuid} text plain {text}")
        assert reply.startswith("+OK"), reply

    def to_the_agent(self) -> tuple[dict, Path]:
        """Press 0 at the main menu; the agent answers; talk until the recording holds
        4 s (talks=True). (the CHANNEL_BRIDGE event, the recording's path)"""
        self.wait("CHANNEL_EXECUTE", "play_and_get_digits", "the main menu")
        self.info("press 0")
        self.wait("CHANNEL_EXECUTE", "callcenter", "the queue")
        assert self.agent.wait_event("CALL_ESTABLISHED", timeout=30) is not None, "no answer"
        bridged = self.wait("CHANNEL_BRIDGE", what="caller bridged to the agent")
        reply = self.switch.api(f"uuid_getvar {self.uuid} cc_record_filename").strip()
        recording = Path(reply)
        assert recording.name == f"{self.uuid}.wav", reply
        if not self.talks:
            return bridged, recording
        self.info("talk")
        self.switch.wait_for(lambda: recording.is_file()
                             and recording.stat().st_size >= WAV_HEADER + TALK_BYTES,
                             timeout=30, what="4 s of the call in the recording")
        return bridged, recording

    def finish(self) -> dict:
        hangup = self.wait("CHANNEL_HANGUP_COMPLETE", what="the caller's hangup")
        out, _ = self.caller.communicate(timeout=30)
        assert self.caller.returncode == 0, out[-3000:]
        return hangup


def peak(path: Path) -> int:
    with wave.open(str(path), "rb") as wav:
        assert wav.getsampwidth() == 2
        samples = array.array("h", wav.readframes(wav.getnframes()))
    return max((abs(s) for s in samples), default=0)


def test_agent_call_is_recorded_and_the_caller_rates_it(switch, database, hotline, agent,
                                                         tmp_path):
    _, db = database
    watcher = EventWatcher(switch, EVENTS)
    try:
        wait_for_open(switch)
        call = AgentCall(switch, watcher, agent, tmp_path / "sipp")
        uuid = call.uuid
        bridged, recording = call.to_the_agent()
        assert agent.command("hangup").get("response") is not False
        unbridged = call.wait("CHANNEL_UNBRIDGE", what="the agent gone")
        n_reads = call.reads()
        watcher.wait(lambda e: call.mine(e, "CHANNEL_EXECUTE", "play_and_get_digits")
                     and call.reads() > n_reads, what="the survey menu")
        call.info("press 4")
        hangup = call.finish()
    finally:
        watcher.close()

    assert bridged.get("variable_cc_agent", CC_AGENT) == CC_AGENT
    assert hangup["variable_cc_cause"] == "answered"
    assert hangup["variable_hotline_data_score"] == "4"
    assert hangup["variable_cc_record_filename"] == str(recording)
    path_items = hangup["variable_hotline_path"].split()
    assert "to_agent:queue" in path_items and "survey:ask" in path_items

    # the file: by date and call UUID under recordings_dir, with sound in it
    recordings_dir = switch.config.dirs["recordings_dir"]
    assert recording.parent.parent == recordings_dir
    with wave.open(str(recording), "rb") as wav:
        seconds = wav.getnframes() / wav.getframerate()
    talk = (int(unbridged["Event-Date-Timestamp"]) - int(bridged["Event-Date-Timestamp"])) / 1e6
    after = (int(hangup["Event-Date-Timestamp"]) - int(bridged["Event-Date-Timestamp"])) / 1e6
    assert seconds >= min(4, talk - 0.2), (seconds, talk)
    if hangup.get("variable_RECORD_BRIDGE_REQ") == "true":
        # frames are written only while bridged: the survey is not in the recording
        assert abs(seconds - talk) < 0.5, (seconds, talk)
    loudest = peak(recording)
    assert loudest > 1000, f"the recording is silent (peak {loudest})"

    # what `hotline run` stored from the CDR mod_xml_cdr posted
    def stored():
        with db.connection_context():
            return SurveyResult.get_or_none(SurveyResult.call_uuid == uuid)

    result = switch.wait_for(stored, timeout=40, what="the survey row")
    with db.connection_context():
        agent_row = Agent.get(Agent.extension == AGENT["extension"])
        record = CallRecord.get(CallRecord.call_uuid == uuid)
        rec = Recording.get(Recording.call_uuid == uuid)
        assert result.score == 4 and result.agent_id == agent_row.id
        assert result.queue == "default"
        assert rec.call_id == record.id and rec.path == str(recording)
        assert rec.agent_id == agent_row.id and rec.queue == "default"
        assert abs(float(rec.seconds) - seconds) < 0.05 and rec.seconds > 0
        assert record.agent_id == agent_row.id and record.queue_result == "answered"
        assert record.recording_status == "ok" and record.wait_seconds is not None
        assert not record.abandoned
    print(f"recording {seconds:.2f} s (bridged {talk:.2f} s, bridge to hangup {after:.2f} s), "
          f"peak {loudest}, waited {record.wait_seconds} s")


def stored_call(switch, db, uuid, timeout=40):
    def get():
        with db.connection_context():
            return CallRecord.get_or_none(CallRecord.call_uuid == uuid)
    return switch.wait_for(get, timeout=timeout, what=f"the call record of {uuid}")


def test_a_caller_who_hangs_up_first_is_recorded_but_not_surveyed(switch, database, hotline,
                                                                   agent, tmp_path):
    _, db = database
    watcher = EventWatcher(switch, EVENTS)
    try:
        wait_for_open(switch)
        call = AgentCall(switch, watcher, agent, tmp_path / "sipp", rates=False)
        _, recording = call.to_the_agent()
        n_reads = call.reads()
        call.info("hang up")
        hangup = call.finish()
        assert agent.wait_event("CALL_CLOSED", timeout=10) is not None
    finally:
        watcher.close()
    assert hangup["variable_cc_cause"] == "answered"
    assert "variable_hotline_data_score" not in hangup
    assert call.reads() == n_reads                      # no survey menu ran
    record = stored_call(switch, db, call.uuid)
    with db.connection_context():
        rec = Recording.get(Recording.call_uuid == call.uuid)
        assert rec.call_id == record.id and rec.path == str(recording) and rec.seconds > 0
        assert SurveyResult.select().where(SurveyResult.call_uuid == call.uuid).count() == 0


def test_cdrs_written_while_hotline_was_down_are_imported(switch, database, hotline, agent,
                                                           tmp_path):
    """The web side stops before the call; mod_xml_cdr fails to post (after its
    retries) and writes the CDR to its error-log directory; `hotline run` started
    again stores it from there, with its recording and survey score."""
    _, db = database
    wait_for_open(switch)                 # pushed while Hotline ran; the switch keeps it
    hotline.stop()
    errors = switch_dirs(switch.config)["cdr_errors"]
    watcher = EventWatcher(switch, EVENTS)
    try:
        call = AgentCall(switch, watcher, agent, tmp_path / "sipp")
        call.to_the_agent()
        assert agent.command("hangup").get("response") is not False
        call.wait("CHANNEL_UNBRIDGE", what="the agent gone")
        n_reads = call.reads()
        watcher.wait(lambda e: call.mine(e, "CHANNEL_EXECUTE", "play_and_get_digits")
                     and call.reads() > n_reads, what="the survey menu")
        call.info("press 4")
        call.finish()
    finally:
        watcher.close()
    written = errors / f"{call.uuid}.cdr.xml"
    switch.wait_for(written.is_file, timeout=40, what="the CDR in the error-log directory")
    with db.connection_context():
        assert CallRecord.get_or_none(CallRecord.call_uuid == call.uuid) is None
    hotline.start()
    stored_call(switch, db, call.uuid, timeout=30)
    with db.connection_context():
        assert SurveyResult.get(SurveyResult.call_uuid == call.uuid).score == 4
        assert Recording.get(Recording.call_uuid == call.uuid).seconds > 0
    switch.wait_for(lambda: not written.exists(), timeout=10, what="the imported file removed")



def test_a_failed_recording_is_counted_and_the_call_goes_on(switch, database, hotline, agent,
                                                             tmp_path):
    """The day's recording directory cannot be made (a file is in its place): the
    caller still talks to the agent, and the CDR counts the failure."""
    _, db = database
    day = switch.api("strftime %Y-%m-%d").strip()
    blocker = switch.config.dirs["recordings_dir"] / day
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("not a directory")
    watcher = EventWatcher(switch, EVENTS)
    try:
        wait_for_open(switch)
        call = AgentCall(switch, watcher, agent, tmp_path / "sipp", rates=False, talks=False)
        _, recording = call.to_the_agent()
        assert recording.parent == blocker
        call.info("hang up")
        hangup = call.finish()
    finally:
        watcher.close()
    assert hangup["variable_cc_cause"] == "answered"      # the agent took the call
    assert f"Error opening {recording}" in switch.log_text(since_start=True)
    record = stored_call(switch, db, call.uuid)
    with db.connection_context():
        assert record.recording_status == "missing"
        assert Recording.select().where(Recording.call_uuid == call.uuid).count() == 0
        failure = RecordingFailure.get(RecordingFailure.reason == "missing")
        assert failure.count == 1
