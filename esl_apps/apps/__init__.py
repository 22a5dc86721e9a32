"""Call apps, looked up by the channel variable `hotline_app`.

An app is built as App(session, log) and driven by .run(); the session is a
greenswitch OutboundSession, log a CallLogger carrying the call UUID."""


def builtin_apps() -> dict:
    from esl_apps.apps.linetest import LineTestApp
    return {"linetest": LineTestApp}
