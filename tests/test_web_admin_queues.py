"""Admin → Queues and their tiers: create, edit, delete queues (reloaded or unloaded
in mod_callcenter), add, change, remove tiers (a reconcile pass); supervisors
change tiers only. Also what the control object sends to the switch, and the
reserve-agents setting in callcenter.conf.xml."""
import re
from types import SimpleNamespace

import pytest

from db.models import Agent, AuditLog, Queue, Tier
from esl_apps.acd.render import SwitchFiles
from esl_apps.acd.service import AcdService
from esl_apps.config import Config
from esl_apps.inbound import EslUnavailable
from tests.test_web_admin_agents import FakeControl
from tests.webpanel import add_user, csrf_token, make_app, sign_in_session
from webui.desk.control import AcdAgentControl

SECRETS = {"esl_password": "e" * 16, "default_password": "d" * 16, "cdr_password": "p" * 16}


def _client(app, role):
    client = app.test_client()
    sign_in_session(client, add_user(f"as_{role}", role))
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def control():
    return FakeControl()


@pytest.fixture
def client(db, control):
    return _client(make_app(HOTLINE_AGENT_CONTROL=control), "admin")


@pytest.fixture
def agents(db):
    return [Agent.create(extension=ext, display_name=f"Agent {ext}", sip_password="s" * 16)
            for ext in ("1001", "1002")]


def token(client, path="/admin/queues"):
    return csrf_token(client.get(path).text)


SETTINGS = {"display_name": "Support", "strategy": "round-robin",
            "moh_sound": "local_stream://moh", "record_calls": "y", "max_wait_time": "600",
            "max_wait_time_with_no_agent": "120", "announce_frequency": "45",
            "sticky_agent_days": "7", "discard_abandoned_after": "90",
            "tier_rules_apply": "y"}


def create(client, **fields):
    return client.post("/admin/queues", data={"csrf_token": token(client), "name": "support",
                                              **SETTINGS, **fields})


def test_create_a_queue(client, control):
    response = create(client)
    queue = Queue.get(Queue.name == "support")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/queues/{queue.id}")
    assert (queue.display_name, queue.strategy, queue.moh_sound, queue.record_calls,
            queue.max_wait_time, queue.max_wait_time_with_no_agent, queue.announce_frequency,
            queue.sticky_agent_days, queue.discard_abandoned_after, queue.tier_rules_apply,
            queue.abandoned_resume_allowed) == \
        ("Support", "round-robin", "local_stream://moh", True, 600, 120, 45, 7, 90, True, False)
    assert control.calls == [{"render": False, "reload": ["support"], "unload": []}]
    assert AuditLog.get(AuditLog.action == "queue.create").detail["strategy"] == "round-robin"
    page = client.get("/admin/queues").text
    assert f'id="queue-{queue.id}"' in page and "Round robin" in page


def test_a_duplicate_name_is_refused(client, control):
    Queue.create(name="support", strategy="top-down")
    response = create(client)
    assert response.status_code == 409 and "A queue with this name already exists." in response.text
    assert [q.strategy for q in Queue.select()] == ["top-down"] and control.calls == []


@pytest.mark.parametrize("field, value, message", [
    ("name", "bad name", "1 to 48 letters"), ("name", "x" * 49, "1 to 48 letters"),
    ("name", "s@default", "1 to 48 letters"), ("strategy", "random", "Not a valid choice"),
    ("moh_sound", 'local_stream://moh"/><x', "local_stream://NAME"),
    ("max_wait_time", "-5", "Number must be"), ("sticky_agent_days", "400", "Number must be"),
    ("announce_frequency", "soon", "Not a valid integer")])
def test_bad_values_are_shown_next_to_their_field(client, control, field, value, message):
    response = create(client, **{field: value})
    assert response.status_code == 400
    label = re.search(rf'<label>[^<]*<(?:input|select)[^>]*name="{field}".*?</label>',
                      response.text, re.DOTALL)
    assert label and message in label.group(0)
    assert not Queue.select().exists() and control.calls == []


def edit(client, queue, **fields):
    path = f"/admin/queues/{queue.id}"
    return client.post(path, data={"csrf_token": token(client, path), **SETTINGS, **fields})


