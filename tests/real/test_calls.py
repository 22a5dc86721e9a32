"""Real calls through real FreeSWITCH on Hotline's rendered config: SIPp is the
caller, baresip the agent, `hotline run` the socket app. Every wait is for an
event (ESL, SIP, baresip's control socket, a database row), never a fixed sleep."""
import time

import peewee
import pytest

from db.connect import bind, open_database
from db.models import CallRecord
from esl_apps.ivr.loader import load_flows
from tests.real import sipp
from tests.real.baresip import AgentPhone, baresip_binary
from tests.real.harness import free_port
from tests.real.hotline_proc import EventWatcher, HotlineProcess

pytestmark = pytest.mark.freeswitch

DID = "88001234"
AGENT = {"extension": "1001", "display_name": "Agent One", "sip_password": "agent-1001-secret"}


@pytest.fixture(autouse=True)
def _need_sipp():
    if sipp.sipp_binary() is None:
        pytest.skip("SIPp not installed (apt-get install sip-tester)")


@pytest.fixture
def switch(real_switch_factory):
    # A short no-agent wait keeps the fail-open test quick; production waits 30 s.
    return real_switch_factory(
        agents=[AGENT], dids=[{"number": DID, "flow": "main", "language": "zh_CN"}],
        queues=[{"name": "default", "max_wait_time_with_no_agent": 1,
                 "max_wait_time_with_no_agent_time_reached": 1}]).start()


@pytest.fixture
def hotline(switch):
    proc = HotlineProcess(switch).start()
    yield proc
    proc.stop()


@pytest.fixture
def watcher(switch):
    w = EventWatcher(switch)
    yield w
    w.close()


def place_call(switch, tmp_path, number, **kwargs):
    result = sipp.call(tmp_path / "sipp", switch.trunks_port, number, free_port(),
                       free_port() & ~1, **kwargs)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def call_events(watcher, destination):
    answered = watcher.wait(lambda e: e.get("Event-Name") == "CHANNEL_ANSWER"
                            and destination in (e.get("Caller-Destination-Number"),
                                                e.get("variable_hotline_did")),
                            what=f"CHANNEL_ANSWER for {destination}")
    uuid = answered["Unique-ID"]
    hangup = watcher.wait(lambda e: e.get("Event-Name") == "CHANNEL_HANGUP_COMPLETE"
                          and e.get("Unique-ID") == uuid, what="CHANNEL_HANGUP_COMPLETE")
    steps = [e.get("Application") for e in watcher.seen
             if e.get("Unique-ID") == uuid and e.get("Event-Name") == "CHANNEL_EXECUTE_COMPLETE"]
    return uuid, hangup, steps


def wait_row(switch, uuid, timeout=30.0):
    db = bind(open_database(f"sqlite:///{switch.config.paths.data_dir / 'hotline.db'}"))
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            try:
                return CallRecord.get(CallRecord.call_uuid == uuid)
            except CallRecord.DoesNotExist:
                time.sleep(0.1)
            except peewee.OperationalError:  # the writer holds the lock for a moment
                time.sleep(0.1)
        raise TimeoutError(f"no call record for {uuid}")
    finally:
        db.close()


def test_a_call_reaches_the_socket_app_and_is_recorded(switch, hotline, watcher, tmp_path):
    number = switch.fs.linetest_number
    place_call(switch, tmp_path, number, digits="5")
    uuid, hangup, steps = call_events(watcher, number)
    assert steps.index("answer") < steps.index("playback") < steps.index("play_and_get_digits")
    digits = [e for e in watcher.seen if e.get("Unique-ID") == uuid
              and e.get("Application") == "play_and_get_digits"
              and e.get("Event-Name") == "CHANNEL_EXECUTE_COMPLETE"]
    assert digits[0]["variable_hotline_linetest_digit"] == "5"
    assert hangup["variable_hangup_cause"] == "NORMAL_CLEARING"
    assert hangup.get("variable_hotline_route") != "fallback"
    assert f"[{uuid}] line test heard digit '5'" in hotline.output()
    # mod_xml_cdr posted the call to Hotline, which stored it.
    record = wait_row(switch, uuid)
    assert record.caller == "13800138000" and record.caller_e164 == "+8613800138000"
    assert record.call_data["linetest_digit"] == "5"
    assert record.hangup_cause == "NORMAL_CLEARING" and record.answer_at is not None


