"""The agent desk in a real browser: a switch event on the agent's leg pops the
card (the caller-ID name shown as text, not markup), the note saves against the
call, and the state buttons change the agent's state through the (fake) ACD
control. No violation of the Content-Security-Policy."""
import threading
import time

import pytest

from db.models import Agent, CallNote, CallRecord, NoteCategory
from tests.test_web_desk import EVIL, FakeAcd, FakeEsl, agent_leg
from webui.events import DeskEvents, PopHub

pytestmark = pytest.mark.browser


@pytest.fixture
def desk_panel(tmp_path):
    from werkzeug.serving import make_server

    from db import migrate
    from db.connect import bind, open_database
    from tests.webpanel import PASSWORD, add_user, make_app

    database = bind(open_database(f"sqlite:///{tmp_path / 'hotline.db'}"))
    migrate.upgrade(database)
    user = add_user("li.na", "agent", display_name="Li Na")
    Agent.create(user=user, extension="1001", display_name="Li Na", sip_password="x" * 16)
    hub, acd = PopHub(), FakeAcd(database)
    app = make_app(HOTLINE_POP_HUB=hub, HOTLINE_AGENT_CONTROL=acd, HOTLINE_SSE_HEARTBEAT=1)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"base": f"http://127.0.0.1:{server.server_port}", "password": PASSWORD,
           "hub": hub, "acd": acd, "desk": DeskEvents(FakeEsl(), hub, database)}
    server.shutdown()
    thread.join(10)
    database.close()


def _wait(condition, seconds=5.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_a_call_pops_the_note_saves_and_the_state_buttons_work(browser, desk_panel):
    base = desk_panel["base"]
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("dialog", lambda d: (problems.append("dialog: " + d.message), d.dismiss()))

    page.goto(f"{base}/login?next=/desk")
    page.get_by_label("User name").fill("li.na")
    page.get_by_label("Password").fill(desk_panel["password"])
    page.get_by_role("button", name="Sign in").click()
    assert page.url == f"{base}/desk"
    assert page.locator("h1").inner_text() == "Agent desk"
    assert _wait(lambda: desk_panel["hub"].listeners("1001") == 1)

    # a call: the switch event reaches the page
    call = agent_leg(name=EVIL)
    CallRecord.create(call_uuid=call["variable_cc_member_session_uuid"],
                      direction="inbound", caller="13800138000")
    desk_panel["desk"].handle(call)
    pop = page.locator("#pop")
    pop.wait_for(state="visible", timeout=5000)
    assert page.locator("#pop-caller").inner_text() == "13800138000"
    assert page.locator("#pop-caller-name").inner_text() == EVIL       # text, not markup
    assert page.locator("#pop script").count() == 0
    assert "20481357" in page.locator("#pop-data").inner_text()
    assert page.locator("#card-unknown").is_visible()                  # an unknown caller
    assert page.locator("#new-phone").input_value() == "+8613800138000"

    # the note
    leak = NoteCategory.get(NoteCategory.code == "repair")
    page.locator("#note-category").select_option(str(leak.id))
    page.locator("#note-text").fill("暖气不热，已登记报修")
    page.locator("#note-save").click()
    page.locator("#note-message", has_text="Note saved.").wait_for(timeout=5000)
    note = CallNote.get()
    assert note.text == "暖气不热，已登记报修" and note.call.call_uuid == call[
        "variable_cc_member_session_uuid"]

    # the state buttons, through the ACD control
    page.locator("#btn-ready").click()
    page.locator("#agent-status[data-status='Available']").wait_for(timeout=5000)
    page.locator("#break-reason").select_option("lunch")
    page.locator("#btn-break").click()
    page.locator("#agent-status[data-status='On Break']").wait_for(timeout=5000)
    assert page.locator("#agent-reason").inner_text() == "Lunch"
    page.locator("#btn-logout").click()
    page.locator("#agent-status[data-status='Logged Out']").wait_for(timeout=5000)
    assert desk_panel["acd"].pushed == [("1001", "Available", ""), ("1001", "On Break", "lunch"),
                                        ("1001", "Logged Out", "")]
    assert page.locator("#pop").is_visible()   # no reload: the card stays up
    assert not problems, problems
    context.close()
