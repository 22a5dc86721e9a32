"""The Flask panel: an app factory with one blueprint per area (flaskr style).

Areas: ``auth`` (sign-in, language), ``admin`` (users and roles; more admin pages
come here), and later ``desk`` (the agent desk), ``crm`` (customers) and ``api``
(JSON for the desk; /api/cdr is mod_xml_cdr's machine-to-machine route). A new
area is a package webui/<area>/ with ``bp`` and ``PUBLIC_ENDPOINTS`` (usually
empty), listed in AREAS below; every one of its views carries
``@role_required(...)`` (webui.access), and tests/test_routes.py tries each route
anonymous, with a wrong role and with a right one.

The caller (a daemon's composition root or a test) has already bound the
database proxy; the factory only opens and closes a connection per request.
"""
import datetime
import importlib

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFProtect

from db.models import database

# Blueprint modules, in registration order. Each has `bp` and `PUBLIC_ENDPOINTS`.
AREAS = ("webui.health", "webui.cdr", "webui.auth", "webui.admin", "webui.desk", "webui.crm",
         "webui.workorders",
         "webui.kb")
# Open to anyone besides the areas' own PUBLIC_ENDPOINTS: the vendored scripts and CSS.
PUBLIC_ENDPOINTS = {"static"}

CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; "
                           "img-src 'self' data:; object-src 'none'; "
                           "frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}

csrf = CSRFProtect()


def create_app(settings: dict) -> Flask:
    if not settings.get("SECRET_KEY"):
        raise ValueError("the web panel needs a secret key (web.secret_key; run 'hotline init')")
    app = Flask(__name__)
    config = settings.get("HOTLINE_CONFIG")
    minutes = config.web.session_minutes if config is not None else 480
    app.config.update(
        SESSION_COOKIE_NAME="hotline_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(config is not None and config.web.secure_cookies),
        REMEMBER_COOKIE_SECURE=bool(config is not None and config.web.secure_cookies),
        PERMANENT_SESSION_LIFETIME=datetime.timedelta(minutes=minutes),
        # no "remember me": a session ends with the browser or after session_minutes idle
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        # the CSRF token lives as long as the session that holds it
        WTF_CSRF_TIME_LIMIT=None,
        HOTLINE_DEFAULT_LANGUAGE=config.locale.language if config is not None else "zh_CN",
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
    )
    app.config.update(settings)
    if isinstance(app.config["PERMANENT_SESSION_LIFETIME"], int | float):
        app.config["PERMANENT_SESSION_LIFETIME"] = datetime.timedelta(
            seconds=app.config["PERMANENT_SESSION_LIFETIME"])

    @app.before_request
    def _open_db():
        database.connect(reuse_if_open=True)

    @app.teardown_request
    def _close_db(_exc):
        if not database.is_closed():
            database.close()

    from webui import access, i18n
    from webui.auth import expire_idle_session, login_manager

    login_manager.init_app(app)
    i18n.init_app(app)
    csrf.init_app(app)

    public = set(PUBLIC_ENDPOINTS)
    for name in AREAS:
        module = importlib.import_module(name)
        app.register_blueprint(module.bp)
        public |= set(module.PUBLIC_ENDPOINTS)
    app.extensions["hotline_public_endpoints"] = frozenset(public)

    # mod_xml_cdr posts with basic auth and no session: no CSRF token to carry.
    from webui import cdr
    csrf.exempt(cdr.receive)

    app.before_request(expire_idle_session)
    app.before_request(access.enforce)

    @app.after_request
    def _security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.endpoint != "static":  # pages show callers' data: keep them out of caches
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    for code in (400, 401, 403, 404, 405, 429):
        app.register_error_handler(code, _error_page)
    return app


def _error_page(error):
    from flask_wtf.csrf import CSRFError

    from webui.access import is_api_request
    if is_api_request():
        return {"error": error.name, "status": error.code}, error.code
    return render_template("error.html", error=error,
                           csrf=isinstance(error, CSRFError)), error.code
