"""The demo in a real browser: `hotline run --demo` as the README's first command
starts it without a switch; the demo agent signs in with the password the output
printed, sees the demo banner, presses Ready on the desk, and the demo switch's
first sample call pops the known caller's card with what the IVR learnt."""
import pytest

from esl_apps.demo.calls import SAMPLE_CALLS
from esl_apps.demo.data import SAMPLE_CUSTOMERS
from tests.browser.conftest import open_page, sign_in
from tests.test_demo import DemoProcess

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(tmp_path):
    proc = DemoProcess(tmp_path, "--demo-if-no-switch", talk="30").start()
    yield proc
    proc.stop()


def test_the_demo_agent_signs_in_and_a_sample_call_pops_the_card(browser, demo):
    problems = []
    # (a failed resource load is another feature's business: call controls answer 410
    # when the agent has no call)
    context, page = open_page(browser, problems, ignore_failed_loads=True)

    page.goto(f"{demo.base}/login?next=/desk")
    assert page.locator("#demo-banner").is_visible()
    sign_in(page, demo.base, demo.user, demo.password)
    assert "Demo mode" in page.locator("#demo-banner").text_content()
    page.locator("#desk[data-stream='open']").wait_for(timeout=10000)

    page.locator("#btn-ready").click()
    page.locator("#agent-status[data-status='Available']").wait_for(timeout=10000)
    page.locator("#pop").wait_for(state="visible", timeout=30000)

    first = SAMPLE_CALLS[0]
    assert page.locator("#pop-caller").inner_text() == first.caller
    assert page.locator("#pop-caller-name").inner_text() == first.caller_name
    assert page.locator("#card-known").is_visible()
    assert page.locator("#cust-name").inner_text() == SAMPLE_CUSTOMERS[0][0]
    assert "20481357" in page.locator("#pop-data").inner_text()       # the account entered
    assert "heating_main:ask_account" in page.locator("#pop-path").inner_text()
    assert not problems, problems
    context.close()
