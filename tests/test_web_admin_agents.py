"""Admin → Agents: create (SIP password shown once), reset the SIP password, edit,
delete; every change audited and handed to the switch through the injected
control object (HOTLINE_AGENT_CONTROL), or saved for the next sync without one."""
import re

import pytest

from db.models import Agent, AgentStateLog, AuditLog, Queue, Tier
from esl_apps.switch_render import SECRET_RE
from tests.webpanel import add_user, csrf_token, make_app, sign_in_session


class FakeControl:
    """What the admin pages would push to the switch."""

    def __init__(self, answer=None):
        self.calls = []
        self.answer = answer

    def sync(self, render=False, reload_queues=(), unload_queues=()):
        self.calls.append({"render": render, "reload": list(reload_queues),
                           "unload": list(unload_queues)})
        return self.answer


@pytest.fixture
def control():
    return FakeControl()


def _client(app, role):
    client = app.test_client()
    sign_in_session(client, add_user(f"as_{role}", role))
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def client(db, control):
    return _client(make_app(HOTLINE_AGENT_CONTROL=control), "admin")


def token(client, path="/admin/agents"):
    return csrf_token(client.get(path).text)


def create(client, **fields):
    data = {"csrf_token": token(client), "extension": "1001", "display_name": "Li Na",
            "user": "0", **fields}
    return client.post("/admin/agents", data=data)


def shown_password(html):
    match = re.search(r'<code class="password" id="shown-password">([^<]+)</code>', html)
    return match.group(1) if match else None


def test_create_shows_the_sip_password_once(client, control):
    response = create(client)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    password = shown_password(response.text)
    agent = Agent.get(Agent.extension == "1001")
    assert agent.sip_password == password and SECRET_RE.match(password)
    assert (agent.display_name, agent.user_id) == ("Li Na", None)
    assert control.calls == [{"render": True, "reload": [], "unload": []}]
    assert "the switch has it" in response.text
    again = client.get("/admin/agents").text
    assert password not in again and f'id="agent-{agent.id}"' in again
    entry = AuditLog.get(AuditLog.action == "agent.create")
    assert entry.detail["extension"] == "1001" and password not in str(entry.detail)


def test_create_linked_to_a_desk_user(client):
    user = add_user("wang.wei", "agent")
    add_user("qa.person", "qa")
    page = client.get("/admin/agents").text
    assert "wang.wei" in page and "qa.person" not in page   # only desk roles are offered
    assert create(client, user=str(user.id)).status_code == 200
    assert Agent.get(Agent.extension == "1001").user_id == user.id
    # linked now: not offered again, and a second link is refused
    assert f'value="{user.id}"' not in client.get("/admin/agents").text
    response = create(client, extension="1002", user=str(user.id))
    assert response.status_code == 400
    assert Agent.select().count() == 1


def test_a_duplicate_extension_is_refused_and_nothing_is_saved(client, control):
    Agent.create(extension="1001", display_name="Old", sip_password="s" * 16)
    response = create(client, display_name="New")
    assert response.status_code == 409
    assert "An agent with this extension already exists." in response.text
    assert shown_password(response.text) is None
    assert [a.display_name for a in Agent.select()] == ["Old"]
    assert control.calls == [] and not AuditLog.select().where(
        AuditLog.action == "agent.create").exists()


@pytest.mark.parametrize("field, value, message", [
    ("extension", "1", "2 to 16 digits."), ("extension", "10a1", "2 to 16 digits."),
    ("extension", "", "This field is required."),
    ("display_name", 'Li "Na"', "No control characters"),
    ("display_name", "${evil}", "No control characters"),
    ("user", "999", "Not a valid choice")])
def test_bad_values_are_shown_next_to_their_field(client, control, field, value, message):
    response = create(client, **{field: value})
    assert response.status_code == 400
    assert message in response.text
    # the error sits inside the field's label
    label = re.search(rf'<label>[^<]*<(?:input|select)[^>]*name="{field}".*?</label>',
                      response.text, re.DOTALL)
    assert label and message in label.group(0)
    assert not Agent.select().exists() and control.calls == []


def test_reset_sip_password(client, control):
    agent = Agent.create(extension="1001", display_name="Li Na", sip_password="s" * 16)
    response = client.post(f"/admin/agents/{agent.id}/password",
                           data={"csrf_token": token(client)})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    password = shown_password(response.text)
    assert password and password != "s" * 16
    assert Agent.get_by_id(agent.id).sip_password == password
    assert control.calls == [{"render": True, "reload": [], "unload": []}]
    assert AuditLog.get(AuditLog.action == "agent.sip_password_reset").object_id == str(agent.id)


def edit(client, agent, **fields):
    data = {"csrf_token": token(client, f"/admin/agents/{agent.id}"),
            "display_name": agent.display_name, "user": "0", "max_no_answer": "3",
            "wrap_up_time": "10", "reject_delay_time": "10", "busy_delay_time": "60",
            "no_answer_delay_time": "10", **fields}
    return client.post(f"/admin/agents/{agent.id}", data=data)


