"""The knowledge base, call scripts and notices in the panel: who may read and
write, search with Chinese queries through the pages, what the desk shows, and the
admin page of notifications with its retry button."""
import datetime

import pytest

from db.models import (
    AuditLog,
    CallScript,
    KbArticle,
    KbCategory,
    NoteCategory,
    Notice,
    Notification,
    utcnow,
)
from esl_apps.notify import outbox
from tests.webpanel import add_user, csrf_token, make_app, sign_in_session

EVIL = '<script>alert("x")</script>'


@pytest.fixture
def app(db):
    return make_app()


def client_as(app, role, name=None):
    client = app.test_client()
    sign_in_session(client, add_user(name or f"u_{role}", role))
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def token(client, path="/kb"):
    return csrf_token(client.get(path).text)


def new_article(client, **fields):
    data = {"csrf_token": token(client, "/kb/new"), "title": "暖气不热怎么办",
            "body": "先检查阀门是否打开，再给暖气片放气。", "tags": "供暖，报修", "category": "0"}
    data.update(fields)
    return client.post("/kb/new", data=data)


def test_supervisor_writes_and_everybody_finds_it_with_chinese(app):
    writer = client_as(app, "supervisor")
    response = new_article(writer)
    assert response.status_code == 302
    article = KbArticle.get()
    assert response.headers["Location"].endswith(f"/kb/{article.id}")
    assert article.tags == "供暖, 报修" and article.author.username == "u_supervisor"
    assert "暖气" in article.search_text.split()
    assert AuditLog.get(AuditLog.action == "kb.article.create").object_id == str(article.id)
    for role in ("agent", "qa", "designer", "field", "admin"):
        reader = client_as(app, role)
        page = reader.get("/kb?q=暖气不热").text
        assert f'id="article-{article.id}"' in page, role
        assert reader.get(f"/kb/{article.id}").status_code == 200
        assert "放气" in reader.get("/kb/search?q=放气").text
    assert 'id="article-' not in client_as(app, "agent", "a2").get("/kb?q=燃气泄漏").text


@pytest.mark.parametrize("role", ["agent", "qa", "designer", "field"])
def test_only_admin_and_supervisor_write(app, role):
    writer = client_as(app, "admin")
    new_article(writer)
    article = KbArticle.get()
    client = client_as(app, role)
    page_token = token(client)
    assert client.get("/kb/new").status_code == 403
    assert client.post("/kb/new", data={"csrf_token": page_token, "title": "x"}
                       ).status_code == 403
    assert client.post(f"/kb/{article.id}/edit", data={"csrf_token": page_token,
                                                       "title": "x"}).status_code == 403
    assert client.post(f"/kb/{article.id}/delete",
                       data={"csrf_token": page_token}).status_code == 403
    assert client.post("/kb/categories", data={"csrf_token": page_token, "name": "x"}
                       ).status_code == 403
    assert client.post("/kb/notices", data={"csrf_token": page_token, "title": "x"}
                       ).status_code == 403
    assert client.post("/kb/scripts", data={"csrf_token": page_token, "title": "x"}
                       ).status_code == 403
    assert KbArticle.get().title == "暖气不热怎么办"


def test_edit_reindexes_and_delete_removes(app):
    client = client_as(app, "admin")
    category = KbCategory.create(name="燃气")
    new_article(client)
    article = KbArticle.get()
    response = client.post(f"/kb/{article.id}/edit", data={
        "csrf_token": token(client), "title": "燃气泄漏应急处置", "tags": "",
        "body": "立即关闭总阀，开窗通风。", "category": str(category.id)})
    assert response.status_code == 302
    assert f'id="article-{article.id}"' in client.get("/kb?q=燃气泄漏").text
    assert f'id="article-{article.id}"' in client.get(f"/kb?q=总阀&category={category.id}").text
    assert 'id="article-' not in client.get("/kb?q=暖气不热").text
    assert KbArticle.get().category_id == category.id
    assert client.post(f"/kb/{article.id}/delete",
                       data={"csrf_token": token(client)}).status_code == 302
    assert KbArticle.select().count() == 0
    assert 'id="article-' not in client.get("/kb?q=燃气泄漏").text
    assert [a.action for a in AuditLog.select().order_by(AuditLog.id)] == [
        "kb.article.create", "kb.article.update", "kb.article.delete"]


