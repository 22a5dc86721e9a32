"""The desk's call controls against the fake switch (over the event-socket wire):
the exact API commands each control sends, refusals of another agent's call and of
bad targets before anything is sent, click-to-dial with and without a gateway; the
routes (htmx partial, JSON) and the recent calls' recordings, playable only by the
agent whose call it was."""
import datetime
import re

import gevent
import pytest

from db.models import Agent, AuditLog, CallRecord, Did, Queue, Recording
from esl_apps.inbound import InboundClient
from tests.fakeswitch.inbound import FakeSwitch
from tests.webpanel import add_user, csrf_token, make_app, sign_in_session
from webui.desk.call_control import (
    EVAL_FIELDS,
    CallControl,
    CallError,
    Target,
    dial_digits,
    parse_target,
)

PASSWORD = "s3cret-esl-password"
DOMAIN = "10.0.0.5"
A = "11111111-1111-4111-8111-111111111111"   # agent 1001's leg (mod_callcenter's)
C = "22222222-2222-4222-8222-222222222222"   # the caller's leg
B = "33333333-3333-4333-8333-333333333333"   # agent 1002's leg
T = "44444444-4444-4444-8444-444444444444"   # a consulted / third party's leg
GONE = "55555555-5555-4555-8555-555555555555"
UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}")
# the switch's reply texts (FreeSWITCH 1.11.1, mod_commands)
OK, NO_CHANNEL = "+OK\n", "-ERR No such channel!\n"


class ChannelSwitch(FakeSwitch):
    """The fake switch with channels: eval expands their variables as
    switch_event_expand_headers does, uuid_* commands act on them."""

    def __init__(self, password):
        super().__init__(password)
        self.channels: dict[str, dict] = {}
        self.api_log: list[str] = []
        # uuid_bridge answers before the legs have moved: bridge_to shows the new
        # partner only after this many more reads of it
        self.bridge_after_reads = 0
        self._moving: dict[str, list] = {}   # uuid -> [reads left, partner]

    def add(self, uuid, answered=True, **variables):
        self.channels[uuid] = {"Unique-ID": uuid,
                               "Answer-State": "answered" if answered else "ringing",
                               **{f"variable_{k}": v for k, v in variables.items()}}

    def var(self, uuid, name):
        return self.channels[uuid].get(f"variable_{name}")

    def _api_reply(self, command):
        self.api_log.append(command)
        verb, _, rest = command.partition(" ")
        if verb == "eval":
            target, _, expression = rest.partition(" ")
            uuid = target.removeprefix("uuid:")
            channel = self.channels.get(uuid, {})
            if "${variable_bridge_to}" in expression and uuid in self._moving:
                move = self._moving[uuid]
                move[0] -= 1
                if move[0] < 0:
                    channel["variable_bridge_to"] = move[1]
                    del self._moving[uuid]
            return re.sub(r"\$\{([^}]+)\}", lambda m: channel.get(m.group(1), ""), expression)
        args = rest.split(" ")
        if verb == "uuid_hold":
            uuid = args[1] if args[0] == "off" else args[0]
            return "+OK Success\n" if uuid in self.channels else "-ERR Operation failed\n"
        if verb in ("uuid_setvar_multi", "uuid_setvar", "uuid_transfer", "uuid_record",
                    "uuid_kill", "uuid_bridge"):
            if args[0] not in self.channels:
                return NO_CHANNEL
            if verb == "uuid_setvar_multi":
                for pair in args[1].split(";"):
                    name, _, value = pair.partition("=")
                    self.channels[args[0]][f"variable_{name}"] = value
            elif verb == "uuid_setvar":
                self.channels[args[0]][f"variable_{args[1]}"] = " ".join(args[2:])
            elif verb == "uuid_kill":
                del self.channels[args[0]]
            elif verb == "uuid_bridge":
                if args[1] not in self.channels:
                    return "-ERR Invalid uuid\n"
                for one, two in ((args[0], args[1]), (args[1], args[0])):
                    self._moving[one] = [self.bridge_after_reads, two]
                return f"+OK {args[1]}\n"
            elif verb == "uuid_record":
                return "+OK Success\n"
            return OK
        return super()._api_reply(command)

    def sent(self):
        """What the control sent, eval reads left out."""
        return [c for c in self.api_log if not c.startswith("eval ")]

    def background(self):
        return [c[len("bgapi "):] for c in self.commands if c.startswith("bgapi ")]


