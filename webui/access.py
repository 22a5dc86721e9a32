"""Who may open which route: the one place every route's rule is declared and read.

A view is either public (its endpoint is in a blueprint module's PUBLIC_ENDPOINTS,
collected by the app factory) or carries the roles ``@role_required`` gave it as
``view.hotline_roles``. Everything else is refused: ``enforce`` runs before every
request and answers 403 for an endpoint with no rule, so a route added without one
is closed, and tests/test_routes.py (which reads ``rule_of``) fails on it.

Anonymous: a page redirects to the login form; an API route (blueprint ``api`` or a
path under /api/) gets 401. A signed-in user without the role gets 403.
"""
import functools

from flask import abort, current_app, redirect, request, url_for
from flask_login import current_user

from db.models import ROLES

ALL_ROLES = frozenset(ROLES)
ROLES_ATTR = "hotline_roles"


def role_required(*roles):
    """Declare (and check) the roles that may open a view. Put it *below* the route
    decorator so the registered view carries the rule."""
    unknown = set(roles) - ALL_ROLES
    if not roles or unknown:
        raise ValueError(f"role_required needs roles from {sorted(ALL_ROLES)}, "
                         f"got {sorted(roles)}")
    allowed = frozenset(roles)

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            refusal = check(allowed)
            if refusal is not None:
                return refusal
            return view(*args, **kwargs)

        setattr(wrapper, ROLES_ATTR, allowed)
        return wrapper

    return decorate


def is_api_request() -> bool:
    return request.blueprint == "api" or request.path.startswith("/api/")


def check(allowed: frozenset):
    """None when the current user may go on; else the response to send."""
    if not current_user.is_authenticated:
        if is_api_request():
            abort(401)
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if current_user.role not in allowed:
        abort(403)
    return None


def public_endpoints(app) -> frozenset:
    return app.extensions["hotline_public_endpoints"]


def rule_of(app, endpoint: str):
    """"public", a frozenset of roles, or None when the route declares nothing."""
    if endpoint in public_endpoints(app):
        return "public"
    view = app.view_functions.get(endpoint)
    return getattr(view, ROLES_ATTR, None)


def enforce():
    """before_request: deny by default."""
    endpoint = request.endpoint
    if endpoint is None:  # no route matched: let Flask answer 404/405
        return None
    rule = rule_of(current_app, endpoint)
    if rule == "public":
        return None
    if rule is None:
        current_app.logger.error("route %s declares no access rule; refused", endpoint)
        abort(403)
    return check(rule)
