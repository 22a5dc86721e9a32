"""The Flask panel: an app factory with one blueprint per area (flaskr style).

The caller (a daemon's composition root or a test) has already bound the
database proxy; the factory only opens and closes a connection per request.
"""
from flask import Flask

from db.models import database


def create_app(settings: dict) -> Flask:
    if not settings.get("SECRET_KEY"):
        raise ValueError("the web panel needs a secret key (web.secret_key; run 'hotline init')")
    app = Flask(__name__)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    app.config.update(settings)

    @app.before_request
    def _open_db():
        database.connect(reuse_if_open=True)

    @app.teardown_request
    def _close_db(_exc):
        if not database.is_closed():
            database.close()

    from webui import cdr, health
    app.register_blueprint(health.bp)
    app.register_blueprint(cdr.bp)
    return app