@pytest.fixture
def fake():
    switch = ChannelSwitch(PASSWORD).start()
    yield switch
    switch.stop()


@pytest.fixture
def esl(fake):
    client = InboundClient("127.0.0.1", fake.port, PASSWORD, backoff_max=0.1)
    client.start()
    assert client.wait_connected(5)
    yield client
    client.stop()


def control_for(esl, gateway="trunk1"):
    return CallControl(esl, DOMAIN, gateway=gateway, region="CN", fallback_queue="default")


@pytest.fixture
def control(esl):
    return control_for(esl)


def queue_call(fake):
    """A queue call as mod_callcenter leaves it: 1001's leg bridged to the caller."""
    fake.add(A, cc_agent="1001@default", cc_side="agent", dialed_user="1001",
             cc_member_session_uuid=C, bridge_to=C)
    fake.add(C, cc_agent="1001@default", cc_side="member", cc_agent_uuid=A, bridge_to=A)


def wait_until(predicate, timeout=5.0):
    with gevent.Timeout(timeout, AssertionError("condition not met in time")):
        while not predicate():
            gevent.sleep(0.01)


# -- values ---------------------------------------------------------------------
def test_numbers_are_dialled_as_from_the_region():
    assert dial_digits("138 0013 8000") == "13800138000"
    assert dial_digits("+86 10 1234 5678") == "01012345678"
    assert dial_digits("+1 650-253-0000") == "0016502530000"
    assert dial_digits("95598") == "95598"          # a service number: its digits


@pytest.mark.parametrize("text", ["", "12", "1380013800a", "+", "138;kill", "1001 XML x",
                                  "${x}", "+999 1", "1" * 25])
def test_what_is_not_a_number_is_refused(text):
    with pytest.raises(CallError) as exc:
        dial_digits(text)
    assert exc.value.code == "bad_number"


@pytest.mark.parametrize("kind, value", [
    ("agent", "1002 XML public"), ("agent", "x"), ("queue", "a b"), ("queue", "q'"),
    ("queue", "a" * 49), ("flow", "9lives"), ("flow", "main^hangup"), ("flow", "a,b"),
    ("user", "1002"), ("", "")])
def test_bad_targets_are_refused(kind, value):
    with pytest.raises(CallError) as exc:
        parse_target(kind, value)
    assert exc.value.code == "bad_target"


# -- the controls, command by command --------------------------------------------
def test_hold_and_resume(fake, control):
    queue_call(fake)
    assert control.hold("1001", A).state == "held"
    assert fake.var(A, "hotline_desk_state") == "held"
    assert control.resume("1001", A).state == "talking"
    assert fake.sent() == [
        f"uuid_setvar_multi {A} hold_music=local_stream://moh;hotline_desk_state=held",
        f"uuid_hold {A}",
        f"uuid_hold off {A}",
        f"uuid_setvar_multi {A} hotline_desk_state=talking"]
    # every action reads the leg first, from the switch
    assert fake.api_log[0] == f"eval uuid:{A} " + "|".join(
        "${" + name + "}" for name in EVAL_FIELDS)


def test_hang_up_kills_the_agents_leg(fake, control):
    queue_call(fake)
    assert control.hangup("1001", A).state == "ended"
    assert fake.sent() == [f"uuid_kill {A} NORMAL_CLEARING"]
    assert A not in fake.channels and C in fake.channels


def test_another_agents_call_is_refused_and_nothing_is_sent(fake, control):
    queue_call(fake)
    for act in (lambda: control.hangup("1002", A), lambda: control.hold("1002", A),
                lambda: control.transfer("1002", A, Target("queue", "default")),
                lambda: control.hangup("1002", C)):     # the caller's leg is nobody's
        with pytest.raises(CallError) as exc:
            act()
        assert exc.value.code == "not_yours"
    assert fake.sent() == []


def test_a_leg_hotline_made_belongs_to_its_agent_only(fake, control):
    fake.add(B, hotline_desk_agent="1002", dialed_user="1002", hotline_desk_caller=C,
             cc_member_session_uuid=C)
    fake.add(C)
    with pytest.raises(CallError) as exc:
        control.hangup("1001", B)
    assert exc.value.code == "not_yours"
    assert control.leg("1002", B).caller == C