def test_edit_reloads_the_queue_when_the_switch_reads_the_change(client, control):
    queue = Queue.create(name="support", **{k: v for k, v in {
        "display_name": "Support", "strategy": "round-robin", "max_wait_time": 600,
        "max_wait_time_with_no_agent": 120, "announce_frequency": 45, "sticky_agent_days": 7,
        "discard_abandoned_after": 90, "tier_rules_apply": True}.items()})
    # the panel's own and the waiting service's fields: nothing to push
    assert edit(client, queue, display_name="Help desk", announce_frequency="60",
                sticky_agent_days="0").status_code == 302
    queue = Queue.get_by_id(queue.id)
    assert (queue.display_name, queue.announce_frequency, queue.sticky_agent_days) == \
        ("Help desk", 60, None)
    assert control.calls == []
    assert edit(client, queue, display_name="Help desk", announce_frequency="60",
                sticky_agent_days="0", strategy="ring-all").status_code == 302
    assert Queue.get_by_id(queue.id).strategy == "ring-all"
    assert control.calls == [{"render": False, "reload": ["support"], "unload": []}]
    updates = [e.detail for e in AuditLog.select().where(AuditLog.action == "queue.update")
               .order_by(AuditLog.id)]
    assert updates[-1]["from"] == {"strategy": "round-robin"}
    assert updates[-1]["to"] == {"strategy": "ring-all"}


def test_a_bad_edit_changes_nothing(client, control):
    queue = Queue.create(name="support")
    response = edit(client, queue, strategy="fastest", display_name="Changed")
    assert response.status_code == 400 and "Not a valid choice" in response.text
    assert Queue.get_by_id(queue.id).display_name == "" and control.calls == []


def test_delete_unloads_the_queue(client, control, agents):
    queue = Queue.create(name="support")
    Tier.create(queue=queue, agent=agents[0])
    response = client.post(f"/admin/queues/{queue.id}/delete",
                           data={"csrf_token": token(client)})
    assert response.status_code == 302
    assert not Queue.select().exists() and not Tier.select().exists()
    assert Agent.select().count() == 2
    assert control.calls == [{"render": False, "reload": [], "unload": ["support"]}]
    assert AuditLog.get(AuditLog.action == "queue.delete").detail == \
        {"name": "support", "agents": ["1001"]}


@pytest.mark.parametrize("name, message", [
    ("emergency", "is used by the flows gas_main"),     # a sample flow sends callers there
    ("default", "is used by the flows")])               # also Hotline's fallback queue
def test_a_queue_in_use_is_not_deleted(client, control, name, message):
    queue = Queue.create(name=name)
    client.post(f"/admin/queues/{queue.id}/delete", data={"csrf_token": token(client)})
    assert Queue.select().count() == 1 and control.calls == []
    assert message in client.get(f"/admin/queues/{queue.id}").text


def test_the_fallback_queue_is_not_deleted(db, control):
    client = _client(make_app(HOTLINE_AGENT_CONTROL=control,
                              hotline={"freeswitch": {"fallback_queue": "spare"}}), "admin")
    queue = Queue.create(name="spare")
    client.post(f"/admin/queues/{queue.id}/delete", data={"csrf_token": token(client)})
    assert Queue.select().count() == 1 and control.calls == []
    assert "fallback queue" in client.get(f"/admin/queues/{queue.id}").text


def test_queues_named_only_by_flows_are_listed(client):
    page = client.get("/admin/queues").text
    unlisted = re.search(r'<p class="note" id="unlisted">(.*?)</p>', page, re.DOTALL).group(1)
    assert "emergency" in unlisted and "gov12345" in unlisted


# -- tiers ---------------------------------------------------------------------------
def tier_path(queue, tier=None, action=""):
    return f"/admin/queues/{queue.id}/tiers" + (f"/{tier.id}" if tier else "") + action


def test_add_change_remove_a_tier(client, control, agents):
    queue = Queue.create(name="support")
    page = f"/admin/queues/{queue.id}"
    response = client.post(tier_path(queue), data={
        "csrf_token": token(client, page), "agent": str(agents[1].id), "level": "2",
        "position": "3"})
    assert response.status_code == 302
    tier = Tier.get(Tier.queue == queue)
    assert (tier.agent_id, tier.level, tier.position) == (agents[1].id, 2, 3)
    assert control.calls == [{"render": False, "reload": [], "unload": []}]
    # an agent already in the queue is no longer offered
    html = client.get(page).text
    select = re.search(r'<select[^>]*name="agent".*?</select>', html, re.DOTALL).group(0)
    assert f'value="{agents[1].id}"' not in select and f'value="{agents[0].id}"' in select
    response = client.post(tier_path(queue, tier), data={
        "csrf_token": token(client, page), "level": "1", "position": "5"})
    assert response.status_code == 302
    assert (Tier.get_by_id(tier.id).level, Tier.get_by_id(tier.id).position) == (1, 5)
    response = client.post(tier_path(queue, tier, "/delete"),
                           data={"csrf_token": token(client, page)})
    assert response.status_code == 302 and not Tier.select().exists()
    assert len(control.calls) == 3
    actions = [e.action for e in AuditLog.select().order_by(AuditLog.id)]
    assert actions == ["tier.create", "tier.update", "tier.delete"]


