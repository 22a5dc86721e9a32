"""Signing in and out: hashed passwords (the CLI's hash), the audit log, throttling
by name and by address, idle sessions that expire, cookie flags."""
import datetime
import time

import pytest
from werkzeug.security import generate_password_hash

from db.models import AuditLog, User
from tests.webpanel import (
    PASSWORD,
    add_user,
    csrf_token,
    login,
    make_app,
    sign_in_session,
)
from webui.auth import SEEN_KEY, throttle


@pytest.fixture
def app(db):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


def actions():
    return [(a.action, a.actor, a.object_id) for a in AuditLog.select().order_by(AuditLog.id)]


def test_login_with_the_cli_hash_then_logout_are_audited(client):
    # the hash `hotline user add` writes (werkzeug's generate_password_hash)
    User.create(username="alice", role="agent", password_hash=generate_password_hash("s3cret-pw"))
    response = login(client, "alice", "s3cret-pw")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    assert User.get(username="alice").last_login_at is not None
    token = csrf_token(client.get("/").text)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302
    assert actions() == [("login", "alice", "alice"), ("logout", "alice", "alice")]
    assert AuditLog.get(action="login").remote_addr == "127.0.0.1"


def test_failed_logins_say_the_same_for_unknown_names_wrong_passwords_and_disabled(client):
    add_user("bob", "agent")
    add_user("carol", "agent", active=False)
    pages = []
    for name, password in (("bob", "wrong"), ("nobody", PASSWORD), ("carol", PASSWORD)):
        response = login(client, name, password, **{"Accept-Language": "en"})
        assert response.status_code == 401
        assert "Wrong user name or password." in response.text
        main = response.text.split("<main>")[1].replace(csrf_token(response.text), "")
        pages.append(main.replace(f'value="{name}"', 'value="NAME"'))
    assert pages[0] == pages[1] == pages[2]
    assert [a[0] for a in actions()] == ["login.failed"] * 3
    assert AuditLog.get(actor="carol").detail == {"reason": "disabled"}


def test_login_rejects_a_missing_csrf_token(client):
    add_user("bob", "agent")
    response = client.post("/login", data={"username": "bob", "password": PASSWORD})
    assert response.status_code == 400
    assert not AuditLog.select().where(AuditLog.action == "login").exists()


def test_five_failures_lock_the_name_even_with_the_right_password(client, monkeypatch):
    add_user("dave", "agent")
    for _ in range(throttle.MAX_FAILURES):
        assert login(client, "dave", "wrong").status_code == 401
    locked = login(client, "dave", PASSWORD, **{"Accept-Language": "en"})
    assert locked.status_code == 429 and "Too many failed sign-in attempts" in locked.text
    # an unknown name locks the same way: the lock tells nothing about who exists
    for _ in range(throttle.MAX_FAILURES):
        login(client, "ghost", "wrong")
    assert login(client, "ghost", "wrong").status_code == 429
    assert AuditLog.select().where(AuditLog.action == "login.locked").count() == 2
    # the lock lifts LOCK_MINUTES later
    later = datetime.datetime.now(datetime.UTC).replace(tzinfo=None) + datetime.timedelta(
        minutes=throttle.LOCK_MINUTES, seconds=1)
    monkeypatch.setattr(throttle, "now", lambda: later)
    assert login(client, "dave", PASSWORD).status_code == 302


def test_a_successful_login_clears_the_names_earlier_failures(client):
    add_user("erin", "agent")
    for _ in range(throttle.MAX_FAILURES - 1):
        login(client, "erin", "wrong")
    assert login(client, "erin", PASSWORD).status_code == 302
    fresh = client.application.test_client()
    assert login(fresh, "erin", "wrong").status_code == 401
    assert login(fresh, "erin", PASSWORD).status_code == 302


def test_one_address_trying_many_names_is_locked(client):
    limit = throttle.MAX_FAILURES * throttle.IP_FACTOR
    add_user("frank", "agent")
    for i in range(limit):
        assert login(client, f"user{i}", "wrong").status_code == 401
    assert login(client, "frank", PASSWORD).status_code == 429
    # another address is not affected
    other = client.application.test_client()
    token = csrf_token(other.get("/login").text)
    response = other.post("/login", data={"username": "frank", "password": PASSWORD,
                                          "csrf_token": token},
                          environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert response.status_code == 302


def test_an_idle_session_expires(app, client):
    user = add_user("gina", "agent")
    sign_in_session(client, user)
    assert client.get("/").status_code == 200
    idle = app.permanent_session_lifetime.total_seconds() + 1
    with client.session_transaction() as session:
        session[SEEN_KEY] = time.time() - idle
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert client.get("/").status_code == 302       # the session was cleared
    assert ("session.expired", "gina", "gina") in actions()


def test_an_old_session_cookie_is_not_accepted(app, client, monkeypatch):
    """The signed cookie carries its own time: past the lifetime it is refused even
    if the idle mark inside were forged."""
    sign_in_session(client, add_user("gina2", "agent"))
    later = time.time() + app.permanent_session_lifetime.total_seconds() + 1
    monkeypatch.setattr(time, "time", lambda: later)
    with client.session_transaction() as session:
        assert "_user_id" not in session
    assert client.get("/").status_code == 302


def test_activity_keeps_a_session_alive(app, client, monkeypatch):
    sign_in_session(client, add_user("hank", "agent"))
    half = app.permanent_session_lifetime.total_seconds() * 0.6
    start = time.time()
    for step in (1, 2, 3):
        monkeypatch.setattr(time, "time", lambda step=step: start + step * half)
        assert client.get("/").status_code == 200


def test_session_minutes_come_from_the_config(db):
    app = make_app(hotline={"web": {"session_minutes": 15}})
    assert app.permanent_session_lifetime == datetime.timedelta(minutes=15)


def test_session_cookie_flags(client):
    add_user("ivy", "agent")
    response = login(client, "ivy")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("hotline_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie
    assert "Secure" not in cookie          # plain HTTP on localhost by default


def test_secure_cookies_behind_https(db):
    add_user("ivy", "agent")
    client = make_app(hotline={"web": {"secure_cookies": True}}).test_client()
    cookie = login(client, "ivy").headers["Set-Cookie"]
    assert "; Secure" in cookie


def test_login_starts_a_new_session(client):
    add_user("jack", "agent")
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    login(client, "jack")
    with client.session_transaction() as session:
        assert "planted" not in session and SEEN_KEY in session


def test_disabling_or_resetting_ends_existing_sessions(client):
    user = add_user("kim", "agent")
    sign_in_session(client, user)
    assert client.get("/").status_code == 200
    User.update(password_hash=generate_password_hash("another one")).where(
        User.id == user.id).execute()
    assert client.get("/").status_code == 302
    user = User.get_by_id(user.id)
    sign_in_session(client, user)
    assert client.get("/").status_code == 200
    User.update(active=False).where(User.id == user.id).execute()
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("target, expected", [
    ("/admin/users", "/admin/users"), ("//evil.example/x", "/"),
    ("https://evil.example/", "/"), ("/\\evil.example", "/")])
def test_next_only_goes_to_this_panel(client, target, expected):
    add_user("lee", "admin")
    token = csrf_token(client.get("/login").text)
    response = client.post("/login", data={"username": "lee", "password": PASSWORD,
                                           "csrf_token": token, "next": target})
    assert response.headers["Location"] == expected
