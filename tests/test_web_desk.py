"""The agent desk: status through the (fake) ACD control, the screen pop over
server-sent events, the call note, the blacklist in one click, a new customer,
recent calls; and the caller-ID name that never becomes markup."""
import json
import threading
import time

from types import SimpleNamespace

import pytest

from db.models import (
    Agent,
    AgentStateLog,
    AuditLog,
    BlacklistEntry,
    CallNote,
    CallRecord,
    Customer,
    CustomerPhone,
    NoteCategory,
)
from tests.webpanel import add_user, csrf_token, make_app, sign_in_session
from webui.desk.control import AgentControl
from webui.events import DeskEvents, PopHub, build_pop

CALL = "5b1c0a52-0f6e-4c43-9d4b-8f2d7e1c9a01"
EVIL = '<script>alert("x")</script>'


class FakeAcd(AgentControl):
    """The control the composition root injects, with the switch replaced by a list."""

    def __init__(self, database, reachable=True):
        super().__init__(database)
        self.pushed = []
        self.reachable = reachable

    def push(self, agent):
        self.pushed.append((agent.extension, agent.state, agent.break_reason))
        return None if self.reachable else "not reachable"


class FakeEsl:
    def __init__(self):
        self.handlers = []

    def on(self, name, handler):
        self.handlers.append((name, handler))


class Event:
    def __init__(self, headers):
        self.headers = headers


def agent_leg(ext="1001", caller="13800138000", name="Zhang San", uuid=CALL, **extra):
    return {"Event-Name": "CHANNEL_BRIDGE", "Unique-ID": "agent-leg-" + uuid[:8],
            "Event-Date-Timestamp": str(int(time.time() * 1e6)),
            "Caller-Caller-ID-Number": caller, "Caller-Caller-ID-Name": name,
            "variable_cc_agent": f"{ext}@default", "variable_cc_side": "agent",
            "variable_cc_queue": "heating@default", "variable_cc_member_session_uuid": uuid,
            "variable_hotline_data_account": "20481357",
            "variable_hotline_data_bill__amount_due": "128.50",
            "variable_hotline_path": "main:menu main:repair", **extra}


@pytest.fixture
def agent_user(db):
    user = add_user("li.na", "agent", display_name="Li Na")
    Agent.create(user=user, extension="1001", display_name="Li Na", sip_password="x" * 16)
    return user


@pytest.fixture
def acd(db):
    return FakeAcd(db)


@pytest.fixture
def hub():
    return PopHub()


@pytest.fixture
def app(db, acd, hub):
    return make_app(HOTLINE_AGENT_CONTROL=acd, HOTLINE_POP_HUB=hub, HOTLINE_SSE_HEARTBEAT=0.2)


@pytest.fixture
def client(app, agent_user):
    client = app.test_client()
    sign_in_session(client, agent_user)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def categories(db):
    """The seeded tree (consult, repair, ...) with a child under repair."""
    repair = NoteCategory.get(NoteCategory.code == "repair")
    leak = NoteCategory.create(code="repair-leak", name_zh="漏水", name_en="Leak",
                               parent=repair)
    return repair, leak


def token(client):
    return csrf_token(client.get("/desk").text)


def post(client, path, **data):
    return client.post(path, data={"csrf_token": token(client), **data},
                       headers={"Accept": "application/json"})


def test_the_desk_shows_the_agents_status_and_categories(client, categories):
    html = client.get("/desk").text
    assert "<h1>Agent desk</h1>" in html
    assert 'data-status="Logged Out"' in html and "Extension 1001" in html
    assert html.index(">Consultation<") < html.index(">Repair<") < html.index("Leak<") \
        < html.index(">Complaint<")
    assert 'src="/static/desk.js"' in html and "<script>" not in html


def test_a_supervisor_without_an_extension_is_told_so(db, app):
    client = app.test_client()
    sign_in_session(client, add_user("boss", "supervisor"))
    assert "no agent extension" in client.get("/desk", headers={"Accept-Language": "en"}).text
    assert client.get("/desk/events").status_code == 404


@pytest.mark.parametrize("action, reason, status", [
    ("ready", "", "Available"), ("break", "lunch", "On Break"), ("logout", "", "Logged Out")])
def test_the_state_buttons_go_through_the_acd(client, acd, agent_user, action, reason, status):
    response = post(client, "/desk/status", action=action, reason=reason)
    assert response.status_code == 200, response.json
    assert response.json["status"] == status
    agent = Agent.get(Agent.extension == "1001")
    assert (agent.state, agent.break_reason) == (status, reason)
    assert acd.pushed == [("1001", status, reason)]
    log = AgentStateLog.select().order_by(AgentStateLog.id.desc()).get()
    assert (log.status, log.reason, log.source) == (status, reason, "hotline")


