"""Work-order pages: making one by hand and from a call (prefilled), per-record
access for field workers (orders, photos), transitions by role through the
forms, photo upload limits, extensions, revisits, figures, settings, and the
desk's link."""
import io

import pytest

from db.models import (
    Agent,
    AuditLog,
    CallNote,
    CallRecord,
    Customer,
    DeadlineExtension,
    Department,
    DepartmentMember,
    NoteCategory,
    RevisitTask,
    WorkOrder,
    WorkOrderAttachment,
    WorkOrderWorkflow,
)
from esl_apps.workorders.defaults import DEFAULT_WORKFLOW
from esl_apps.workorders.service import OrderService
from tests.webpanel import add_user, make_app, sign_in_session

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 64


@pytest.fixture
def app(db, tmp_path):
    return make_app(csrf=False, HOTLINE_WORKORDER_FILES=str(tmp_path / "files"))


def client_for(app, user, lang="en"):
    client = app.test_client()
    sign_in_session(client, user)
    with client.session_transaction() as session:
        session["lang"] = lang
    return client


@pytest.fixture
def crews(db):
    one = Department.create(name="Crew one", phone="+8613800000001")
    two = Department.create(name="Crew two")
    wang = add_user("wang", "field", display_name="Wang")
    liu = add_user("liu", "field", display_name="Liu")
    DepartmentMember.create(department=one, user=wang, phone="+8613800000002")
    DepartmentMember.create(department=two, user=liu)
    return {"one": one, "two": two, "wang": wang, "liu": liu}


def make(title="No heating", **fields):
    creator = add_user(f"maker{WorkOrder.select().count()}", "agent")
    return OrderService().create(creator, title=title, type=fields.pop("type", "repair"),
                                 priority=fields.pop("priority", "medium"), **fields)


def test_agent_makes_an_order_by_hand(app, crews):
    agent = add_user("li", "agent")
    client = client_for(app, agent)
    assert "Make work order" in client.get("/workorders/new").text
    response = client.post("/workorders/new", data={
        "title": "Radiator cold", "type": "repair", "priority": "high",
        "department": str(crews["one"].id), "assignee": str(crews["wang"].id),
        "contact_name": "Ms Li", "contact_phone": "+8613912345678", "address": "1 Peace Rd",
        "region": "East", "description": "since yesterday"})
    assert response.status_code == 302
    order = WorkOrder.get(WorkOrder.title == "Radiator cold")
    assert response.headers["Location"].endswith(f"/workorders/{order.id}")
    assert (order.priority, order.department_id, order.assignee_id, order.created_by_id) == \
        ("high", crews["one"].id, crews["wang"].id, agent.id)
    assert AuditLog.get(AuditLog.action == "workorder.create").object_id == str(order.id)
    page = client.get(f"/workorders/{order.id}").text
    assert "Radiator cold" in page and "Dispatched" in page and "since yesterday" in page
    listing = client.get("/workorders/", query_string={"region": "East"}).text
    assert order.number in listing
    assert order.number not in client.get("/workorders/?region=West").text


def test_bad_type_or_missing_title_is_refused(app):
    client = client_for(app, add_user("li", "agent"))
    assert client.post("/workorders/new", data={"title": "", "type": "repair",
                                                "priority": "low"}).status_code == 400
    assert client.post("/workorders/new", data={"title": "x", "type": "magic",
                                                "priority": "low"}).status_code == 400
    assert WorkOrder.select().count() == 0