def test_a_callers_leg_is_nobodys_though_it_dialled_an_agent(fake, control):
    # bridging to user/1002 sets dialed_user on the caller's leg too
    fake.add(C, cc_side="member", cc_agent="1001@default", dialed_user="1002")
    fake.add(GONE, hotline_desk_agent="none", dialed_user="1002")   # not a queue call
    for leg in (C, GONE):
        with pytest.raises(CallError) as exc:
            control.hangup("1002", leg)
        assert exc.value.code == "not_yours"
    assert fake.sent() == []


def test_a_gone_or_malformed_leg_is_refused(fake, control):
    for leg, code in (("66666666-6666-4666-8666-666666666666", "no_call"), ("not-a-uuid", "bad_leg"),
                      (A + " XML public", "bad_leg"), ("", "bad_leg")):
        with pytest.raises(CallError) as exc:
            control.hangup("1001", leg)
        assert exc.value.code == code
    assert fake.sent() == []


def test_blind_transfer_to_an_agent(fake, control):
    queue_call(fake)
    assert control.transfer("1001", A, Target("agent", "1002")).state == "transferred"
    assert fake.sent() == [
        (f"uuid_transfer {C} m:^:set:hotline_desk_agent=none^set:hangup_after_bridge=true"
        "^set:continue_on_fail=true^set:transfer_after_bridge=${hotline_after_agent}"
        "^set:export_vars=${cc_export_vars}"
        f"^bridge:{{hotline_desk_caller={C},cc_member_session_uuid={C},call_timeout=30,"
        f"hotline_desk_agent=1002}}user/1002@{DOMAIN}"
        "^callcenter:default@default^hangup inline")]


def test_blind_transfer_to_a_queue_a_flow_and_a_number(fake, control):
    queue_call(fake)
    control.transfer("1001", A, Target("queue", "billing"))
    assert fake.sent() == [
        f"uuid_record {C} stop all", f"uuid_setvar {C} RECORD_APPEND true",
        f"uuid_transfer {C} desk_queue_billing XML fallback"]
    fake.api_log.clear()
    queue_call(fake)
    control.transfer("1001", A, Target("flow", "heating_main"))
    assert fake.sent()[-1] == f"uuid_transfer {C} flow_heating_main XML hotline_flows"
    fake.api_log.clear()
    control.transfer("1001", A, parse_target("number", "010-1234 5678"))
    assert fake.sent()[-1].startswith(f"uuid_transfer {C} m:^:")
    assert "}sofia/gateway/trunk1/01012345678^callcenter:default@default" in fake.sent()[-1]
    assert "transfer_after_bridge" not in fake.sent()[-1]   # no survey after an outside party


def test_a_held_call_is_taken_off_hold_before_its_transfer(fake, control):
    queue_call(fake)
    fake.channels[A]["variable_hotline_desk_state"] = "held"
    control.transfer("1001", A, Target("flow", "main"))
    assert fake.sent()[0] == f"uuid_hold off {A}"


def test_no_transfer_to_yourself_or_outside_without_a_gateway(fake, esl):
    queue_call(fake)
    with pytest.raises(CallError) as exc:
        control_for(esl).transfer("1001", A, Target("agent", "1001"))
    assert exc.value.code == "bad_target"
    with pytest.raises(CallError) as exc:
        control_for(esl, gateway="").transfer("1001", A, Target("number", "13800138000"))
    assert exc.value.code == "no_gateway"
    assert fake.sent() == []


def test_attended_transfer_completed(fake, control):
    queue_call(fake)
    leg = control.consult("1001", A, Target("agent", "1002"))
    assert leg.state == "consulting" and UUID4.fullmatch(leg.other)
    other = leg.other
    assert fake.sent() == [
        (f"uuid_setvar_multi {A} park_after_bridge=true;hotline_desk_state=consulting;"
        f"hotline_desk_caller={C};hotline_desk_other={other};hotline_desk_target=agent:1002"),
        (f"uuid_transfer {C} m:^:set:hangup_after_bridge=true"
        "^set:transfer_after_bridge=${hotline_after_agent}"
        "^endless_playback:local_stream://moh^hangup inline"),
        (f"uuid_transfer {A} m:^:set:hangup_after_bridge=false^set:continue_on_fail=true"
        f"^bridge:{{origination_uuid={other},origination_caller_id_number=1001,"
        f"call_timeout=30,hotline_desk_agent=1002}}user/1002@{DOMAIN}^park inline")]
    assert control.leg("1001", A).state == "consulting"
    # not answered yet: no completing
    fake.add(other, answered=False, dialed_user="1002", hotline_desk_agent="1002")
    with pytest.raises(CallError) as exc:
        control.complete("1001", A)
    assert exc.value.code == "not_answered"
    fake.channels[other]["Answer-State"] = "answered"
    fake.api_log.clear()
    assert control.complete("1001", A).state == "transferred"
    assert fake.sent() == [
        f"uuid_setvar_multi {other} hotline_desk_caller={C};cc_member_session_uuid={C}",
        f"uuid_bridge {C} {other}", f"uuid_kill {A} NORMAL_CLEARING"]
    assert control.leg("1002", other).caller == C      # now 1002's call with the caller