def test_invalid_article_is_refused(app):
    client = client_as(app, "supervisor")
    assert new_article(client, title="").status_code == 400
    assert new_article(client, category="999").status_code == 400
    assert KbArticle.select().count() == 0


def test_categories(app):
    client = client_as(app, "supervisor")
    assert client.post("/kb/categories", data={"csrf_token": token(client), "name": "缴费",
                                               "position": "1"}).status_code == 302
    assert client.post("/kb/categories", data={"csrf_token": token(client),
                                               "name": "缴费"}).status_code == 409
    category = KbCategory.get(name="缴费")
    new_article(client, title="如何缴费", category=str(category.id))
    assert client.post(f"/kb/categories/{category.id}/delete",
                       data={"csrf_token": token(client)}).status_code == 302
    assert KbArticle.get().category_id is None   # the article stays


def test_markup_in_articles_is_escaped(app):
    client = client_as(app, "admin")
    new_article(client, title=EVIL, body=EVIL + " 燃气")
    article = KbArticle.get()
    for path in (f"/kb/{article.id}", "/kb", "/kb?q=燃气", "/kb/search?q=燃气"):
        page = client.get(path).text
        assert EVIL not in page and "&lt;script&gt;" in page, path


def test_call_scripts_on_the_desk_by_category(app):
    repair = NoteCategory.get(code="repair")
    child = NoteCategory.create(parent=repair, code="repair_heat", name_zh="暖气报修",
                                name_en="Heating repair")
    client = client_as(app, "supervisor")
    page_token = token(client, "/kb/scripts")
    for category, title, body in ((repair, "报修开场", "您好，请问报修地址是？"),
                                  (child, "暖气报修", "请问是整屋不热还是个别房间？")):
        assert client.post("/kb/scripts", data={
            "csrf_token": page_token, "category": str(category.id), "title": title,
            "body": body, "position": "0", "active": "y"}).status_code == 302
    client.post("/kb/scripts", data={"csrf_token": page_token, "category": str(repair.id),
                                     "title": "old", "body": "停用的话术", "position": "0"})
    assert CallScript.get(title="old").active is False
    agent = client_as(app, "agent")
    desk = agent.get("/desk").text
    assert "您好，请问报修地址是？" in desk and "请问是整屋不热还是个别房间？" in desk
    assert "停用的话术" not in desk
    assert f'data-category="{child.id}"' in desk
    # a sub-category's option carries its path, so the parent's script shows too
    assert f'value="{child.id}" data-path="{repair.id} {child.id}"' in desk
    assert "kb_desk.js" in desk
    assert agent.get("/kb/scripts").status_code == 200
    assert client_as(app, "qa").get("/kb/scripts").status_code == 403


def test_edit_and_delete_a_script(app):
    repair = NoteCategory.get(code="repair")
    script = CallScript.create(category=repair, title="t", body="b")
    client = client_as(app, "admin")
    assert client.get(f"/kb/scripts/{script.id}/edit").status_code == 200
    assert client.post(f"/kb/scripts/{script.id}/edit", data={
        "csrf_token": token(client), "category": str(repair.id), "title": "报修",
        "body": "新话术", "position": "2", "active": "y"}).status_code == 302
    assert CallScript.get().body == "新话术"
    assert client.post(f"/kb/scripts/{script.id}/delete",
                       data={"csrf_token": token(client)}).status_code == 302
    assert CallScript.select().count() == 0


def test_notices_on_the_desk_by_role_and_period(app):
    now = utcnow()
    Notice.create(title="全员：今晚系统升级", active_from=now - datetime.timedelta(hours=1))
    Notice.create(title="坐席：新话术上线", audience_role="agent",
                  active_from=now - datetime.timedelta(hours=1))
    Notice.create(title="班长：排班调整", audience_role="supervisor",
                  active_from=now - datetime.timedelta(hours=1))
    Notice.create(title="已过期", active_from=now - datetime.timedelta(days=2),
                  active_until=now - datetime.timedelta(days=1))
    Notice.create(title="未开始", active_from=now + datetime.timedelta(days=1))
    agent_desk = client_as(app, "agent").get("/desk").text
    assert "全员：今晚系统升级" in agent_desk and "坐席：新话术上线" in agent_desk
    assert "班长：排班调整" not in agent_desk
    assert "已过期" not in agent_desk and "未开始" not in agent_desk
    supervisor_desk = client_as(app, "supervisor").get("/desk").text
    assert "班长：排班调整" in supervisor_desk and "坐席：新话术上线" not in supervisor_desk