def test_from_a_call_the_form_is_prefilled_and_the_order_keeps_the_call(app):
    user = add_user("li", "agent")
    agent = Agent.create(user=user, extension="1001", display_name="Li", sip_password="x" * 16)
    customer = Customer.create(name="张伟", address="望京西园 312", region="朝阳区",
                               account_no="20481357")
    call = CallRecord.create(call_uuid="u-1", direction="inbound", caller="13800138000",
                             caller_e164="+8613800138000", agent=agent, customer=customer,
                             call_data={"account": "20481357", "press": "2"})
    CallNote.create(call=call, customer=customer, author=user, text="暖气不热",
                    category=NoteCategory.get(code="repair"))
    client = client_for(app, user)
    page = client.get("/workorders/new?call=u-1").text
    assert "张伟" in page and "望京西园 312" in page and "20481357" in page
    assert 'value="u-1"' in page and "暖气不热" in page
    assert 'selected value="repair"' in page
    response = client.post("/workorders/new", data={
        "title": "暖气不热", "type": "repair", "priority": "medium", "call": "u-1",
        "customer": str(customer.id), "contact_phone": "+8613800138000"})
    assert response.status_code == 302
    order = WorkOrder.get()
    assert order.call_id == call.id and order.customer_id == customer.id
    assert order.call_data == {"account": "20481357", "press": "2"}
    # another agent cannot make one from a call they did not take
    other = client_for(app, add_user("zhou", "agent"))
    assert other.get("/workorders/new?call=u-1").status_code == 404


def test_field_workers_see_only_their_orders_and_photos(app, crews):
    mine = make(department=crews["one"], assignee=crews["wang"], title="Wang's job")
    pool = make(department=crews["one"], title="Crew one pool")
    theirs = make(department=crews["two"], assignee=crews["liu"], title="Liu's job")
    WorkOrderAttachment.create(order=theirs.id, kind="photo", stored_name="ab.png",
                               content_type="image/png")
    wang = client_for(app, crews["wang"])
    assert wang.get(f"/workorders/{mine.id}").status_code == 200
    assert wang.get(f"/workorders/{pool.id}").status_code == 200   # the crew's unassigned
    assert wang.get(f"/workorders/{theirs.id}").status_code == 404
    listing = wang.get("/workorders/").text
    assert "Wang&#39;s job" in listing and "Crew one pool" in listing
    assert "Liu" not in listing
    page = wang.get("/workorders/mine").text
    assert mine.number in page and theirs.number not in page
    attachment = WorkOrderAttachment.get()
    assert wang.get(f"/workorders/attachments/{attachment.id}").status_code == 404
    for path in (f"/workorders/{theirs.id}/comment", f"/workorders/{theirs.id}/transition",
                 f"/workorders/{theirs.id}/photos", f"/workorders/{theirs.id}/extensions"):
        assert wang.post(path, data={"text": "x", "target": "repairing"}).status_code == 404
    # an agent sees every order
    agent = client_for(app, add_user("li", "agent"))
    assert agent.get(f"/workorders/{theirs.id}").status_code == 200


