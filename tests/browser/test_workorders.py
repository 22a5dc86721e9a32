"""One work order in a real browser, end to end: a call pops on the agent's desk,
the agent makes a work order from it (prefilled) and dispatches it to a field
worker; the field worker, on a phone-sized screen, starts the repair, adds a
photo and marks it done; the agent's revisit closes it. No violation of the
Content-Security-Policy on the way."""
import pytest

from db.models import (
    Agent,
    CallRecord,
    Customer,
    Department,
    DepartmentMember,
    Notification,
    WorkOrder,
    WorkOrderAttachment,
    WorkOrderEvent,
)
from tests.browser.conftest import add_agent, open_page, sign_in, wait_until
from tests.test_web_desk import FakeAcd, FakeEsl, agent_leg
from webui.events import DeskEvents, PopHub

pytestmark = pytest.mark.browser

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00"
       b"\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05"
       b"\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


@pytest.fixture
def panel(panel_db, serve, tmp_path):
    from tests.webpanel import PASSWORD, add_user, make_app

    add_agent()
    worker = add_user("wang", "field", display_name="Wang Wei")
    crew = Department.create(name="Crew one")
    DepartmentMember.create(department=crew, user=worker, phone="+8613800000002")
    hub = PopHub()
    app = make_app(HOTLINE_POP_HUB=hub, HOTLINE_AGENT_CONTROL=FakeAcd(panel_db),
                   HOTLINE_SSE_HEARTBEAT=1, HOTLINE_WORKORDER_FILES=str(tmp_path / "files"))
    return {"base": serve(app), "password": PASSWORD,
            "hub": hub, "desk": DeskEvents(FakeEsl(), hub, panel_db), "crew": crew,
            "worker": worker}


def _page(browser, problems, **options):
    """A page that reports script errors, CSP violations and failed work-order
    requests. (The desk's call controls answer 503 without a switch; the
    browser logs that as a failed resource, which is not this test's business.)"""
    context, page = open_page(browser, problems, ignore_failed_loads=True, **options)
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and "/workorders" in r.url else None)
    return context, page


def test_dispatch_field_update_revisit_close(browser, panel, tmp_path):
    base, password, problems = panel["base"], panel["password"], []

    # the agent takes a call and makes a work order from it
    desk_context, desk = _page(browser, problems)
    sign_in(desk, base, "li.na", password, "/desk")
    assert wait_until(lambda: panel["hub"].listeners("1001") == 1)
    call = agent_leg(name="Zhang San")
    uuid = call["variable_cc_member_session_uuid"]
    customer = Customer.create(name="Zhang San", address="3 Harbour Rd", region="East")
    CallRecord.create(call_uuid=uuid, direction="inbound", caller="13800138000",
                      customer=customer, agent=Agent.get(), call_data={"account": "20481357"})
    panel["desk"].handle(call)
    desk.locator("#pop").wait_for(state="visible", timeout=5000)
    link = desk.locator("#wo-from-call")
    link.click()
    desk.wait_for_url(f"{base}/workorders/new?call={uuid}", timeout=5000)
    assert desk.locator("#call-customer").inner_text().startswith("Zhang San")
    assert "20481357" in desk.locator("#from-call").inner_text()
    assert desk.get_by_label("Address").input_value() == "3 Harbour Rd"
    desk.get_by_label("Title").fill("Radiator cold in the bedroom")
    desk.get_by_label("Type").select_option("repair")
    desk.get_by_label("Department").select_option(str(panel["crew"].id))
    desk.get_by_label("Field worker").select_option(str(panel["worker"].id))
    desk.locator("#order-save").click()
    desk.locator("#order-state[data-state='dispatched']").wait_for(timeout=5000)
    order = WorkOrder.get()
    assert order.call.call_uuid == uuid and order.customer_id == customer.id
    assert order.assignee_id == panel["worker"].id
    assert Notification.select().where(Notification.event == "dispatch",
                                       Notification.recipient == "+8613800000002").count() == 1

    # the field worker, on a phone
    field_context, phone = _page(browser, problems, viewport={"width": 390, "height": 844},
                                 is_mobile=True, has_touch=True)
    sign_in(phone, base, "wang", password, "/workorders/mine")
    card = phone.locator(f"#mine-{order.id}")
    assert "Dispatched" in card.inner_text()
    card.get_by_placeholder("Comment").first.fill("On my way")
    card.locator("button[data-target='repairing']").click()
    phone.locator(f"#mine-{order.id} .state", has_text="Repairing").wait_for(timeout=5000)
    photo = tmp_path / "valve.png"
    photo.write_bytes(PNG)
    card = phone.locator(f"#mine-{order.id}")
    card.locator("input[type=file]").set_input_files(str(photo))
    card.get_by_role("button", name="Upload photo").click()
    phone.locator(".flash", has_text="Photo added.").wait_for(timeout=5000)
    card = phone.locator(f"#mine-{order.id}")
    card.get_by_placeholder("Comment").first.fill("Valve replaced")
    card.locator("button[data-target='repaired']").click()
    phone.locator(f"#mine-{order.id} .state", has_text="Repair done").wait_for(timeout=5000)
    assert WorkOrderAttachment.get(WorkOrderAttachment.kind == "photo").size_bytes == len(PNG)

    # the agent's revisit closes it
    desk.goto(f"{base}/workorders/revisits")
    desk.get_by_role("link", name=order.number).click()
    desk.get_by_label("Satisfied", exact=True).check()
    desk.get_by_label("Comment").fill("Warm again, thanks")
    desk.locator("#revisit-save").click()
    desk.locator("#order-state[data-state='closed']").wait_for(timeout=5000)
    assert desk.locator(".wo-photo img").count() == 1
    history = desk.locator("#history").inner_text()
    for text in ("On my way", "Valve replaced", "Warm again, thanks",
                 "Repairing → Repair done", "Revisit → Closed"):
        assert text in history, text
    order = WorkOrder.get_by_id(order.id)
    assert order.closed_at is not None and order.satisfaction == "satisfied"
    kinds = [e.kind for e in WorkOrderEvent.select().order_by(WorkOrderEvent.id)]
    assert kinds[0] == "created" and kinds.count("transition") == 4
    assert not problems, problems
    desk_context.close()
    field_context.close()