def test_notice_times_are_local(app):
    client = client_as(app, "supervisor")
    response = client.post("/kb/notices", data={
        "csrf_token": token(client, "/kb/notices"), "title": "停水通知", "body": "明日停水",
        "active_from": "2026-11-22T10:00", "active_until": "2026-11-23T10:00",
        "audience_role": "agent"})
    assert response.status_code == 302
    notice = Notice.get()
    # Asia/Shanghai is UTC+8
    assert notice.active_from == datetime.datetime(2026, 11, 22, 2, 0)
    assert notice.active_until == datetime.datetime(2026, 11, 23, 2, 0)
    assert notice.created_by.username == "u_supervisor"
    assert "2026-11-22 10:00" in client.get("/kb/notices").text
    edit = client.get(f"/kb/notices/{notice.id}/edit").text
    assert 'value="2026-11-22T10:00"' in edit
    bad = client.post("/kb/notices", data={
        "csrf_token": token(client, "/kb/notices"), "title": "x",
        "active_from": "2026-11-22T10:00", "active_until": "2026-11-22T09:00"})
    assert bad.status_code == 400 and Notice.select().count() == 1
    assert client.post(f"/kb/notices/{notice.id}/delete",
                       data={"csrf_token": token(client)}).status_code == 302
    assert Notice.select().count() == 0


def test_agents_see_only_their_notices_in_the_list(app):
    Notice.create(title="给班长的", audience_role="supervisor")
    Notice.create(title="给坐席的", audience_role="agent")
    page = client_as(app, "agent").get("/kb/notices").text
    assert "给坐席的" in page and "给班长的" not in page and "create-notice" not in page


def failed_notification():
    (row,) = outbox.enqueue("dispatch", order_id=11, recipients=[{"email": "a@example.com"}])
    Notification.update(status="failed", attempts=5,
                        last_error="SMTP mail:25: ConnectionRefusedError").execute()
    return row


def test_failed_notifications_are_listed_and_retried(app):
    row = failed_notification()
    outbox.enqueue("closed", order_id=12, recipients=[{"phone": "+8613800000000"}])
    client = client_as(app, "supervisor")
    page = client.get("/admin/notifications?status=failed").text
    assert f'id="notification-{row.id}"' in page and "ConnectionRefusedError" in page
    assert 'id="count-failed"' in page and "+8613800000000" not in page
    assert "+8613800000000" in client.get("/admin/notifications").text
    response = client.post(f"/admin/notifications/{row.id}/retry",
                           data={"csrf_token": token(client, "/admin/notifications")})
    assert response.status_code == 302
    row = Notification.get_by_id(row.id)
    assert (row.status, row.attempts) == ("pending", 0)
    assert AuditLog.get(AuditLog.action == "notification.retry").object_id == str(row.id)
    # a pending one cannot be "retried"
    client.post(f"/admin/notifications/{row.id}/retry",
                data={"csrf_token": token(client, "/admin/notifications")})
    assert AuditLog.select().where(AuditLog.action == "notification.retry").count() == 1


@pytest.mark.parametrize("role", ["agent", "qa", "designer", "field"])
def test_notifications_page_is_for_admin_and_supervisor(app, role):
    row = failed_notification()
    client = client_as(app, role)
    assert client.get("/admin/notifications").status_code == 403
    assert client.post(f"/admin/notifications/{row.id}/retry",
                       data={"csrf_token": token(client)}).status_code == 403
    assert Notification.get_by_id(row.id).status == "failed"


def test_nav_links(app):
    assert "/admin/notifications" in client_as(app, "admin").get("/kb").text
    page = client_as(app, "agent").get("/kb").text
    assert 'href="/kb"' in page and "/admin/notifications" not in page