def test_socket_server_down_takes_the_fail_open_route(switch, watcher, tmp_path):
    """No Hotline at all: the caller is queued to the fallback queue; with nobody
    there, hears 'please call later' and is hung up on, never dropped at once."""
    place_call(switch, tmp_path, DID)
    uuid, hangup, steps = call_events(watcher, DID)
    assert hangup["variable_hotline_route"] == "fallback"
    assert hangup["variable_hotline_fallback_result"] == "call_later"
    assert "callcenter" in steps and "playback" in steps
    assert hangup["variable_hangup_cause"] == "NORMAL_CLEARING"


def test_unknown_flow_takes_the_fail_open_route(switch, watcher, tmp_path):
    """Native mode: the DID names a flow that is not loaded; the entry context's
    catch-all sends the caller to the fallback queue."""
    place_call(switch, tmp_path, DID)
    uuid, hangup, _steps = call_events(watcher, DID)
    assert hangup["variable_hotline_route"] == "fallback"


def test_socket_mode_app_without_the_flow_takes_the_fail_open_route(real_switch_factory,
                                                                     tmp_path):
    """Socket mode: the switch knows flow `main`, but Hotline's flows directory
    does not have it (any more): the app lets go and the caller is queued."""
    flow = tmp_path / "flows" / "main.yaml"
    flow.parent.mkdir()
    flow.write_text("name: main\nentry: bye\nnodes:\n  bye: {verb: hangup}\n")
    flows, errors = load_flows(flow)
    assert not errors
    empty = tmp_path / "no-flows"
    empty.mkdir()
    switch = real_switch_factory(
        agents=[AGENT], dids=[{"number": DID, "flow": "main", "language": "zh_CN"}],
        queues=[{"name": "default", "max_wait_time_with_no_agent": 1,
                 "max_wait_time_with_no_agent_time_reached": 1}],
        flows=flows, ivr={"mode": "socket", "flows_dir": str(empty)}).start()
    hotline = HotlineProcess(switch).start()
    watcher = EventWatcher(switch)
    try:
        place_call(switch, tmp_path, DID)
        uuid, hangup, _steps = call_events(watcher, DID)
        assert hangup["variable_hotline_route"] == "fallback"
        assert f"[{uuid}] flow main is not loaded; fallback" in hotline.output()
    finally:
        watcher.close()
        hotline.stop()


@pytest.mark.skipif(baresip_binary() is None, reason="baresip not installed")
def test_fail_open_route_reaches_a_logged_in_agent(switch, watcher, tmp_path):
    agent = AgentPhone(tmp_path, AGENT["extension"], AGENT["sip_password"],
                       switch.agents_port).start()
    try:
        name = f"{AGENT['extension']}@default"
        domain = switch.fs.sip_ip
        for command in (f"callcenter_config agent add {name} callback",
                        f"callcenter_config agent set contact {name} user/1001@{domain}",
                        f"callcenter_config agent set status {name} Available",
                        f"callcenter_config tier add default@default {name} 1 1"):
            assert switch.api(command).startswith("+OK"), command
        place_call(switch, tmp_path, DID, hangup_after_ms=1500)
        assert agent.wait_event("CALL_ESTABLISHED", timeout=30) is not None
        uuid, hangup, steps = call_events(watcher, DID)
        assert hangup["variable_hotline_route"] == "fallback"
        assert hangup.get("variable_cc_agent") == name
    finally:
        agent.stop()


def test_inbound_client_is_back_soon_after_a_restart(switch, hotline):
    before = hotline.output().count("connected to FreeSWITCH")
    switch.restart()
    ready = time.monotonic()
    while hotline.output().count("connected to FreeSWITCH") == before:
        assert time.monotonic() - ready < 2.0, "inbound client not back within 2 s"
        time.sleep(0.02)
    print(f"inbound client back {time.monotonic() - ready:.3f} s after FreeSWITCH was ready")
