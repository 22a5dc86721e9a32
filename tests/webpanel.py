"""Helpers for the web-panel tests: an app over the `db` fixture's database, users
with a known password, and signing in through the real form or straight into the
session."""
import re
import time

from werkzeug.security import generate_password_hash

from db.models import User
from esl_apps.config import Config
from webui import create_app
from webui.auth import SEEN_KEY, WebUser

PASSWORD = "correct horse battery"
CDR_PASSWORD = "p" * 16
_HASHES = {}


def make_app(csrf=True, **settings):
    config = Config.model_validate({"freeswitch": {"cdr_password": CDR_PASSWORD},
                                    **settings.pop("hotline", {})})
    return create_app({"SECRET_KEY": "test-secret", "HOTLINE_CONFIG": config,
                       "TESTING": True, "WTF_CSRF_ENABLED": csrf, **settings})


def add_user(username, role, password=PASSWORD, **fields):
    if password not in _HASHES:  # scrypt is slow on purpose; hash each password once
        _HASHES[password] = generate_password_hash(password)
    return User.create(username=username, role=role, password_hash=_HASHES[password],
                       display_name=fields.pop("display_name", username), **fields)


def sign_in_session(client, user):
    """Put a signed-in session in the client's cookie, as a login would."""
    with client.session_transaction() as session:
        session["_user_id"] = WebUser(user).get_id()
        session["_fresh"] = True
        session[SEEN_KEY] = time.time()
        session.permanent = True


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def login(client, username, password=PASSWORD, **headers):
    token = csrf_token(client.get("/login", headers=headers).text)
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token}, headers=headers)
