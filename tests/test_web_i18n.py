"""Every page in zh_CN and en: the browser's Accept-Language picks the default, the
switch overrides it (kept in the session and on the user); the committed .mo files
match their .po files."""
import io
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from db.models import User
from tests.webpanel import add_user, csrf_token, login, make_app, sign_in_session
from webui.i18n import LANGUAGES

TRANSLATIONS = Path(__file__).parent.parent / "webui" / "translations"
CATALOGS = {"zh_CN": TRANSLATIONS / "zh_Hans_CN", "en": TRANSLATIONS / "en"}


@pytest.fixture
def client(db):
    return make_app().test_client()


@pytest.mark.parametrize("header, expected, absent", [
    ("en-US,en;q=0.9", "Sign in", "登录"),
    ("zh-CN,zh;q=0.9,en;q=0.8", "登录", "Sign in"),
    ("zh-TW", "登录", "Sign in"),
    ("fr-FR, en;q=0.5", "Sign in", "登录"),
])
def test_the_browser_language_picks_the_default(client, header, expected, absent):
    html = client.get("/login", headers={"Accept-Language": header}).text
    assert f"<h1>{expected}</h1>" in html and f"<h1>{absent}</h1>" not in html


def test_without_a_browser_language_the_appliance_default_applies(db):
    assert "<h1>登录</h1>" in make_app().test_client().get("/login").text
    english = make_app(hotline={"locale": {"language": "en"}}).test_client()
    assert "<h1>Sign in</h1>" in english.get("/login").text


def test_the_switch_overrides_the_browser_and_survives_sign_in(client):
    add_user("amy", "admin")
    zh = {"Accept-Language": "zh-CN"}
    page = client.get("/login", headers=zh).text
    response = client.post("/language", headers=zh, data={
        "lang": "en", "next": "/login", "csrf_token": csrf_token(page)})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "<h1>Sign in</h1>" in client.get("/login", headers=zh).text
    login(client, "amy", **zh)
    home = client.get("/", headers=zh).text
    assert "Users and roles" in home and "用户与角色" not in home
    # and back to Chinese, stored on the user as well
    client.post("/language", headers=zh, data={"lang": "zh_CN", "next": "/admin/users",
                                              "csrf_token": csrf_token(home)})
    assert "<h1>用户与角色</h1>" in client.get("/admin/users").text
    assert User.get(username="amy").language == "zh_CN"


def test_the_switch_needs_a_known_language_and_a_token(client):
    page = client.get("/login").text
    assert client.post("/language", data={"lang": "en"}).status_code == 400
    assert client.post("/language", data={"lang": "de",
                                          "csrf_token": csrf_token(page)}).status_code == 400


def test_the_switch_does_not_redirect_elsewhere(client):
    page = client.get("/login").text
    response = client.post("/language", data={"lang": "en", "next": "//evil.example/",
                                              "csrf_token": csrf_token(page)})
    assert response.headers["Location"] == "/"


def test_a_signed_in_users_language_is_used_when_the_browser_gives_none(db):
    user = add_user("bo", "agent", language="en")
    client = make_app().test_client()
    sign_in_session(client, user)
    assert "Sign out" in client.get("/").text


@pytest.mark.parametrize("lang, text", [("zh_CN", "用户与角色"), ("en", "Users and roles")])
def test_admin_page_in_both_languages(db, lang, text):
    client = make_app().test_client()
    sign_in_session(client, add_user("admin", "admin"))
    with client.session_transaction() as session:
        session["lang"] = lang
    html = client.get("/admin/users").text
    assert f"<h1>{text}</h1>" in html
    assert f'<html lang="{lang.replace("_", "-")}">' in html


def _po(lang):
    with open(CATALOGS[lang] / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f)


def test_every_string_has_a_chinese_translation():
    with open(TRANSLATIONS / "messages.pot", "rb") as f:
        pot = read_po(f)
    zh = _po("zh_CN")
    ids = {m.id for m in pot if m.id}
    assert ids, "empty messages.pot"
    missing = sorted(i for i in ids if not (zh.get(i) and zh.get(i).string))
    assert not missing, f"untranslated in zh_Hans_CN: {missing} (pybabel update, then translate)"
    assert not [m.id for m in zh if m.id and m.fuzzy], "fuzzy entries are not compiled"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_committed_mo_matches_its_po(lang):
    po = _po(lang)
    with open(CATALOGS[lang] / "LC_MESSAGES" / "messages.mo", "rb") as f:
        mo = read_mo(io.BytesIO(f.read()))
    wanted = {m.id: m.string for m in po if m.id and m.string and not m.fuzzy}
    compiled = {m.id: m.string for m in mo if m.id}
    assert compiled == wanted, "run: .venv/bin/pybabel compile -d webui/translations"


def test_the_template_strings_are_in_the_catalog():
    """Every _('...') in the templates and views was extracted (pybabel extract)."""
    from babel.messages.extract import extract_from_dir
    root = Path(__file__).parent.parent
    found = {message for _f, _l, message, _c, _ctx in extract_from_dir(
        str(root / "webui"),
        method_map=[("**.py", "python"), ("templates/**.html", "jinja2")],
        keywords={"_": None, "gettext": None, "_l": None, "lazy_gettext": None})}
    with open(TRANSLATIONS / "messages.pot", "rb") as f:
        pot = {m.id for m in read_po(f) if m.id}
    assert found <= pot, f"not extracted yet: {sorted(found - pot)}"