def test_an_agent_is_in_a_queue_once(client, control, agents):
    queue = Queue.create(name="support")
    Tier.create(queue=queue, agent=agents[0])
    response = client.post(tier_path(queue), data={
        "csrf_token": token(client, f"/admin/queues/{queue.id}"), "agent": str(agents[0].id),
        "level": "1", "position": "1"})
    assert response.status_code == 400 and "Not a valid choice" in response.text
    assert Tier.select().count() == 1 and control.calls == []


@pytest.mark.parametrize("level, position", [("0", "1"), ("1", "10000"), ("x", "1")])
def test_bad_tier_values_are_refused(client, control, agents, level, position):
    queue = Queue.create(name="support")
    tier = Tier.create(queue=queue, agent=agents[0], level=2, position=2)
    page = f"/admin/queues/{queue.id}"
    response = client.post(tier_path(queue, tier), data={
        "csrf_token": token(client, page), "level": level, "position": position})
    assert response.status_code == 400
    row = re.search(rf'<tr id="tier-{tier.id}">.*?</tr>', response.text, re.DOTALL).group(0)
    assert 'class="error"' in row
    response = client.post(tier_path(queue), data={
        "csrf_token": token(client, page), "agent": str(agents[1].id), "level": level,
        "position": position})
    assert response.status_code == 400
    assert [(t.level, t.position) for t in Tier.select()] == [(2, 2)] and control.calls == []


def test_a_tier_of_another_queue_is_not_found(client, agents):
    support, sales = Queue.create(name="support"), Queue.create(name="sales")
    tier = Tier.create(queue=sales, agent=agents[0])
    response = client.post(tier_path(support, tier, "/delete"),
                           data={"csrf_token": token(client)})
    assert response.status_code == 404 and Tier.select().count() == 1


def test_supervisor_changes_tiers_only(db, control, agents):
    client = _client(make_app(HOTLINE_AGENT_CONTROL=control), "supervisor")
    queue = Queue.create(name="support", strategy="top-down")
    page = f"/admin/queues/{queue.id}"
    html = client.get(page).text
    assert "<fieldset disabled>" in html and "Delete queue" not in html
    assert 'id="create-queue"' not in client.get("/admin/queues").text
    response = client.post(tier_path(queue), data={
        "csrf_token": token(client, page), "agent": str(agents[0].id), "level": "1",
        "position": "1"})
    assert response.status_code == 302 and Tier.select().count() == 1
    for path in ("/admin/queues", page, f"{page}/delete"):
        assert client.post(path, data={"csrf_token": token(client, page), "name": "x",
                                       **SETTINGS}).status_code == 403, path
    assert Queue.get_by_id(queue.id).strategy == "top-down" and Queue.select().count() == 1


@pytest.mark.parametrize("role", ["agent", "qa", "designer"])
def test_other_roles_are_refused(db, role, agents):
    queue = Queue.create(name="support")
    client = _client(make_app(csrf=False), role)
    assert client.get("/admin/queues").status_code == 403
    assert client.get(f"/admin/queues/{queue.id}").status_code == 403
    assert client.post(tier_path(queue), data={"agent": str(agents[0].id), "level": "1",
                                               "position": "1"}).status_code == 403
    assert not Tier.select().exists()


def test_a_post_without_csrf_token_is_refused(client, control, agents):
    queue = Queue.create(name="support")
    response = client.post(tier_path(queue), data={"agent": str(agents[0].id), "level": "1",
                                                   "position": "1"})
    assert response.status_code == 400 and not Tier.select().exists()
    assert create(client, csrf_token="").status_code == 400
    assert Queue.select().count() == 1 and control.calls == []


# -- reserve-agents ------------------------------------------------------------------
@pytest.mark.parametrize("on", [True, False])
def test_reserve_agents_is_rendered_and_shown(db, tmp_path, on):
    config = Config.model_validate({"freeswitch": SECRETS, "acd": {"reserve_agents": on},
                                    "paths": {"data_dir": str(tmp_path / "data")}})
    (tmp_path / "conf" / "autoload_configs").mkdir(parents=True)
    SwitchFiles(config, tmp_path / "conf").render([], [{"name": "support"}])
    text = (tmp_path / "conf" / "autoload_configs" / "callcenter.conf.xml").read_text()
    assert ('<param name="reserve-agents" value="true"/>' in text) is on
    assert '<queue name="support@default">' in text
    client = _client(make_app(hotline={"freeswitch": SECRETS,
                                       "acd": {"reserve_agents": on}}), "supervisor")
    note = re.search(r'<p class="note" id="reserve-agents">(.*?)</p>',
                     client.get("/admin/queues").text, re.DOTALL).group(1)
    assert ("reserve-agents: on." if on else "reserve-agents: off.") in note


