"""In a real browser: sign in, switch the language, create a user through the
admin form, and sign in as that user with the password shown once. The page must
run under the Content-Security-Policy without a violation, with the vendored
htmx and Alpine loaded."""
import re

import pytest

from tests.browser.conftest import open_page, sign_in

pytestmark = pytest.mark.browser


def test_sign_in_switch_language_and_create_a_user(browser, live_panel):
    base, password = live_panel
    problems = []
    context, page = open_page(browser, problems)

    page.goto(f"{base}/admin/users")
    assert page.url.startswith(f"{base}/login?next=")
    assert page.locator("h1").inner_text() == "Sign in"           # the browser's language

    page.get_by_role("button", name="中文").click()
    assert page.locator("h1").inner_text() == "登录"

    sign_in(page, base, "admin", password, "/admin/users", "zh")   # back where it asked
    assert page.locator("h1").inner_text() == "用户与角色"
    assert page.evaluate("typeof htmx") == "object"
    assert page.evaluate("typeof Alpine") == "object"

    page.get_by_role("button", name="English").click()
    assert page.locator("h1").inner_text() == "Users and roles"

    form = page.locator("#create-user")
    form.get_by_label("User name").fill("li.lei")
    form.get_by_label("Display name").fill("李雷 <b>")
    form.get_by_label("Role").select_option("supervisor")
    form.get_by_role("button", name="Create").click()
    shown = page.locator("#shown-password").inner_text()
    assert re.fullmatch(r"[A-Za-z0-9_-]{16}", shown)
    row = page.locator("tr", has_text="li.lei")
    assert row.locator(".display-name").inner_text() == "李雷 <b>"  # text, not markup
    assert row.locator("select[name=role]").input_value() == "supervisor"

    page.goto(f"{base}/admin/users")  # the password is shown once
    assert page.locator("#shown-password").count() == 0
    assert not problems, problems
    context.close()

    other = browser.new_context(locale="zh-CN")
    page = other.new_page()
    sign_in(page, base, "li.lei", shown, "/", "zh")
    assert "欢迎" in page.locator("h1").inner_text()
    assert "班长" in page.locator("main").inner_text()
    other.close()
