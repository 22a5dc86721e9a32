"""The fake switch's own mechanics, checked against what mod_event_socket.c does
(subscriptions, filters, formats), with a raw client that parses nothing itself."""
import json
import socket

import pytest

from esl_apps.wire import parse_headers, read_frame
from tests.fakeswitch.inbound import FakeSwitch, passes_filters


@pytest.fixture
def fake():
    switch = FakeSwitch("pw").start()
    yield switch
    switch.stop()


class Raw:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.rfile = self.sock.makefile("rb")
        self.events = []
        assert read_frame(self.rfile)[0]["Content-Type"] == "auth/request"
        assert self.send("auth pw")["Reply-Text"] == "+OK accepted"

    def send(self, text):
        """The reply to a command; events that arrive first are kept in self.events."""
        self.sock.sendall(text.encode() + b"\n\n")
        while True:
            headers, body = read_frame(self.rfile)
            if not headers["Content-Type"].startswith("text/event-"):
                return headers
            self.events.append(body)

    def next(self):
        return read_frame(self.rfile)


def test_custom_swallows_every_later_word_as_a_subclass(fake):
    raw = Raw(fake.port)
    assert raw.send("event plain CUSTOM callcenter::info CHANNEL_ANSWER")["Reply-Text"] == \
        "+OK event listener enabled plain"
    # CHANNEL_ANSWER came after CUSTOM: a subclass name, not an event.
    assert fake.emit({"Event-Name": "CHANNEL_ANSWER"}) == 0
    assert fake.emit({"Event-Name": "CUSTOM", "Event-Subclass": "callcenter::info"}) == 1


def test_filters_follow_mod_event_socket(fake):
    raw = Raw(fake.port)
    raw.send("event plain CHANNEL_ANSWER")
    assert raw.send("filter Unique-ID abc")["Reply-Text"] == "+OK filter added. [Unique-ID]=[abc]"
    assert fake.emit({"Event-Name": "CHANNEL_ANSWER", "Unique-ID": "other"}) == 0
    assert fake.emit({"Event-Name": "CHANNEL_ANSWER", "Unique-ID": "ABC"}) == 1  # strcasecmp
    assert raw.send("filter")["Reply-Text"] == "-ERR invalid syntax"
    assert raw.send("filter delete all")["Reply-Text"] == "+OK filter deleted. [all][]"
    assert fake.emit({"Event-Name": "CHANNEL_ANSWER", "Unique-ID": "other"}) == 1


@pytest.mark.parametrize("filters, event, passes", [
    ([], {"A": "1"}, True),
    ([("A", "1")], {"B": "1"}, False),
    ([("a", "x")], {"A": "X"}, True),
    ([("A", "/^ab+c$/")], {"A": "abbbc"}, True),
    ([("A", "1"), ("B", "-2")], {"A": "1", "B": "2"}, False),
    ([("A", "1"), ("B", "-2")], {"A": "1", "B": "3"}, True),
])
def test_filter_rule(filters, event, passes):
    assert passes_filters(filters, event) is passes


def test_json_events(fake):
    raw = Raw(fake.port)
    assert raw.send("event json CHANNEL_HANGUP_COMPLETE")["Reply-Text"] == \
        "+OK event listener enabled json"
    event = fake.recorded_events[[e["Event-Name"] for e in fake.recorded_events]
                                 .index("CHANNEL_HANGUP_COMPLETE")]
    fake.emit(event)
    headers, body = raw.next()
    assert headers["Content-Type"] == "text/event-json"
    assert json.loads(body)["Caller-Caller-ID-Number"] == "13800138000"


def test_plain_events_are_framed_like_the_recording(fake):
    raw = Raw(fake.port)
    raw.send("event plain CHANNEL_CREATE")
    event = [e for e in fake.recorded_events if e["Event-Name"] == "CHANNEL_CREATE"][0]
    fake.emit(event)
    headers, body = raw.next()
    assert list(headers) == ["Content-Length", "Content-Type"]
    assert parse_headers(body.decode().split("\n\n")[0], decode=True) == event


def test_bgapi_result_arrives_as_background_job(fake):
    raw = Raw(fake.port)
    raw.send("event plain BACKGROUND_JOB")
    reply = raw.send("bgapi version")
    assert reply["Reply-Text"].startswith("+OK Job-UUID: ")
    headers, body = raw.next()
    head, _, result = body.decode().partition("\n\n")
    assert parse_headers(head, decode=True)["Job-UUID"] == reply["Job-UUID"]
    assert result.startswith("FreeSWITCH Version 1.11.1")


def test_unknown_command_and_exit(fake):
    raw = Raw(fake.port)
    assert raw.send("frobnicate")["Reply-Text"] == "-ERR command not found"
    assert raw.send("exit")["Reply-Text"] == "+OK bye"
    headers, body = raw.next()
    assert headers["Content-Type"] == "text/disconnect-notice"
    assert body.startswith(b"Disconnected, goodbye.")