def test_attended_transfer_called_off(fake, control):
    queue_call(fake)
    other = control.consult("1001", A, parse_target("number", "13800138000")).other
    assert "sofia/gateway/trunk1/13800138000^park" in fake.sent()[-1]
    fake.add(other)
    with pytest.raises(CallError) as exc:     # consulting: complete or cancel first
        control.hangup("1001", A)
    assert exc.value.code == "bad_state"
    fake.api_log.clear()
    assert control.cancel("1001", A).state == "talking"
    assert fake.sent() == [
        f"uuid_setvar_multi {A} park_after_bridge=false;hotline_desk_state=talking",
        f"uuid_bridge {C} {A}", f"uuid_kill {other} NORMAL_CLEARING"]


@pytest.mark.parametrize("move", ["cancel", "complete"])
def test_the_left_leg_is_hung_up_only_once_the_others_are_bridged(fake, control, move):
    """uuid_bridge answers before the legs move; killing the leg left over meanwhile
    can take the moving one down: the control waits until the switch shows the new
    bridge (bridge_to) before the uuid_kill."""
    queue_call(fake)
    other = control.consult("1001", A, Target("agent", "1002")).other
    # as the switch leaves them: 1001 talks to 1002, the caller holds
    fake.add(other, dialed_user="1002", hotline_desk_agent="1002", bridge_to=A)
    fake.channels[A]["variable_bridge_to"] = other
    del fake.channels[C]["variable_bridge_to"]
    fake.bridge_after_reads = 3
    fake.api_log.clear()
    getattr(control, move)("1001", A)
    moving, left = (A, other) if move == "cancel" else (other, A)
    log = fake.api_log
    kill = log.index(f"uuid_kill {left} NORMAL_CLEARING")
    reads = [i for i, c in enumerate(log) if c == f"eval uuid:{moving} ${{variable_bridge_to}}"]
    assert len(reads) == 4 and reads[-1] < kill
    assert log.index(f"uuid_bridge {C} {moving}") < reads[0]


def test_three_way_call(fake, control):
    queue_call(fake)
    leg = control.conference("1001", A, Target("agent", "1003"))
    other = leg.other
    assert leg.state == "conference"
    assert fake.sent() == [(f"uuid_setvar_multi {A} hotline_desk_state=conference;"
                           f"hotline_desk_other={other};hotline_desk_target=agent:1003")]
    wait_until(lambda: fake.background())
    assert fake.background() == [
        (f"originate {{origination_uuid={other},origination_caller_id_number=1001,"
        f"originate_timeout=30,call_timeout=30,hotline_desk_agent=1003}}"
        f"user/1003@{DOMAIN} &three_way({A})")]
    fake.add(other)
    assert control.leg("1001", A).state == "conference"
    fake.api_log.clear()
    assert control.leave_conference("1001", A).state == "talking"
    assert fake.sent() == [f"uuid_kill {other} NORMAL_CLEARING",
                           f"uuid_setvar_multi {A} hotline_desk_state=talking"]


def test_a_three_way_call_whose_third_party_left_is_a_plain_call_again(fake, control):
    queue_call(fake)
    control.conference("1001", A, Target("agent", "1003"))
    assert control.leg("1001", A).state == "talking"     # nobody answered: no such leg


def test_click_to_dial(fake, control):
    leg = control.dial("1001", "+86 138-0013-8000")
    assert leg.state == "dialing" and leg.target == "number:13800138000"
    wait_until(lambda: fake.background())
    [command] = fake.background()
    customer = re.search(r"&bridge\(\{origination_uuid=([0-9a-f-]+),", command).group(1)
    assert command == (
        f"originate {{origination_uuid={leg.uuid},hotline_desk_caller={customer},"
        "origination_caller_id_number=13800138000,originate_timeout=30,"
        "hotline_desk_dialled=13800138000,call_timeout=30,hotline_desk_agent=1001}"
        f"user/1001@{DOMAIN} &bridge({{origination_uuid={customer},"
        "origination_caller_id_number=1001,call_timeout=30}"
        "sofia/gateway/trunk1/13800138000)")
    assert leg.caller == customer


