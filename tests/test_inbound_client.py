"""The inbound client against the fake switch replaying recorded FreeSWITCH traffic."""
import gevent
import pytest

from esl_apps.inbound import EVENTS, EslUnavailable, InboundClient
from tests.fakeswitch.inbound import FakeSwitch

PASSWORD = "s3cret-esl-password"


@pytest.fixture
def fake():
    switch = FakeSwitch(PASSWORD).start()
    yield switch
    switch.stop()


@pytest.fixture
def client(fake):
    c = InboundClient("127.0.0.1", fake.port, PASSWORD, backoff_max=0.2)
    c.start()
    assert c.wait_connected(5)
    yield c
    c.stop()


def wait_until(predicate, timeout=5.0):
    with gevent.Timeout(timeout, AssertionError("condition not met in time")):
        while not predicate():
            gevent.sleep(0.01)


def test_subscribes_only_to_what_it_uses(fake, client):
    wait_until(lambda: fake.subscribed() == 1)
    assert fake.commands[-1] == "event plain " + " ".join(EVENTS)
    assert "ALL" not in fake.commands[-1]


def test_api_replies_are_the_recorded_ones(fake, client):
    assert client.api("version").startswith("FreeSWITCH Version 1.11.1")
    assert client.api("no_such_command now") == "-ERR no_such_command Command not found!\n"
    assert client.api("callcenter_config queue list").startswith("name|strategy|")


def test_command_injection_is_refused_before_sending(fake, client):
    sent = len(fake.commands)
    with pytest.raises(ValueError):
        client.api("status\n\napi fsctl shutdown")
    assert len(fake.commands) == sent


def test_recorded_events_reach_handlers_decoded(fake, client):
    got = []
    client.on("CHANNEL_CREATE", got.append)
    client.on("callcenter::info", got.append)
    wait_until(lambda: fake.subscribed() == 1)
    create = fake.recorded_events[[e.get("Event-Name") for e in fake.recorded_events]
                                  .index("CHANNEL_CREATE")]
    status = [e for e in fake.recorded_events if e.get("CC-Action") == "agent-status-change"][0]
    assert fake.emit(create) == 1
    assert fake.emit(status) == 1
    # CHANNEL_EXECUTE is not subscribed: the fake, like the switch, does not send it.
    assert fake.emit({"Event-Name": "CHANNEL_EXECUTE", "Unique-ID": "x"}) == 0
    wait_until(lambda: len(got) == 2)
    assert got[0].headers["Caller-Caller-ID-Number"] == "13800138000"
    assert got[0].headers["Channel-Name"].startswith("sofia/trunks/13800138000@127.0.0.1:")
    assert got[1].headers["CC-Action"] == "agent-status-change"
    assert got[1].headers["CC-Agent-Status"] == "Available"


def test_reconnects_and_resubscribes_after_the_switch_returns(fake, client):
    got = []
    client.on("CHANNEL_ANSWER", got.append)
    fake.stop()
    wait_until(lambda: not client.connected.is_set())
    with pytest.raises(EslUnavailable):
        client.api("status")
    fake.start()
    assert client.wait_connected(5)
    assert client.connections == 2
    wait_until(lambda: fake.subscribed() == 1)
    fake.emit({"Event-Name": "CHANNEL_ANSWER", "Unique-ID": "after-restart"})
    wait_until(lambda: got)
    assert got[0].headers["Unique-ID"] == "after-restart"


def test_a_malformed_frame_drops_only_that_connection(fake, client):
    fake.inject(b"Content-Type: api/response\nContent-Length: nonsense\n\n")
    wait_until(lambda: client.connections == 2 and client.connected.is_set())
    assert client.api("version").startswith("FreeSWITCH Version")


def test_wrong_password_keeps_retrying_without_crashing(fake):
    c = InboundClient("127.0.0.1", fake.port, "wrong", backoff_max=0.05)
    c.start()
    try:
        assert not c.wait_connected(0.5)
        assert c._runner and not c._runner.dead
        with pytest.raises(EslUnavailable):
            c.api("status")
    finally:
        c.stop()


def test_a_reply_that_never_comes_fails_the_call_not_the_client(fake, client):
    fake.api_responses.pop("status", None)
    fake.stop()  # the switch dies with the command in flight
    with pytest.raises(EslUnavailable):
        client.api("status", timeout=2)
