"""The caller in the queue on the real switch: hold music from local_stream, the
position announcement with the callback offer, pressing 1 to leave the queue for a
callback request, and the queue's max wait handing the caller to the timeout branch.

SIPp is the caller, `hotline run` the waiting service and the CDR receiver; no agent
is logged in, so the caller stays in the queue."""
import array
import datetime
import math
import time
import wave

import pytest

from db.connect import bind, open_database
from db.models import CallbackRequest, CallRecord, Queue
from esl_apps.ivr.loader import load_flows
from esl_apps.prompts.build import build
from esl_apps.waiting.moh import SOURCE_DIR, build_moh
from tests.real import sipp
from tests.real.harness import free_port
from tests.real.hotline_proc import EventWatcher, HotlineProcess

pytestmark = pytest.mark.freeswitch

DID = "88005555"
FLOW = """name: waitq
entry: hold
language: zh
nodes:
  hold:
    verb: play
    text: {{zh: "正在为您转接人工服务，请稍候", en: "Connecting you to an agent, please hold"}}
    next: {{done: queue}}
  queue:
    verb: queue
    queue: {queue}
    callback_key: "1"
    next: {{callback: cb, timeout: sorry}}
  cb:
    verb: callback
    queue: {queue}
    next: {{done: thanks}}
  thanks:
    verb: play
    text: {{zh: "我们会尽快给您回电，再见", en: "We will call you back, goodbye"}}
    next: {{done: bye}}
  sorry:
    verb: play
    text: {{zh: "坐席繁忙", en: "All agents are busy"}}
    next: {{done: bye}}
  bye:
    verb: hangup
"""
# every word after CUSTOM is a subclass: CUSTOM goes last
EVENTS = ("CHANNEL_ANSWER CHANNEL_EXECUTE CHANNEL_HANGUP_COMPLETE RECORD_STOP "
          "CUSTOM callcenter::info")


@pytest.fixture(autouse=True)
def _need_tools():
    if sipp.sipp_binary() is None:
        pytest.skip("SIPp not installed (apt-get install sip-tester)")
    if not any(SOURCE_DIR.glob("*.wav")):
        pytest.skip("no hold music: apt-get install asterisk-moh-opsound-wav")


def make_switch(factory, tmp_path, queue, **queue_params):
    flows_dir = tmp_path / "flows"
    flows_dir.mkdir()
    (flows_dir / "waitq.yaml").write_text(FLOW.format(queue=queue), encoding="utf-8")
    flows, errors = load_flows(flows_dir)
    assert not errors, errors
    prompts_dir = tmp_path / "prompts"
    report = build(flows, prompts_dir)
    assert report.ok, report.failed
    switch = factory(flows=flows, paths={"prompts_dir": str(prompts_dir)},
                     ivr={"flows_dir": str(flows_dir)},
                     dids=[{"number": DID, "flow": "waitq", "language": "zh_CN"}],
                     queues=[{"name": queue, **queue_params}])
    build_moh(switch.config.dirs["moh_dir"])
    return switch.start()


def hotline_with_queue(switch, queue, **columns):
    proc = HotlineProcess(switch)
    db = bind(open_database(switch.config.database_url))
    try:
        Queue.create(name=queue, **columns)
    finally:
        db.close()
    return proc.start()


