"""The agent desk in a real browser: a switch event on the agent's leg pops the
card (the caller-ID name shown as text, not markup), the note saves against the
call, and the state buttons change the agent's state through the (fake) ACD
control. No violation of the Content-Security-Policy."""
import pytest

from db.models import CallNote, CallRecord, NoteCategory
from tests.browser.conftest import add_agent, open_page, sign_in, wait_until
from tests.test_web_desk import EVIL, FakeAcd, FakeEsl, agent_leg
from webui.events import DeskEvents, PopHub

pytestmark = pytest.mark.browser


@pytest.fixture
def desk_panel(panel_db, serve):
    from tests.webpanel import PASSWORD, make_app

    add_agent()
    hub, acd = PopHub(), FakeAcd(panel_db)
    app = make_app(HOTLINE_POP_HUB=hub, HOTLINE_AGENT_CONTROL=acd, HOTLINE_SSE_HEARTBEAT=1)
    return {"base": serve(app), "password": PASSWORD,
            "hub": hub, "acd": acd, "desk": DeskEvents(FakeEsl(), hub, panel_db)}


def test_a_call_pops_the_note_saves_and_the_state_buttons_work(browser, desk_panel):
    base = desk_panel["base"]
    problems = []
    context, page = open_page(browser, problems)
    page.on("dialog", lambda d: (problems.append("dialog: " + d.message), d.dismiss()))

    sign_in(page, base, "li.na", desk_panel["password"])
    assert page.locator("h1").inner_text() == "Agent desk"
    assert wait_until(lambda: desk_panel["hub"].listeners("1001") == 1)

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