def test_a_break_needs_a_known_reason(client, acd):
    assert post(client, "/desk/status", action="break", reason="").status_code == 400
    assert post(client, "/desk/status", action="break", reason="x y").status_code == 400
    assert post(client, "/desk/status", action="dance").status_code == 400
    assert acd.pushed == []


def test_a_status_change_with_the_switch_away_is_saved_and_said(db, agent_user, hub):
    client = make_app(HOTLINE_AGENT_CONTROL=FakeAcd(db, reachable=False)).test_client()
    sign_in_session(client, agent_user)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = post(client, "/desk/status", action="ready")
    assert response.status_code == 200 and "saved" in response.json["message"]


def test_a_plain_form_post_redirects_back(client):
    response = client.post("/desk/status", data={"csrf_token": token(client), "action": "ready"})
    assert response.status_code == 302 and response.headers["Location"] == "/desk"


def _read_events(response, count, timeout=5.0):
    """The first `count` pop events of an SSE response, read on a thread."""
    got, chunks = [], []

    def read():
        for chunk in response.response:
            chunks.append(chunk.decode() if isinstance(chunk, bytes) else chunk)
            text = "".join(chunks)
            pops = [block for block in text.split("\n\n") if block.startswith("event: pop")]
            if len(pops) >= count:
                got.extend(json.loads(b.split("data: ", 1)[1]) for b in pops[:count])
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    return got, "".join(chunks)


def _wait_for_listener(hub, ext="1001"):
    for _ in range(100):
        if hub.listeners(ext):
            return
        time.sleep(0.01)
    raise AssertionError("the desk never subscribed")


def test_an_injected_event_reaches_the_stream(client, hub, db):
    response = client.get("/desk/events", buffered=False)
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    _wait_for_listener(hub)
    desk = DeskEvents(FakeEsl(), hub, db)
    started = time.monotonic()
    desk.handle(agent_leg())
    desk.handle(dict(agent_leg(), **{"Event-Name": "CHANNEL_ANSWER"}))   # the same call: once
    desk.handle(agent_leg(ext="1002", uuid="6c2d1b63-0f6e-4c43-9d4b-8f2d7e1c9a02"))  # not ours
    pops, _text = _read_events(response, 1)
    assert time.monotonic() - started < 1.0
    response.close()
    assert len(pops) == 1
    pop = pops[0]
    assert pop["call_uuid"] == CALL and pop["caller"] == "13800138000"
    assert pop["e164"] == "+8613800138000" and pop["queue"] == "heating"
    assert pop["data"] == {"account": "20481357", "bill.amount_due": "128.50"}
    assert pop["customer"] is None
    for _ in range(100):
        if not hub.listeners("1001"):
            break
        time.sleep(0.01)
    assert hub.listeners("1001") == 0  # closing the stream ends the subscription


def test_the_stream_sends_heartbeats(client, hub):
    response = client.get("/desk/events", buffered=False)
    chunks = iter(response.response)
    assert "connected" in next(chunks).decode()
    assert next(chunks).decode() == ": ping\n\n"
    response.close()


def test_the_desk_subscribes_to_the_agent_leg_events(db, hub):
    esl = FakeEsl()
    DeskEvents(esl, hub, db)
    assert sorted(name for name, _h in esl.handlers) == ["CHANNEL_ANSWER", "CHANNEL_BRIDGE"]


def test_the_callers_leg_and_desks_not_open_do_not_pop(db, hub):
    desk = DeskEvents(FakeEsl(), hub, db)
    assert desk.handle(agent_leg()) is None                    # no desk open
    with hub.subscribe("1001") as sub:
        assert desk.handle(agent_leg(variable_cc_side="member")) is None
        assert desk.handle({"Event-Name": "CHANNEL_ANSWER", "Unique-ID": "x"}) is None
        desk.on_channel(Event(agent_leg()))
        assert sub.get(timeout=1)["agent"] == "1001"


def test_a_known_caller_pops_the_customer_card(db, agent_user, categories):
    customer = Customer.create(name="王伟", address="幸福路 8 号 3-201", region="和平区",
                               account_no="20481357")
    CustomerPhone.create(customer=customer, e164="+8613800138000")
    old = CallRecord.create(call_uuid="old-1", direction="inbound", caller="13800138000",
                            caller_e164="+8613800138000", queue="heating")
    CallNote.create(call=old, customer=customer, text="暖气不热", category=categories[1])
    pop = build_pop(agent_leg())
    card = pop["customer"]
    assert card["name"] == "王伟" and card["region"] == "和平区"
    assert card["calls"][0]["notes"] == [{"text": "暖气不热", "category_zh": "漏水",
                                          "category_en": "Leak"}]
    assert card["work_orders"] == []


