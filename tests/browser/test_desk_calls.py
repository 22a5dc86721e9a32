"""The desk's call controls in a real browser: a pop brings the controls of the
agent's own leg (found from the caller's leg the card names), Hold / Resume /
Transfer swap the card in place through htmx, a refused control shows its message
in the card, and nothing breaks the Content-Security-Policy. The switch is the
fake's channel model (tests/test_desk_calls.py), answered in-process."""
import threading

import pytest

from db.models import Agent, CallRecord
from tests.browser.conftest import add_agent, open_page, sign_in, wait_until
from tests.test_desk_calls import A, C, ChannelSwitch, queue_call
from tests.test_web_desk import FakeEsl, agent_leg
from webui.desk.call_control import CallControl
from webui.events import DeskEvents, PopHub

pytestmark = pytest.mark.browser


class InProcessEsl:
    """esl.api / esl.bgapi answered by the fake switch's channel model, without the
    wire (the panel's request threads are not the fake's gevent hub)."""

    def __init__(self, fake):
        self.fake = fake
        self.lock = threading.Lock()

    def api(self, command, timeout=None):
        with self.lock:
            return self.fake._api_reply(command)

    def bgapi(self, command):
        with self.lock:
            self.fake.commands.append("bgapi " + command)
        return "job"


@pytest.fixture
def calls_panel(panel_db, serve):
    from tests.webpanel import PASSWORD, make_app

    add_agent()
    Agent.create(extension="1002", display_name="Wang Wu", sip_password="y" * 16)
    fake = ChannelSwitch("unused")
    queue_call(fake)
    hub = PopHub()
    control = CallControl(InProcessEsl(fake), "127.0.0.1", gateway="")
    app = make_app(HOTLINE_POP_HUB=hub, HOTLINE_CALL_CONTROL=control, HOTLINE_SSE_HEARTBEAT=1)
    return {"base": serve(app), "password": PASSWORD,
            "hub": hub, "fake": fake, "desk": DeskEvents(FakeEsl(), hub, panel_db)}


def test_the_controls_follow_the_call_and_show_refusals(browser, calls_panel):
    base, fake = calls_panel["base"], calls_panel["fake"]
    problems = []
    context, page = open_page(browser, problems)

    sign_in(page, base, "li.na", calls_panel["password"])
    assert wait_until(lambda: calls_panel["hub"].listeners("1001") == 1, seconds=20)

    CallRecord.create(call_uuid=C, direction="inbound", caller="13800138000")
    calls_panel["desk"].handle(agent_leg(uuid=C))
    page.locator("#pop").wait_for(state="visible", timeout=5000)
    # the controls of 1001's own leg, found from the caller's leg the card names
    page.locator(f"#call-controls[data-leg='{A}'][data-state='talking']").wait_for(timeout=5000)

    page.locator("#call-hold").click()
    page.locator("#call-controls[data-state='held']").wait_for(timeout=5000)
    assert page.locator("#call-message").inner_text() == "The caller is on hold."
    assert f"uuid_hold {A}" in fake.sent()
    page.locator("#call-resume").click()
    page.locator("#call-controls[data-state='talking']").wait_for(timeout=5000)

    # no gateway: an outside number is refused, in the card
    page.locator("#call-number").fill("13800138000")
    page.locator("#call-transfer").click()
    page.locator("#call-message.bad").wait_for(timeout=5000)
    assert "No outbound gateway is configured" in page.locator("#call-message").inner_text()

    page.locator("#call-target-select").select_option("agent:1002")
    page.locator("#call-transfer").click()
    page.locator("#call-controls[data-state='transferred']").wait_for(timeout=5000)
    assert fake.sent()[-1].startswith(f"uuid_transfer {C} m:^:")
    assert "user/1002@127.0.0.1" in fake.sent()[-1]

    # click-to-dial without a gateway says why
    page.locator("#dial-number").fill("13800138000")
    page.locator("#dial-call").click()
    page.locator("#dial-message.bad").wait_for(timeout=5000)
    assert "No outbound gateway" in page.locator("#dial-message").inner_text()
    assert not problems, problems
    context.close()
