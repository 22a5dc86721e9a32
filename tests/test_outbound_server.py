"""The outbound socket server and the line-test app, driven by the fake switch
replaying calls recorded from real FreeSWITCH (tests/fixtures/esl/outbound_*)."""
import logging

import gevent
import pytest

from esl_apps.apps import builtin_apps
from esl_apps.outbound import OutboundServer
from tests.fakeswitch.outbound import Drift, FakeCall
from tests.fakeswitch.recording import Recording

LINETEST_UUID = Recording("outbound_linetest").frames()[0].headers["Unique-ID"]


@pytest.fixture
def server():
    s = OutboundServer("127.0.0.1", 0, builtin_apps())
    s.start()
    yield s
    s.stop()


def dial(server, call: FakeCall):
    """Run the fake call in a real thread so the server's greenlets keep running."""
    def run():
        try:
            return call.run("127.0.0.1", server.port)
        except Drift as exc:  # raised here, in the test, not printed by the thread pool
            return exc

    commands = gevent.get_hub().threadpool.spawn(run).get(timeout=15)
    with gevent.Timeout(5):
        while server.calls:
            gevent.sleep(0.01)
    if isinstance(commands, Drift):
        raise commands
    return commands


def executed(commands):
    return [line.split(": ", 1)[1] for c in commands for line in c.splitlines()
            if line.startswith("execute-app-name: ")]


def test_linetest_call_follows_the_recorded_call(server, caplog):
    caplog.set_level(logging.INFO)
    call = FakeCall("outbound_linetest")
    commands = dial(server, call)
    assert executed(commands) == ["sched_cancel", "answer", "playback", "play_and_get_digits",
                                  "playback", "hangup"]
    assert commands[-1] == "exit" and not call.closed_by_app
    assert f"[{LINETEST_UUID}] line test heard digit '5'" in caplog.text


def test_the_digit_comes_from_the_switch_event(server, caplog):
    caplog.set_level(logging.INFO)
    call = FakeCall("outbound_linetest", {
        "variable_hotline_linetest_digit: 5": "variable_hotline_linetest_digit: 7",
        LINETEST_UUID: "0f0f0f0f-1111-2222-3333-444444444444"})
    dial(server, call)
    assert "[0f0f0f0f-1111-2222-3333-444444444444] line test heard digit '7'" in caplog.text


def test_caller_hanging_up_ends_the_app_cleanly(server, caplog):
    caplog.set_level(logging.INFO)
    commands = dial(server, FakeCall("outbound_hangup"))
    assert executed(commands) == ["sched_cancel", "answer", "playback"]
    assert "caller hung up" in caplog.text
    assert "Traceback" not in caplog.text
    # and the server takes the next call
    assert executed(dial(server, FakeCall("outbound_linetest")))[-1] == "hangup"


def test_unknown_app_lets_the_dialplan_take_the_call(server, caplog):
    caplog.set_level(logging.INFO)
    commands = dial(server, FakeCall("outbound_noapp"))
    assert executed(commands) == []   # no answer, no hangup; the watchdog stays armed
    assert commands[-1] == "exit"
    assert "no app named 'ivr'" in caplog.text


def test_an_app_that_drifts_from_the_recording_is_caught(caplog):
    class Impatient:
        def __init__(self, session, log):
            self.session = session

        def run(self):
            self.session.hangup()

    server = OutboundServer("127.0.0.1", 0, {"linetest": Impatient})
    server.start()
    try:
        with pytest.raises(Drift):
            dial(server, FakeCall("outbound_linetest"))
    finally:
        server.stop()


def test_garbage_from_the_switch_does_not_kill_the_server(server, caplog):
    """A malformed frame mid-call: that call ends, the server serves the next."""
    bad = FakeCall("outbound_linetest")
    # Corrupt the reply to `myevents`: a Content-Length that is not a number.
    headers, body = bad.frames[2][0]
    bad.frames[2][0] = (dict(headers, **{"Content-Length": "x"}), b"junk")
    dial(server, bad)
    assert executed(dial(server, FakeCall("outbound_linetest")))[-1] == "hangup"