def test_the_caller_id_name_is_text_end_to_end(client, hub, db):
    response = client.get("/desk/events", buffered=False)
    _wait_for_listener(hub)
    DeskEvents(FakeEsl(), hub, db).handle(agent_leg(name=EVIL,
                                                    variable_hotline_data_note=EVIL))
    pops, raw = _read_events(response, 1)
    response.close()
    assert pops[0]["caller_name"] == EVIL and pops[0]["data"]["note"] == EVIL
    # JSON in an event-stream is data for the script, which writes it with textContent
    assert "\n" not in raw.split("data: ", 1)[1].split("\n\n")[0]
    # the recent-calls list renders the stored name escaped
    agent = Agent.get(Agent.extension == "1001")
    CallRecord.create(call_uuid=CALL, direction="inbound", caller="13800138000",
                      caller_name=EVIL, agent=agent)
    html = client.get("/desk").text
    assert EVIL not in html and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html


def test_the_note_saves_against_the_call_record(client, categories, agent_user):
    call = CallRecord.create(call_uuid=CALL, direction="inbound", caller="13800138000")
    response = post(client, "/desk/note", call_uuid=CALL, category=categories[1].id,
                    text="暖气漏水，已派单")
    assert response.status_code == 200 and response.json["linked"] is True
    note = CallNote.get()
    assert (note.call_id, note.category_id, note.author_id, note.text) == (
        call.id, categories[1].id, agent_user.id, "暖气漏水，已派单")
    assert AuditLog.select().where(AuditLog.action == "note.create").count() == 1


def test_a_note_during_the_call_is_kept_for_the_customer(client, categories):
    customer = Customer.create(name="王伟")
    response = post(client, "/desk/note", call_uuid=CALL, category=categories[0].id,
                    text="咨询", customer=customer.id)
    assert response.status_code == 200 and response.json["linked"] is False
    assert (CallNote.get().customer_id, CallNote.get().call_uuid) == (customer.id, CALL)
    # the CDR comes at hangup: the note joins the new call record, which takes the
    # customer the agent picked
    from webui.cdr import store_cdr
    from esl_apps.config import load_config
    fields = {"call_uuid": CALL, "direction": "inbound", "caller": "13800138000",
              "start_at": None, "hangup_cause": "NORMAL_CLEARING"}
    assert store_cdr({}, fields, SimpleNamespace(locale=load_config(None, environ={}).locale))
    call = CallRecord.get(CallRecord.call_uuid == CALL)
    assert (CallNote.get().call_id, call.customer_id) == (call.id, customer.id)


@pytest.mark.parametrize("fields", [
    {"text": "", "category": "1"}, {"text": "x", "category": "999"},
    {"text": "x", "category": "1", "call_uuid": "not a uuid!"}])
def test_a_bad_note_is_refused(client, categories, fields):
    data = {"call_uuid": CALL, **fields}
    if data["category"] == "1":
        data["category"] = str(categories[0].id)
    assert post(client, "/desk/note", **data).status_code == 400
    assert CallNote.select().count() == 0


def test_blacklist_in_one_click(client, agent_user):
    response = post(client, "/desk/blacklist", number="+8613800138000", reason="骚扰电话",
                    call_uuid=CALL)
    assert response.status_code == 200
    entry = BlacklistEntry.get()
    assert (entry.pattern, entry.is_prefix, entry.reason, entry.created_by_id) == (
        "8613800138000", False, "骚扰电话", agent_user.id)
    assert AuditLog.get(AuditLog.action == "blacklist.add").detail["call_uuid"] == CALL
    assert post(client, "/desk/blacklist", number="anonymous", reason="x").status_code == 400
    assert post(client, "/desk/blacklist", number="13800138000", reason="").status_code == 400


def test_a_new_customer_for_an_unknown_caller(client, db):
    response = post(client, "/desk/customer", name="赵敏", phone="13900139000",
                    address="光明街 1 号", region="南开区")
    assert response.status_code == 200
    assert response.json["customer"]["name"] == "赵敏"
    assert CustomerPhone.get().e164 == "+8613900139000"
    assert build_pop(agent_leg(caller="13900139000"))["customer"]["address"] == "光明街 1 号"
    assert post(client, "/desk/customer", name="x", phone="12").status_code == 400


def test_recent_calls_are_the_agents_own(client, db):
    mine = Agent.get(Agent.extension == "1001")
    other = Agent.create(extension="1002", display_name="B", sip_password="y" * 16)
    CallRecord.create(call_uuid="a", direction="inbound", caller="13700000001", agent=mine)
    CallRecord.create(call_uuid="b", direction="inbound", caller="13700000002", agent=other)
    html = client.get("/desk").text
    assert "13700000001" in html and "13700000002" not in html


def test_the_desk_page_in_chinese(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    html = client.get("/desk").text
    assert "<h1>坐席工作台</h1>" in html
