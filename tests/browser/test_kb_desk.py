"""The desk's knowledge-base partial in a real browser: notices shown, the call
script follows the call category (a sub-category also shows its parent's script,
and the note form's category drives it), and the search box fills in results from
a Chinese query without leaving the desk. No violation of the CSP."""
import pytest

from db.models import CallScript, KbArticle, NoteCategory, Notice
from tests.browser.conftest import add_agent, open_page, sign_in
from webui.kb import search

pytestmark = pytest.mark.browser


@pytest.fixture
def kb_panel(panel_db, serve):
    from tests.webpanel import PASSWORD, make_app

    add_agent()
    repair = NoteCategory.get(code="repair")
    heat = NoteCategory.create(parent=repair, code="repair_heat", name_zh="暖气报修",
                               name_en="Heating repair")
    CallScript.create(category=repair, title="报修开场", body="您好，请问报修地址是？")
    CallScript.create(category=heat, title="暖气", body="请问是整屋不热还是个别房间？")
    Notice.create(title="今晚22点系统升级", body="请提前保存工单。")
    body = "闻到燃气味：立即关闭总阀，开窗通风。"
    KbArticle.create(title="燃气泄漏应急处置", body=body,
                     search_text=search.index_text("燃气泄漏应急处置", "", body))
    return {"base": serve(make_app()), "password": PASSWORD, "repair": repair, "heat": heat}


def test_desk_scripts_notices_and_search(browser, kb_panel):
    base = kb_panel["base"]
    problems = []
    context, page = open_page(browser, problems)

    sign_in(page, base, "li.na", kb_panel["password"])

    assert "今晚22点系统升级" in page.locator("#desk-notices").inner_text()
    opening = page.get_by_text("您好，请问报修地址是？")
    heating = page.get_by_text("请问是整屋不热还是个别房间？")
    assert not opening.is_visible() and not heating.is_visible()
    assert page.locator("#script-none").is_visible()

    page.locator("#script-category").select_option(str(kb_panel["heat"].id))
    heating.wait_for(state="visible", timeout=5000)
    assert opening.is_visible()                    # the parent's script too
    assert not page.locator("#script-none").is_visible()
    page.locator("#script-category").select_option(str(kb_panel["repair"].id))
    heating.wait_for(state="hidden", timeout=5000)
    assert opening.is_visible()

    # the call note's category drives the script (as when a call pops)
    page.evaluate("""(id) => { const s = document.getElementById('note-category');
                               s.value = id; s.dispatchEvent(new Event('change')); }""",
                  str(kb_panel["heat"].id))
    heating.wait_for(state="visible", timeout=5000)
    assert page.locator("#script-category").input_value() == str(kb_panel["heat"].id)

    page.locator("#desk-kb-search input[name=q]").fill("燃气泄漏")
    page.locator("#desk-kb-search button").click()
    result = page.locator("#desk-kb-results a", has_text="燃气泄漏应急处置")
    result.wait_for(timeout=5000)
    assert page.url == f"{base}/desk"              # the desk stays
    assert not problems, problems
    context.close()
