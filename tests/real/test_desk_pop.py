# ruff: noqa: F811 - the imported fixtures are requested by name
"""The screen pop on the real tier: a SIPp caller dials the heating line, presses 0 at
the main menu and goes into queue `default`; a baresip agent answers; the agent's
desk, open in Debian's chromium (Playwright) and signed in as that agent's user,
pops the card: the caller's number, the known customer (a phone on file), the
queue and what the IVR learnt (the menu path, the call data).

Everything runs for real: FreeSWITCH on Hotline's rendered config, `hotline run`
as a subprocess (its desk's server-sent events), the browser. The test waits for
events and page elements, never for a fixed time."""
from pathlib import Path

import pytest
from werkzeug.security import generate_password_hash

from db.models import Agent, Customer, CustomerPhone, Queue, Tier, User
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.real.hotline_proc import EventWatcher
from tests.real.ivr_setup import open_all_day_today, wait_for_open
from tests.real.test_agent_calls import (  # noqa: F401 - fixtures used by name
    AGENT,
    EVENTS,
    HEATING_DID,
    AgentCall,
    agent,
    database,
    prompts,
    switch,
)

pytestmark = [pytest.mark.freeswitch, pytest.mark.browser, pytest.mark.usefixtures("sip_phones")]

USER = "agent.one"
PASSWORD = "desk-pop-password-1001"
CALLER = "13800138000"          # what tests.real.test_agent_calls' SIPp caller sends
CUSTOMER = "王芳"


@pytest.fixture(autouse=True)
def _need_a_browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (/usr/bin/chromium)")
    pytest.importorskip("playwright.sync_api")


@pytest.fixture
def hotline(database):
    """`hotline run` with the agent's web user, the queue and a customer for the caller."""
    proc, db = database
    open_all_day_today(proc.switch)
    with db.connection_context():
        user = User.create(username=USER, role="agent", display_name="Agent One",
                           password_hash=generate_password_hash(PASSWORD))
        agent_row = Agent.create(user=user, state="Available", **AGENT)
        queue, _ = Queue.get_or_create(name="default")
        Tier.get_or_create(queue=queue, agent=agent_row)
        customer = Customer.create(name=CUSTOMER, address="和平区幸福小区3号楼2单元101",
                                   region="和平区", community="幸福小区")
        CustomerPhone.create(customer=customer, e164="+86" + CALLER)
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture
def desk(switch, hotline):
    """The agent's desk in chromium, its event stream open."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                             args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(locale="en-US")
        page = context.new_page()
        problems = []
        page.on("pageerror", lambda e: problems.append(str(e)))
        base = f"http://127.0.0.1:{switch.web_port}"
        page.goto(f"{base}/login?next=/desk")
        page.get_by_label("User name").fill(USER)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        assert page.url == f"{base}/desk", page.url
        page.locator("#desk[data-stream='open']").wait_for(timeout=15000)
        yield page
        assert not problems, problems
        context.close()
        browser.close()


def test_a_sipp_call_answered_by_baresip_pops_the_card_in_the_browser(switch, hotline, agent,
                                                                       desk, tmp_path):
    watcher = EventWatcher(switch, EVENTS)
    try:
        wait_for_open(switch)
        call = AgentCall(switch, watcher, agent, Path(tmp_path) / "sipp", rates=False,
                         talks=False)
        call.to_the_agent()
        desk.locator("#pop").wait_for(state="visible", timeout=15000)

        assert desk.locator("#pop-caller").inner_text() == CALLER
        assert desk.locator("#pop-queue").inner_text() == "default"
        assert desk.locator("#card-known").is_visible()
        assert desk.locator("#cust-name").inner_text() == CUSTOMER
        path = desk.locator("#pop-path").inner_text()
        assert "heating_main:main_menu" in path and "to_agent:queue" in path, path
        assert HEATING_DID in desk.locator("#pop-data").inner_text()    # the IVR's call data

        call.info("hang up")
        call.finish()
    finally:
        watcher.close()