def test_click_to_dial_shows_the_customer_the_hotline_number(fake, esl):
    control = CallControl(esl, DOMAIN, gateway="trunk1", caller_id="95598")
    control.dial("1001", "13800138000")
    wait_until(lambda: fake.background())
    outside = fake.background()[0].split("&bridge(", 1)[1]
    assert "origination_caller_id_number=95598," in outside
    assert "13800138000," not in outside     # never the customer's own number


def test_the_desk_caller_id_comes_from_the_config(tmp_path):
    from esl_apps.config import Config
    config = Config.model_validate({"freeswitch": {"outbound_gateway": "carrier",
                                                   "gateway_username": "01088886666"}})
    assert CallControl.from_config(None, config).caller_id == "01088886666"
    config.freeswitch.outbound_caller_id = "95598"
    assert CallControl.from_config(None, config).caller_id == "95598"
    config.freeswitch.outbound_caller_id, config.freeswitch.gateway_username = "", "acct-7"
    assert CallControl.from_config(None, config).caller_id == ""


def test_click_to_dial_without_a_gateway_says_so(fake, esl):
    with pytest.raises(CallError) as exc:
        control_for(esl, gateway="").dial("1001", "13800138000")
    assert exc.value.code == "no_gateway"
    with pytest.raises(CallError) as exc:
        control_for(esl).dial("1001", "call me")
    assert exc.value.code == "bad_number"
    gevent.sleep(0.05)
    assert fake.background() == [] and fake.sent() == []


def test_an_unreachable_switch_is_an_error_not_a_crash(fake, esl):
    fake.stop()
    wait_until(lambda: not esl.connected.is_set())
    with pytest.raises(CallError) as exc:
        control_for(esl).hold("1001", A)
    assert exc.value.code == "no_switch"