def test_edit_times_goes_by_a_reconcile_pass(client, control):
    agent = Agent.create(extension="1001", display_name="Li Na", sip_password="s" * 16)
    response = edit(client, agent, max_no_answer="5", wrap_up_time="30",
                    reject_delay_time="7", busy_delay_time="90", no_answer_delay_time="15")
    assert response.status_code == 302
    agent = Agent.get_by_id(agent.id)
    assert (agent.max_no_answer, agent.wrap_up_time, agent.reject_delay_time,
            agent.busy_delay_time, agent.no_answer_delay_time) == (5, 30, 7, 90, 15)
    assert control.calls == [{"render": False, "reload": [], "unload": []}]
    entry = AuditLog.get(AuditLog.action == "agent.update")
    assert entry.detail["from"]["max_no_answer"] == 3 and entry.detail["to"]["max_no_answer"] == 5
    # a new name is in the SIP directory: the files are rendered again
    edit(client, agent, display_name="Li Na (night)", max_no_answer="5", wrap_up_time="30",
         reject_delay_time="7", busy_delay_time="90", no_answer_delay_time="15")
    assert control.calls[-1]["render"] is True


@pytest.mark.parametrize("field, value", [("max_no_answer", "-1"), ("max_no_answer", "100"),
                                          ("wrap_up_time", "3601"), ("busy_delay_time", "x")])
def test_a_bad_edit_changes_nothing(client, control, field, value):
    agent = Agent.create(extension="1001", display_name="Li Na", sip_password="s" * 16)
    response = edit(client, agent, **{field: value}, display_name="Changed")
    assert response.status_code == 400
    assert 'class="error"' in response.text
    assert Agent.get_by_id(agent.id).display_name == "Li Na" and control.calls == []


def test_delete_removes_the_agent_and_its_tiers(client, control):
    agent = Agent.create(extension="1001", display_name="Li Na", sip_password="s" * 16)
    queue = Queue.create(name="support")
    Tier.create(queue=queue, agent=agent)
    AgentStateLog.create(agent=agent, status="Available", source="hotline")
    response = client.post(f"/admin/agents/{agent.id}/delete",
                           data={"csrf_token": token(client)})
    assert response.status_code == 302
    assert not Agent.select().exists() and not Tier.select().exists()
    assert control.calls == [{"render": True, "reload": [], "unload": []}]
    assert AuditLog.get(AuditLog.action == "agent.delete").detail["queues"] == ["support"]


def test_without_a_switch_the_change_lands_for_the_next_sync(db):
    client = _client(make_app(), "admin")
    response = create(client)
    assert response.status_code == 200 and Agent.select().count() == 1
    assert "it gets the change at the next sync" in response.text


def test_a_refusal_of_the_switch_is_shown_as_an_error(db):
    control = FakeControl("saved, but FreeSWITCH refused it: -ERR Agent not found!")
    client = _client(make_app(HOTLINE_AGENT_CONTROL=control), "admin")
    response = create(client)
    assert Agent.select().count() == 1
    assert 'flash-error' in response.text and "-ERR Agent not found!" in response.text


def test_list_shows_state_user_and_queues(client):
    user = add_user("li.na", "agent")
    agent = Agent.create(extension="1001", display_name="Li Na", sip_password="s" * 16,
                         user=user, state="On Break", break_reason="lunch")
    Tier.create(queue=Queue.create(name="support"), agent=agent, level=2, position=3)
    AgentStateLog.create(agent=agent, status="On Break", state="Waiting", source="phone")
    row = re.search(rf'<tr id="agent-{agent.id}">.*?</tr>', client.get("/admin/agents").text,
                    re.DOTALL).group(0)
    assert "li.na" in row and "On break (lunch)" in row and "support (2/3)" in row


def test_supervisor_may_look_but_not_change(db, control):
    agent = Agent.create(extension="1001", display_name="Li Na", sip_password="s" * 16)
    client = _client(make_app(HOTLINE_AGENT_CONTROL=control, csrf=False), "supervisor")
    page = client.get("/admin/agents")
    assert page.status_code == 200 and 'id="create-agent"' not in page.text
    detail = client.get(f"/admin/agents/{agent.id}")
    assert detail.status_code == 200 and "<fieldset disabled>" in detail.text
    for path in ("/admin/agents", f"/admin/agents/{agent.id}",
                 f"/admin/agents/{agent.id}/password", f"/admin/agents/{agent.id}/delete"):
        assert client.post(path, data={"extension": "1002", "display_name": "X"}
                           ).status_code == 403, path
    assert Agent.select().count() == 1 and control.calls == []


@pytest.mark.parametrize("role", ["agent", "qa", "designer"])
def test_other_roles_are_refused(db, role):
    client = _client(make_app(), role)
    assert client.get("/admin/agents").status_code == 403


def test_a_post_without_csrf_token_is_refused(client, control):
    response = client.post("/admin/agents", data={"extension": "1001", "display_name": "X"})
    assert response.status_code == 400
    assert not Agent.select().exists() and control.calls == []
