"""Languages of the panel (Flask-Babel). The catalogs are in webui/translations/
(source strings in English); the compiled .mo files are committed next to their
.po files, because the appliance runs offline and an installed copy has no build
step. tests/test_web_i18n.py fails when a .mo is older than its .po in content.

The Chinese catalog is in translations/zh_Hans_CN/: Babel parses "zh_CN" as
Locale('zh', 'CN', script='Hans') and looks for a catalog under that full name
(a zh_CN/ directory would silently never be found). The panel's language codes
stay "zh_CN" and "en" everywhere else (session, User.language, config).

Which language a request gets: the one the user picked with the switch (session),
else the browser's Accept-Language, else the signed-in user's stored language, else
the appliance's default (locale.language).

Update the catalogs after changing strings:
    .venv/bin/pybabel extract -F babel.cfg -k _l -o webui/translations/messages.pot --no-location --sort-output .
    .venv/bin/pybabel update -i webui/translations/messages.pot -d webui/translations
    (translate webui/translations/zh_Hans_CN/LC_MESSAGES/messages.po) then
    .venv/bin/pybabel compile -d webui/translations
"""
from flask import current_app, request, session
from flask_babel import Babel, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

LANGUAGES = ("zh_CN", "en")
LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}
# Accept-Language tags to our catalogs: zh, zh-CN, zh-Hans... → zh_CN.
_MATCH = {"zh": "zh_CN", "zh-cn": "zh_CN", "zh-hans": "zh_CN", "zh-sg": "zh_CN",
          "zh-hans-cn": "zh_CN", "en": "en"}

ROLE_NAMES = {"admin": _l("Administrator"), "supervisor": _l("Supervisor"),
              "agent": _l("Agent"), "qa": _l("Quality assurance"),
              "designer": _l("IVR designer"), "field": _l("Field worker")}

babel = Babel()


def browser_language() -> str | None:
    for tag, _quality in request.accept_languages:
        tag = tag.lower()
        match = _MATCH.get(tag) or _MATCH.get(tag.split("-")[0])
        if match:
            return match
    return None


def select_locale() -> str:
    picked = session.get("lang")
    if picked in LANGUAGES:
        return picked
    browser = browser_language()
    if browser:
        return browser
    if current_user and current_user.is_authenticated \
            and current_user.record.language in LANGUAGES:
        return current_user.record.language
    return current_app.config.get("HOTLINE_DEFAULT_LANGUAGE", "zh_CN")


def current_language() -> str:
    """The request's language as the panel names it ("zh_CN" or "en")."""
    return "zh_CN" if get_locale().language == "zh" else "en"


def init_app(app) -> None:
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories="translations")
    app.jinja_env.globals["LANGUAGES"] = LANGUAGES
    app.jinja_env.globals["LANGUAGE_NAMES"] = LANGUAGE_NAMES
    app.jinja_env.globals["role_name"] = lambda role: ROLE_NAMES.get(role, role)

    @app.context_processor
    def _locale():
        return {"current_locale": current_language()}