def test_transitions_through_the_forms_follow_the_roles(app, crews):
    order = make(department=crews["one"], assignee=crews["wang"])
    agent = client_for(app, add_user("li", "agent"))
    assert agent.post(f"/workorders/{order.id}/transition",
                      data={"target": "repairing"}).status_code == 403
    wang = client_for(app, crews["wang"])
    page = wang.get(f"/workorders/{order.id}").text
    assert 'data-target="repairing"' in page and 'data-target="closed"' not in page
    response = wang.post(f"/workorders/{order.id}/transition",
                         data={"target": "repairing", "comment": "on my way", "back": "mine"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/mine")
    assert WorkOrder.get_by_id(order.id).state == "repairing"
    assert wang.post(f"/workorders/{order.id}/transition",
                     data={"target": "closed"}).status_code == 403
    history = agent.get(f"/workorders/{order.id}").text
    assert "on my way" in history and "Dispatched → Repairing" in history


def test_photo_upload_images_only_and_size_limited(app, crews, tmp_path):
    order = make(department=crews["one"], assignee=crews["wang"])
    wang = client_for(app, crews["wang"])

    def upload(data, name):
        return wang.post(f"/workorders/{order.id}/photos",
                         data={"photo": (io.BytesIO(data), name)},
                         content_type="multipart/form-data")

    assert upload(PNG, "../../etc/passwd.png").status_code == 302
    assert upload(b"<html><script>alert(1)</script>", "evil.jpg").status_code == 302
    assert upload(JPEG + b"\0" * (8 * 1024 * 1024), "huge.jpg").status_code == 302
    [photo] = WorkOrderAttachment.select().where(WorkOrderAttachment.kind == "photo")
    assert photo.filename == "../../etc/passwd.png" and photo.stored_name.endswith(".png")
    stored = list((tmp_path / "files" / "workorders" / str(order.id)).iterdir())
    assert [p.name for p in stored] == [photo.stored_name]
    response = wang.get(f"/workorders/attachments/{photo.id}")
    assert response.status_code == 200 and response.data == PNG
    assert response.mimetype == "image/png"
    assert f"/workorders/attachments/{photo.id}" in wang.get(f"/workorders/{order.id}").text


def test_extension_request_and_decision(app, crews):
    order = make(department=crews["one"], assignee=crews["wang"])
    due = order.resolve_due_at
    wang = client_for(app, crews["wang"])
    assert wang.post(f"/workorders/{order.id}/extensions",
                     data={"hours": "4", "reason": "parts on order"}).status_code == 302
    ext = DeadlineExtension.get()
    assert (ext.minutes, ext.status, ext.requested_by_id) == (240, "pending", crews["wang"].id)
    boss = client_for(app, add_user("boss", "supervisor"))
    assert "ext-approve" in boss.get(f"/workorders/{order.id}").text
    assert boss.post(f"/workorders/extensions/{ext.id}",
                     data={"decision": "approve", "comment": "ok"}).status_code == 302
    assert DeadlineExtension.get_by_id(ext.id).status == "approved"
    assert WorkOrder.get_by_id(order.id).resolve_due_at > due
    agent = client_for(app, add_user("li", "agent"))
    assert agent.post(f"/workorders/extensions/{ext.id}",
                      data={"decision": "refuse"}).status_code == 403


def test_revisit_page_records_satisfaction_and_closes(app, crews):
    order = make(department=crews["one"], assignee=crews["wang"], contact_phone="+8613912345678")
    svc = OrderService()
    svc.transition(order, "repairing", crews["wang"], "field")
    svc.transition(WorkOrder.get_by_id(order.id), "repaired", crews["wang"], "field")
    task = RevisitTask.get()
    agent = client_for(app, add_user("li", "agent"))
    assert order.number in agent.get("/workorders/revisits").text
    page = agent.get(f"/workorders/revisits/{task.id}").text
    assert 'href="tel:+8613912345678"' in page or 'name="number" value="+8613912345678"' in page
    response = agent.post(f"/workorders/revisits/{task.id}",
                          data={"satisfaction": "satisfied", "comment": "很满意"})
    assert response.status_code == 302
    order = WorkOrder.get_by_id(order.id)
    assert order.state == "closed" and order.satisfaction == "satisfied"
    assert "This revisit is done." in agent.get(f"/workorders/revisits/{task.id}").text


def test_figures_page(app, crews):
    make(region="东城区")
    make(region="东城区", type="complaint")
    page = client_for(app, add_user("boss", "supervisor")).get("/workorders/figures").text
    assert "东城区" in page and "SLA compliance" in page and "Complaint" in page


def test_settings_check_the_workflow_before_saving(app):
    admin = client_for(app, add_user("root", "admin"))
    assert "Save workflow" in admin.get("/workorders/settings").text
    response = admin.post("/workorders/settings/workflow",
                          data={"definition": '{"states": []}', "sla_schedule": "default"})
    assert response.status_code == 400 and "non-empty list" in response.text
    make()   # an order in "dispatched"
    renamed = {**DEFAULT_WORKFLOW, "initial": "new", "states": [
        {**s, "code": "new"} if s["code"] == "dispatched" else s
        for s in DEFAULT_WORKFLOW["states"]],
        "transitions": [{**t, "from": "new" if t["from"] == "dispatched" else t["from"],
                         "to": "new" if t["to"] == "dispatched" else t["to"]}
                        for t in DEFAULT_WORKFLOW["transitions"]]}
    import json
    response = admin.post("/workorders/settings/workflow",
                          data={"definition": json.dumps(renamed), "sla_schedule": "24h"})
    assert response.status_code == 400 and "dispatched" in response.text
    extra = {**DEFAULT_WORKFLOW, "transitions": DEFAULT_WORKFLOW["transitions"] + [
        {"from": "dispatched", "to": "closed", "roles": ["supervisor"], "zh": "撤销",
         "en": "Cancel"}]}
    response = admin.post("/workorders/settings/workflow",
                          data={"definition": json.dumps(extra), "sla_schedule": "24h"})
    assert response.status_code == 302
    row = WorkOrderWorkflow.get()
    assert row.sla_schedule == "24h" and len(row.definition["transitions"]) == 6
    assert AuditLog.get(AuditLog.action == "workorder.workflow")
    # the new transition is there for supervisors at once, and for nobody else
    order = WorkOrder.get()
    agent = client_for(app, add_user("li", "agent"))
    assert agent.post(f"/workorders/{order.id}/transition",
                      data={"target": "closed"}).status_code == 403
    boss = client_for(app, add_user("boss", "supervisor"))
    assert 'data-target="closed"' in boss.get(f"/workorders/{order.id}").text
    assert boss.post(f"/workorders/{order.id}/transition",
                     data={"target": "closed", "comment": "duplicate"}).status_code == 302
    assert WorkOrder.get_by_id(order.id).closed_at is not None


def test_settings_departments_members_catalog_and_sla(app):
    admin = client_for(app, add_user("root", "admin"))
    worker = add_user("wang", "field")
    assert admin.post("/workorders/settings/departments",
                      data={"name": "Crew", "email": "crew@example.com"}).status_code == 302
    dept = Department.get(Department.name == "Crew")
    assert admin.post("/workorders/settings/members", data={
        "department": str(dept.id), "user": str(worker.id), "lead": "y",
        "phone": "+8613800000002"}).status_code == 302
    member = DepartmentMember.get()
    assert member.lead and member.phone == "+8613800000002"
    assert admin.post("/workorders/settings/catalog", data={
        "code": "heat-cold", "name_zh": "暖气不热", "name_en": "Radiator cold",
        "department": str(dept.id)}).status_code == 302
    from db.models import SlaRule
    rule = SlaRule.get(SlaRule.type == "repair", SlaRule.priority == "low")
    form = {f"rule-{r.id}-{k}": str(v) for r in SlaRule.select() for k, v in (
        ("response", r.response_minutes), ("resolve", r.resolve_minutes),
        ("warn", r.warn_before))}
    form[f"rule-{rule.id}-response"] = "45"
    assert admin.post("/workorders/settings/sla", data=form).status_code == 302
    assert SlaRule.get_by_id(rule.id).response_minutes == 45
    form[f"rule-{rule.id}-response"] = "soon"
    assert admin.post("/workorders/settings/sla", data=form).status_code == 400


def test_the_desk_links_the_call_on_screen_to_a_new_order(app):
    user = add_user("li", "agent")
    Agent.create(user=user, extension="1001", display_name="Li", sip_password="x" * 16)
    page = client_for(app, user).get("/desk").text
    assert 'id="wo-from-call"' in page and "workorders-desk.js" in page


def test_field_role_is_a_panel_role(app):
    client = client_for(app, add_user("wang", "field"))
    home = client.get("/").text
    assert "Field worker" in home and "/workorders/mine" in home
    assert client.get("/desk").status_code == 403


def test_the_desk_lists_a_customers_open_orders(app):
    customer = Customer.create(name="张伟")
    first = make(customer=customer.id, title="Leak")
    closed = make(customer=customer.id, title="Old one")
    WorkOrder.update(closed_at=closed.created_at, state="closed") \
        .where(WorkOrder.id == closed.id).execute()
    make(title="Someone else's")
    client = client_for(app, add_user("li", "agent"))
    data = client.get(f"/workorders/customer/{customer.id}/open").get_json()
    assert data == {"orders": [{"number": first.number, "title": "Leak", "state": "Dispatched",
                                "url": f"/workorders/{first.id}"}]}
    field = client_for(app, add_user("wang", "field"))
    assert field.get(f"/workorders/customer/{customer.id}/open").status_code == 403