# -- the routes -----------------------------------------------------------------
@pytest.fixture
def desk(db, fake, control):
    queue_call(fake)
    app = make_app(HOTLINE_CALL_CONTROL=control)
    client = app.test_client()
    user = add_user("zhang", "agent")
    Agent.create(user=user, extension="1001", display_name="Zhang", sip_password="x" * 12)
    other = add_user("li", "agent")
    Agent.create(user=other, extension="1002", display_name="Li", sip_password="y" * 12)
    Queue.create(name="billing")
    Did.create(number="88001234", flow="heating_main")
    sign_in_session(client, user)
    page = client.get("/desk", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    client.token = csrf_token(page.text)
    return client


def post(client, data, json=True, path="/desk/call", **headers):
    headers = {"Accept-Language": "en", **headers}
    if json:
        headers["Accept"] = "application/json"
    return client.post(path, data={"csrf_token": client.token, **data}, headers=headers)


def test_the_desk_shows_the_controls_and_targets(desk):
    page = desk.get("/desk", headers={"Accept-Language": "en"}).text
    assert 'id="call-controls"' in page and "desk_calls.js" in page
    assert 'id="dial-form"' in page
    partial = desk.get(f"/desk/call?call={C}", headers={"HX-Request": "true"})
    assert partial.status_code == 200
    assert f'data-leg="{A}"' in partial.text           # found from the caller's leg
    assert 'value="agent:1002"' in partial.text and 'value="agent:1001"' not in partial.text
    assert 'value="queue:billing"' in partial.text
    assert 'value="flow:heating_main"' in partial.text
    assert 'id="call-hold"' in partial.text and "<script" not in partial.text


def test_hold_through_the_route(desk, fake):
    response = post(desk, {"action": "hold", "leg": A}, json=False, **{"HX-Request": "true"})
    assert response.status_code == 200
    assert 'id="call-resume"' in response.text and "On hold" in response.text
    assert f"uuid_hold {A}" in fake.sent()
    entry = AuditLog.select().where(AuditLog.action == "call.hold").get()
    assert entry.object_id == A


def test_the_route_refuses_another_agents_call(desk, fake):
    fake.add(B, hotline_desk_agent="1002", dialed_user="1002", hotline_desk_caller=C)
    response = post(desk, {"action": "hangup", "leg": B})
    assert response.status_code == 403 and response.json["error"] == "not_yours"
    response = post(desk, {"action": "hangup", "leg": B}, json=False,
                    **{"HX-Request": "true"})
    # htmx gets the card with the refusal in it (200: no failed request in the browser)
    assert response.status_code == 200 and "This call is not yours." in response.text
    assert fake.sent() == [] and B in fake.channels


def test_the_route_refuses_bad_and_unknown_targets(desk, fake):
    for form, code in (({"target": "agent:1002 XML public"}, "bad_target"),
                       ({"target": "queue:nosuch"}, "unknown_target"),
                       ({"target": "agent:1009"}, "unknown_target"),
                       ({"target": "flow:nosuch"}, "unknown_target"),
                       ({"target": "number:13800138000"}, "bad_target"),
                       ({"number": "13800138000;hangup"}, "bad_number"),
                       ({}, "bad_target")):
        response = post(desk, {"action": "transfer", "leg": A, **form})
        assert response.status_code == 400 and response.json["error"] == code, form
    assert fake.sent() == []
    response = post(desk, {"action": "transfer", "leg": A, "target": "queue:billing"})
    assert response.status_code == 200 and response.json["state"] == "transferred"
    assert fake.sent()[-1] == f"uuid_transfer {C} desk_queue_billing XML fallback"


def test_click_to_dial_route_without_a_gateway(db, esl):
    app = make_app(HOTLINE_CALL_CONTROL=control_for(esl, gateway=""))
    client = app.test_client()
    user = add_user("wang", "agent")
    Agent.create(user=user, extension="1003", display_name="Wang", sip_password="z" * 12)
    sign_in_session(client, user)
    client.token = csrf_token(client.get("/desk").text)
    response = post(client, {"number": "13800138000"}, json=False, path="/desk/dial",
                    **{"HX-Request": "true"})
    assert response.status_code == 200
    assert "No outbound gateway is configured" in response.text


def test_no_switch_in_the_panel(db):
    app = make_app()
    client = app.test_client()
    user = add_user("zhao", "agent")
    Agent.create(user=user, extension="1004", display_name="Zhao", sip_password="w" * 12)
    sign_in_session(client, user)
    client.token = csrf_token(client.get("/desk").text)
    response = post(client, {"action": "hold", "leg": A})
    assert response.status_code == 503 and response.json["error"] == "no_switch"


# -- recordings -----------------------------------------------------------------
@pytest.fixture
def recordings(db, tmp_path):
    rec_dir = tmp_path / "recordings"
    (rec_dir / "2026-11-01").mkdir(parents=True)
    app = make_app(hotline={"paths": {"recordings_dir": str(rec_dir)}})
    mine_user, other_user = add_user("zhang", "agent"), add_user("li", "agent")
    mine = Agent.create(user=mine_user, extension="1001", display_name="Z", sip_password="x" * 12)
    other = Agent.create(user=other_user, extension="1002", display_name="L",
                         sip_password="y" * 12)
    rows = {}
    for agent, uuid in ((mine, A), (other, B)):
        path = rec_dir / "2026-11-01" / f"{uuid}.wav"
        path.write_bytes(b"RIFF" + b"\0" * 60)
        call = CallRecord.create(call_uuid=uuid, direction="inbound", caller="13800138000",
                                 agent=agent, start_at=datetime.datetime(2026, 11, 1, 9))
        rows[agent.extension] = Recording.create(call=call, call_uuid=uuid, path=str(path),
                                                 seconds=3, agent=agent)
    client = app.test_client()
    sign_in_session(client, mine_user)
    return client, rows


def test_an_agent_plays_their_own_recording_only(recordings):
    client, rows = recordings
    page = client.get("/desk").text
    assert f"/desk/recordings/{rows['1001'].id}/play" in page
    assert f"/desk/recordings/{rows['1002'].id}/play" not in page
    own = client.get(f"/desk/recordings/{rows['1001'].id}/play")
    assert own.status_code == 200 and own.mimetype == "audio/wav"
    assert client.get(f"/desk/recordings/{rows['1002'].id}/play").status_code == 404
    assert client.get("/desk/recordings/999/play").status_code == 404
    plays = AuditLog.select().where(AuditLog.action == "recording.play")
    assert [p.object_id for p in plays] == [str(rows["1001"].id)]


def test_a_deleted_recording_is_not_played(recordings):
    client, rows = recordings
    Recording.update(deleted_at=datetime.datetime(2026, 11, 2)).where(
        Recording.id == rows["1001"].id).execute()
    assert client.get(f"/desk/recordings/{rows['1001'].id}/play").status_code == 404
