"""Every web route, taken from the app's URL map so no new one can slip past.

Each route's rule is read from the one place it is declared (webui.access.rule_of:
the blueprint modules' PUBLIC_ENDPOINTS, else the roles @role_required put on the
view). Every route is then tried three ways: anonymous, signed in with each role
it does not allow, and with each role it allows; and every route that accepts a
form is refused without a CSRF token."""
import pytest

from db.models import ROLES
from tests.webpanel import CDR_PASSWORD, add_user, make_app, sign_in_session
from webui import cdr
from webui.access import ALL_ROLES, rule_of

# Public routes that still check a credential of their own (machine-to-machine).
SELF_AUTHENTICATED = cdr.PUBLIC_ENDPOINTS
# Routes that take a POST without a CSRF token, each for a stated reason.
CSRF_EXEMPT = {"cdr.receive"}  # mod_xml_cdr posts with basic auth and no session
# Values for the URL arguments of the rules; "user_id" is filled in per test.
URL_ARGUMENTS = {"filename": "hotline.css", "flow": "no_such_flow", "recording_id": 1,
                 "did_id": 1, "schedule_id": 1, "holiday_id": 1,
                 "customer_id": 1, "call_id": 1, "job_id": "none",
                 "agent_id": 1, "queue_id": 1, "tier_id": 1,
                 "order_id": 1, "attachment_id": 1, "extension_id": 1, "task_id": 1,
                 "article_id": 1, "script_id": 1, "notice_id": 1, "notification_id": 1,
                 "category_id": 1}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def _routes():
    app = make_app()
    return [(rule.endpoint, rule.rule, method) for rule in app.url_map.iter_rules()
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]


ROUTES = _routes()
ROUTE_IDS = [f"{method} {rule}" for _endpoint, rule, method in ROUTES]


def _url(app, endpoint, **known):
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    values = {**URL_ARGUMENTS, **known}
    missing = rule.arguments - set(values)
    assert not missing, (f"{rule.rule}: add a test value for {sorted(missing)} "
                         "to URL_ARGUMENTS in tests/test_routes.py")
    with app.test_request_context():
        from flask import url_for
        return url_for(endpoint, **{k: values[k] for k in rule.arguments})


@pytest.fixture
def target(db):
    """Someone for routes that act on a user (/admin/users/<id>/...)."""
    return add_user("target", "agent")


def _client_as(app, role):
    client = app.test_client()
    if role is not None:
        sign_in_session(client, add_user(f"as_{role}", role))
    return client


def test_every_route_declares_who_may_open_it():
    app = make_app()
    undeclared = sorted({e for e, _r, _m in ROUTES if rule_of(app, e) is None})
    assert not undeclared, f"routes without an access rule: {undeclared}"
    for endpoint, _rule, _method in ROUTES:
        rule = rule_of(app, endpoint)
        assert rule == "public" or (rule and rule <= ALL_ROLES), endpoint


def test_the_public_routes_are_the_expected_ones():
    app = make_app()
    public = {e for e, _r, _m in ROUTES if rule_of(app, e) == "public"}
    assert public == {"health.healthz", "cdr.receive", "static", "auth.login",
                      "auth.language"}


def test_an_undeclared_route_is_refused(db):
    app = make_app()
    app.add_url_rule("/undeclared", "undeclared", lambda: "open")
    client = _client_as(app, "admin")
    assert client.get("/undeclared").status_code == 403


@pytest.mark.parametrize("endpoint, rule, method", ROUTES, ids=ROUTE_IDS)
def test_anonymous_access(db, target, endpoint, rule, method):
    app = make_app(csrf=False)
    response = app.test_client().open(_url(app, endpoint, user_id=target.id), method=method)
    access = rule_of(app, endpoint)
    if endpoint in SELF_AUTHENTICATED:
        assert response.status_code == 401
    elif access == "public":
        assert response.status_code not in (401, 403) and response.status_code < 500
    elif rule.startswith("/api/"):
        assert response.status_code == 401
    else:
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("endpoint, rule, method", ROUTES, ids=ROUTE_IDS)
def test_wrong_role_is_refused(db, target, endpoint, rule, method):
    app = make_app(csrf=False)
    access = rule_of(app, endpoint)
    if access == "public":
        return  # nothing to refuse: any role (or none) may open it
    wrong = [role for role in ROLES if role not in access]
    if not wrong:
        assert access == ALL_ROLES  # open to every signed-in user, by declaration
    for role in wrong:
        client = _client_as(app, role)
        response = client.open(_url(app, endpoint, user_id=target.id), method=method)
        assert response.status_code == 403, (role, response.status_code)


@pytest.mark.parametrize("endpoint, rule, method", ROUTES, ids=ROUTE_IDS)
def test_right_role_gets_through(db, target, endpoint, rule, method):
    app = make_app(csrf=False)
    access = rule_of(app, endpoint)
    roles = ROLES if access == "public" else [r for r in ROLES if r in access]
    for role in roles:
        client = _client_as(app, role)
        response = client.open(_url(app, endpoint, user_id=target.id), method=method)
        if endpoint in SELF_AUTHENTICATED:
            assert response.status_code == 401  # a login is not its credential
        else:
            assert response.status_code not in (401, 403), (role, response.status_code)
            assert response.status_code < 500, (role, response.status_code)


@pytest.mark.parametrize("endpoint, rule, method",
                         [r for r in ROUTES if r[2] not in SAFE_METHODS],
                         ids=[i for r, i in zip(ROUTES, ROUTE_IDS) if r[2] not in SAFE_METHODS])
def test_a_form_without_csrf_token_is_refused(db, target, endpoint, rule, method):
    app = make_app(csrf=True)
    access = rule_of(app, endpoint)
    role = "admin" if access == "public" else min(access)
    client = _client_as(app, role)
    response = client.open(_url(app, endpoint, user_id=target.id), method=method,
                           data={"role": "qa", "lang": "en", "username": "x"},
                           headers={"Accept-Language": "en"})
    if endpoint in CSRF_EXEMPT:
        assert response.status_code == 401  # its own check answers, not CSRF's
    else:
        assert response.status_code == 400
        assert b"The form had expired" in response.data  # the CSRF error page


def test_cdr_is_exempt_from_csrf_and_still_needs_its_password(db):
    import base64
    from pathlib import Path
    posted = (Path(__file__).parent / "fixtures" / "cdr" / "linetest.xml").read_bytes()
    client = make_app(csrf=True).test_client()
    auth = "Basic " + base64.b64encode(f"hotline:{CDR_PASSWORD}".encode()).decode()
    response = client.post("/api/cdr", data=posted, headers={"Authorization": auth},
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200 and response.data == b"ok\n"
    assert client.post("/api/cdr", data=posted,
                       content_type="application/x-www-form-urlencoded").status_code == 401
