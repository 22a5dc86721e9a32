"""Admin → Users and roles: list, create (a generated password shown once), change
role, disable and enable, reset password; admin only, CSRF-protected, audited."""
import re

import pytest
from werkzeug.security import check_password_hash

from db.models import AuditLog, User
from tests.webpanel import add_user, csrf_token, login, make_app, sign_in_session


@pytest.fixture
def admin(db):
    return add_user("root", "admin", display_name="Root")


@pytest.fixture
def client(admin):
    client = make_app().test_client()
    sign_in_session(client, admin)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def token(client):
    return csrf_token(client.get("/admin/users").text)


def shown_password(html):
    match = re.search(r'<code class="password" id="shown-password">([^<]+)</code>', html)
    assert match, "no password shown"
    return match.group(1)


def last_audit():
    return AuditLog.select().order_by(AuditLog.id.desc()).get()


def test_create_a_user_shows_the_password_once(client, admin):
    response = client.post("/admin/users", data={
        "csrf_token": token(client), "username": "wang.fang", "display_name": "王芳",
        "role": "supervisor"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    password = shown_password(response.text)
    user = User.get(username="wang.fang")
    assert user.role == "supervisor" and user.display_name == "王芳" and user.active
    assert check_password_hash(user.password_hash, password)
    assert password not in client.get("/admin/users").text           # once
    with client.session_transaction() as session:
        assert password not in repr(dict(session))                     # not in the cookie
    entry = last_audit()
    assert (entry.action, entry.actor, entry.object_id) == ("user.create", "root", str(user.id))
    assert entry.detail == {"username": "wang.fang", "role": "supervisor"}
    # the new user can sign in with it
    assert login(make_app().test_client(), "wang.fang", password).status_code == 302


def test_create_refuses_a_duplicate_and_a_bad_name(client):
    add_user("taken", "agent")
    response = client.post("/admin/users", data={
        "csrf_token": token(client), "username": "taken", "role": "agent"})
    assert response.status_code == 409 and "already exists" in response.text
    response = client.post("/admin/users", data={
        "csrf_token": token(client), "username": "two words", "role": "agent"})
    assert response.status_code == 400
    response = client.post("/admin/users", data={
        "csrf_token": token(client), "username": "x", "role": "root"})
    assert response.status_code == 400
    assert User.select().count() == 2
    assert not AuditLog.select().where(AuditLog.action == "user.create").exists()


def test_change_role(client):
    user = add_user("zhao", "agent")
    response = client.post(f"/admin/users/{user.id}/role",
                           data={"csrf_token": token(client), "role": "qa"})
    assert response.status_code == 302
    assert User.get_by_id(user.id).role == "qa"
    assert last_audit().detail == {"username": "zhao", "from": "agent", "to": "qa"}


def test_disable_and_enable(client):
    user = add_user("qian", "agent")
    assert client.post(f"/admin/users/{user.id}/disable",
                       data={"csrf_token": token(client)}).status_code == 302
    assert not User.get_by_id(user.id).active
    assert last_audit().action == "user.disable"
    assert login(make_app().test_client(), "qian").status_code == 401
    assert client.post(f"/admin/users/{user.id}/enable",
                       data={"csrf_token": token(client)}).status_code == 302
    assert User.get_by_id(user.id).active and last_audit().action == "user.enable"


def test_reset_password(client):
    user = add_user("sun", "agent")
    before = User.get_by_id(user.id).password_hash
    response = client.post(f"/admin/users/{user.id}/password",
                           data={"csrf_token": token(client)})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    password = shown_password(response.text)
    after = User.get_by_id(user.id).password_hash
    assert after != before and check_password_hash(after, password)
    assert last_audit().action == "user.password_reset"


def test_an_admin_cannot_lock_themselves_out(client, admin):
    for path, data in (("role", {"role": "agent"}), ("disable", {})):
        response = client.post(f"/admin/users/{admin.id}/{path}",
                               data={"csrf_token": token(client), **data})
        assert response.status_code == 302
    admin = User.get_by_id(admin.id)
    assert admin.role == "admin" and admin.active


def test_unknown_user_is_404(client):
    assert client.post("/admin/users/999999/disable",
                       data={"csrf_token": token(client)}).status_code == 404


def test_every_form_on_the_page_carries_a_csrf_token(client):
    add_user("li", "agent")
    html = client.get("/admin/users").text
    forms = re.findall(r"<form\b.*?</form>", html, re.DOTALL)
    assert len(forms) >= 5
    for form in forms:
        assert 'name="csrf_token"' in form, form


def test_names_from_the_database_are_escaped(client):
    add_user("evil", "agent", display_name='<script>alert(1)</script>"><img src=x>')
    html = client.get("/admin/users").text
    assert "<script>alert(1)</script>" not in html and "<img src=x>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&gt;&lt;img src=x&gt;" in html


def test_the_signed_in_name_is_escaped_in_every_page(db):
    user = add_user("mallory", "agent", display_name="<script>alert(1)</script>")
    client = make_app().test_client()
    sign_in_session(client, user)
    html = client.get("/").text
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