def wait_for(predicate, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise TimeoutError(f"timed out waiting for {what}")


def right_channel_rms(path, start_s, end_s):
    """RMS of what the switch sent the caller (the right channel of a stereo record)."""
    with wave.open(str(path)) as w:
        rate, width, channels = w.getframerate(), w.getsampwidth(), w.getnchannels()
        w.setpos(int(start_s * rate))
        frames = w.readframes(int((end_s - start_s) * rate))
    assert width == 2 and channels == 2
    right = array.array("h", frames)[1::2]
    return int(math.sqrt(sum(x * x for x in right) / max(1, len(right))))


def test_hold_music_announcement_and_callback(real_switch_factory, tmp_path):
    switch = make_switch(real_switch_factory, tmp_path, "waitq")
    hotline = hotline_with_queue(switch, "waitq", announce_frequency=3)
    watcher = EventWatcher(switch, EVENTS)
    try:
        caller = sipp.start(tmp_path / "sipp", switch.trunks_port, DID, free_port(),
                            free_port() & ~1, sipp.stepped_scenario(["1"]))
        answered = watcher.wait(lambda e: e.get("Event-Name") == "CHANNEL_ANSWER"
                                and e.get("variable_hotline_did") == DID, what="answer")
        uuid = answered["Unique-ID"]
        joined = watcher.wait(lambda e: e.get("CC-Action") == "member-queue-start"
                              and e.get("CC-Member-Session-UUID") == uuid,
                              what="member-queue-start")
        record = tmp_path / "heard.wav"
        switch.api(f"uuid_setvar {uuid} RECORD_STEREO true")
        # the queue node records bridged calls only (RECORD_BRIDGE_REQ); this record
        # of the waiting caller is the test's own
        switch.api(f"uuid_setvar {uuid} RECORD_BRIDGE_REQ false")
        assert switch.api(f"uuid_record {uuid} start {record}").startswith("+OK")
        # the announcement is due 3 s after joining
        line = wait_for(lambda: [x for x in hotline.output().splitlines()
                                 if f"[{uuid}] announced position 1" in x], 15,
                        "the announcement")
        assert "+OK" in line[0], line
        # music goes on after it: record until the next announcement is due
        wait_for(lambda: len([x for x in hotline.output().splitlines()
                              if f"[{uuid}] announced position 1" in x]) >= 2, 15,
                 "the second announcement")
        switch.api(f"uuid_record {uuid} stop {record}")
        watcher.wait(lambda e: e.get("Unique-ID") == uuid and e.get("Event-Name")
                     == "RECORD_STOP", what="the record closed")
        # the caller heard music (and the announcement): not silence
        before, after = right_channel_rms(record, 0.5, 2.5), right_channel_rms(record, 2.5, 6.0)
        print(f"caller heard RMS {before} (music), {after} (announcement, music)")
        assert before > 100, "no hold music before the announcement"
        assert after > 100
        assert switch.api(f"uuid_send_info {uuid} text plain next").startswith("+OK")
        watcher.wait(lambda e: e.get("Unique-ID") == uuid and e.get("Event-Name")
                     == "CHANNEL_EXECUTE" and e.get("Application") in ("set", "multiset")
                     and "hotline_callback_queue" in e.get("Application-Data", ""),
                     what="the callback node")
        switch.api(f"uuid_send_info {uuid} text plain hangup")
        hangup = watcher.wait(lambda e: e.get("Unique-ID") == uuid and e.get("Event-Name")
                              == "CHANNEL_HANGUP_COMPLETE", what="hangup")
        out, _ = caller.communicate(timeout=30)
        assert caller.returncode == 0, out[-3000:]
    finally:
        watcher.close()
    assert hangup["variable_cc_cancel_reason"] == "EXIT_WITH_KEY"
    assert hangup["variable_hotline_path"].split() == [
        "waitq:hold", "waitq:queue", "waitq:cb", "waitq:thanks"], hangup["variable_hotline_path"]
    db = bind(open_database(switch.config.database_url))
    try:
        request = wait_for(lambda: CallbackRequest.get_or_none(CallbackRequest.call_uuid == uuid),
                           30, "the callback request")
        call = CallRecord.get(CallRecord.call_uuid == uuid)
    finally:
        db.close()
    hotline.stop()
    assert request.queue == "waitq" and request.number == "+8613800138000"
    joined_at = int(joined["Event-Date-Timestamp"]) / 1e6
    joined_utc = datetime.datetime.fromtimestamp(joined_at, datetime.timezone.utc).replace(
        tzinfo=None)
    print("position_time", request.position_time, "call start", call.start_at,
          "queue joined", joined_utc)
    assert (joined_utc - call.start_at).total_seconds() > 1   # the hold prompt came first
    # the callback keeps the caller's place: the time they joined the queue
    assert abs((request.position_time - joined_utc).total_seconds()) <= 1


def test_max_wait_goes_to_the_timeout_branch(real_switch_factory, tmp_path):
    switch = make_switch(real_switch_factory, tmp_path, "shortq", max_wait_time=2)
    hotline = hotline_with_queue(switch, "shortq", announce_frequency=0, max_wait_time=2)
    watcher = EventWatcher(switch, EVENTS)
    try:
        began = time.monotonic()
        result = sipp.call(tmp_path / "sipp", switch.trunks_port, DID, free_port(),
                           free_port() & ~1)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        hangup = watcher.wait(lambda e: e.get("Event-Name") == "CHANNEL_HANGUP_COMPLETE"
                              and e.get("variable_hotline_did") == DID, what="hangup")
        seconds = time.monotonic() - began
    finally:
        watcher.close()
        hotline.stop()
    assert hangup["variable_cc_cancel_reason"] == "TIMEOUT"
    assert hangup["variable_hotline_path"].split() == [
        "waitq:hold", "waitq:queue", "waitq:sorry", "waitq:bye"], hangup["variable_hotline_path"]
    assert seconds < 15


AGENTS = [{"extension": "1001", "display_name": "Sticky", "sip_password": "agent-1001-secret"},
          {"extension": "1002", "display_name": "First", "sip_password": "agent-1002-secret"}]


def test_sticky_agent_is_offered_the_call_first(real_switch_factory, tmp_path):
    """top-down offers 1002 (position 1) before 1001 (position 2); a caller whom 1001
    answered yesterday is offered to 1001 first: the queue node hands the call to the
    `sticky` app, which sets 1001's tier to level 0 before the caller joins."""
    from tests.real.baresip import AgentPhone, baresip_binary
    from db.models import Agent, Tier
    if baresip_binary() is None:
        pytest.skip("baresip not installed (apt-get install baresip)")
    flows_dir = tmp_path / "flows"
    flows_dir.mkdir()
    (flows_dir / "waitq.yaml").write_text(FLOW.format(queue="stickq"), encoding="utf-8")
    flows, errors = load_flows(flows_dir)
    assert not errors, errors
    prompts_dir = tmp_path / "prompts"
    assert build(flows, prompts_dir).ok
    switch = real_switch_factory(
        flows=flows, agents=AGENTS, paths={"prompts_dir": str(prompts_dir)},
        ivr={"flows_dir": str(flows_dir)},
        dids=[{"number": DID, "flow": "waitq", "language": "zh_CN"}],
        queues=[{"name": "stickq", "strategy": "top-down"}]).start()
    proc = HotlineProcess(switch)
    db = bind(open_database(switch.config.database_url))
    try:
        queue = Queue.create(name="stickq", strategy="top-down", sticky_agent_days=7,
                             announce_frequency=0)
        rows = {}
        for position, a in ((2, AGENTS[0]), (1, AGENTS[1])):
            rows[a["extension"]] = Agent.create(state="Available", wrap_up_time=0, **a)
            Tier.create(queue=queue, agent=rows[a["extension"]], level=1, position=position)
        CallRecord.create(call_uuid="yesterday", direction="inbound", caller="13800138000",
                          caller_e164="+8613800138000", queue="stickq", agent=rows["1001"],
                          start_at=datetime.datetime.utcnow() - datetime.timedelta(days=1))
    finally:
        db.close()
    hotline = proc.start()
    phones = []
    watcher = EventWatcher(switch, EVENTS)
    try:
        for a in AGENTS:
            phones.append(AgentPhone(tmp_path, a["extension"], a["sip_password"],
                                     switch.agents_port).start())
        domain = switch.fs.sip_ip
        for position, a in ((2, AGENTS[0]), (1, AGENTS[1])):
            cc = f"{a['extension']}@default"
            for command in (f"callcenter_config agent add {cc} callback",
                            f"callcenter_config agent set contact {cc} "
                            f"user/{a['extension']}@{domain}",
                            f"callcenter_config agent set wrap_up_time {cc} 0",
                            f"callcenter_config agent set status {cc} Available",
                            f"callcenter_config tier add stickq@default {cc} 1 {position}"):
                reply = switch.api(command)
                assert reply.startswith("+OK") or "exist" in reply, (command, reply)

        def offered_to(caller_number):
            caller = sipp.start(tmp_path / f"sipp-{caller_number}", switch.trunks_port, DID,
                                free_port(), free_port() & ~1,
                                sipp.stepped_scenario([], caller=caller_number))
            uuid = watcher.wait(lambda e: e.get("Event-Name") == "CHANNEL_ANSWER"
                                and e.get("variable_hotline_did") == DID
                                and e.get("Caller-Caller-ID-Number") == caller_number,
                                what="answer")["Unique-ID"]
            offer = watcher.wait(lambda e: e.get("CC-Action") == "agent-offering"
                                 and e.get("CC-Member-Session-UUID") == uuid,
                                 what="agent-offering")
            watcher.wait(lambda e: e.get("CC-Action") == "bridge-agent-start"
                         and e.get("CC-Member-Session-UUID") == uuid, what="bridged")
            switch.api(f"uuid_send_info {uuid} text plain hangup")
            watcher.wait(lambda e: e.get("Unique-ID") == uuid and e.get("Event-Name")
                         == "CHANNEL_HANGUP_COMPLETE", what="hangup")
            caller.communicate(timeout=30)
            agent = offer["CC-Agent"]
            wait_for(lambda: "Waiting" in switch.api(
                f"callcenter_config agent get state {agent}"), 15, "the agent idle again")
            return agent

        wait_for(lambda: switch.api("global_getvar hotline_sticky_stickq").strip() == "7",
                 15, "the sticky flag pushed")
        assert offered_to("13900139000") == "1002@default"     # the strategy's choice
        assert offered_to("13800138000") == "1001@default"     # the sticky agent
        assert "sticky agent 1001@default offered first" in hotline.output()
        assert "sticky: queue stickq, first offer to 1001@default" in hotline.output()
        levels = switch.api("callcenter_config tier list")
        assert "stickq@default|1001@default|Ready|1|2" in levels, levels  # level restored
    finally:
        watcher.close()
        for phone in phones:
            phone.stop()
        hotline.stop()