# -- the control object inside `hotline run` --------------------------------------------
LISTS = {"callcenter_config agent list": "name|contact|status|state|max_no_answer|wrap_up_time"
                                         "|reject_delay_time|busy_delay_time"
                                         "|no_answer_delay_time|last_status_change\n+OK\n",
         "callcenter_config tier list": "queue|agent|state|level|position\n+OK\n",
         "callcenter_config queue list": "name|strategy\n+OK\n"}


class FakeEsl:
    """The inbound client as the ACD service sees it: mod_callcenter's lists are
    empty, every other command is answered +OK and kept."""

    def __init__(self, up=True):
        self.up = up
        self.sent = []
        self.on_connect = []
        self.connected = SimpleNamespace(is_set=lambda: self.up)

    def on(self, name, handler):
        pass

    def api(self, command, timeout=None):
        if not self.up:
            raise EslUnavailable("not connected to FreeSWITCH at 127.0.0.1:8021")
        if command in LISTS or " list" in command:
            return LISTS.get(command, "uuid|state|session_uuid\n+OK\n")
        self.sent.append(command)
        return "+OK\n"


@pytest.fixture
def switch(db, tmp_path):
    config = Config.model_validate({"freeswitch": {**SECRETS, "sip_ip": "10.0.0.5"},
                                    "paths": {"data_dir": str(tmp_path / "data")}})
    conf = tmp_path / "conf"
    (conf / "directory").mkdir(parents=True)
    (conf / "autoload_configs").mkdir()
    esl = FakeEsl()
    acd = AcdService(esl, db, "10.0.0.5", files=SwitchFiles(config, conf))
    return SimpleNamespace(esl=esl, conf=conf, control=AcdAgentControl(acd))


def test_the_panel_reaches_mod_callcenter_without_a_restart(switch):
    client = _client(make_app(HOTLINE_AGENT_CONTROL=switch.control), "admin")
    html = client.post("/admin/agents", data={
        "csrf_token": token(client, "/admin/agents"), "extension": "1001",
        "display_name": "Li Na", "user": "0"}).text
    password = re.search(r'id="shown-password">([^<]+)<', html).group(1)
    directory = (switch.conf / "directory" / "default.xml").read_text()
    assert 'id="1001"' in directory and password in directory
    assert switch.esl.sent[0] == "reloadxml"
    assert "callcenter_config agent add 1001@default callback" in switch.esl.sent
    assert "callcenter_config agent set contact 1001@default user/1001@10.0.0.5" \
        in switch.esl.sent
    assert "callcenter_config agent set wrap_up_time 1001@default 10" in switch.esl.sent
    assert "the switch has it" in html

    switch.esl.sent.clear()
    client.post("/admin/queues", data={"csrf_token": token(client), "name": "support",
                                       **SETTINGS})
    conf = (switch.conf / "autoload_configs" / "callcenter.conf.xml").read_text()
    assert '<queue name="support@default">' in conf and 'value="round-robin"' in conf
    assert switch.esl.sent[:2] == ["reloadxml", "callcenter_config queue reload support@default"]

    switch.esl.sent.clear()
    queue, agent = Queue.get(Queue.name == "support"), Agent.get(Agent.extension == "1001")
    client.post(f"/admin/queues/{queue.id}/tiers", data={
        "csrf_token": token(client), "agent": str(agent.id), "level": "2", "position": "4"})
    assert "callcenter_config tier add support@default 1001@default 2 4" in switch.esl.sent

    switch.esl.sent.clear()
    client.post(f"/admin/queues/{queue.id}/delete", data={"csrf_token": token(client)})
    assert switch.esl.sent[:2] == ["reloadxml", "callcenter_config queue unload support@default"]
    conf = (switch.conf / "autoload_configs" / "callcenter.conf.xml").read_text()
    assert "support@default" not in conf


def test_with_the_switch_down_the_files_are_still_written(switch):
    switch.esl.up = False
    client = _client(make_app(HOTLINE_AGENT_CONTROL=switch.control), "admin")
    html = client.post("/admin/agents", data={
        "csrf_token": token(client, "/admin/agents"), "extension": "1001",
        "display_name": "Li Na", "user": "0"}).text
    assert Agent.select().count() == 1
    assert 'id="1001"' in (switch.conf / "directory" / "default.xml").read_text()
    assert "the switch is not reachable" in html and switch.esl.sent == []


def test_a_refused_command_is_reported(switch):
    switch.esl.api = lambda command, timeout=None: "-ERR Invalid Queue not found!\n"
    Queue.create(name="support")
    problem = switch.control.sync(reload_queues=["support"])
    assert "refused" in problem and "Invalid Queue not found" in problem


def test_a_queue_name_never_reaches_a_command_unchecked(switch):
    problem = switch.control.sync(unload_queues=["support default"])
    assert "refused" in problem and switch.esl.sent == ["reloadxml"]
