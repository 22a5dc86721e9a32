"""Sign-in, sign-out, the language switch and the landing page.

Passwords are checked with werkzeug's check_password_hash: the hash
``hotline user add`` writes (werkzeug's generate_password_hash, scrypt), and the
admin pages write the same. Every login, logout and failed login is in the audit
log. Messages never say whether a user name exists.
"""
import hashlib
import time

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import InputRequired, Length

from db.models import User, utcnow
from webui import audit
from webui.access import ALL_ROLES, role_required
from webui.auth import throttle
from webui.i18n import LANGUAGES

bp = Blueprint("auth", __name__)

# The login form, the language switch and the stylesheets are open to anyone.
PUBLIC_ENDPOINTS = {"auth.login", "auth.language"}

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.session_protection = "basic"

SEEN_KEY = "_seen"          # epoch seconds of the signed-in user's last request
LANG_KEY = "lang"           # the language the user picked (kept across sign-in/out)
# A hash to check against when the name is unknown, so both cases take as long.
_DUMMY_HASH = generate_password_hash("no such user")


class WebUser(UserMixin):
    """The signed-in user. The session holds "<id>.<fingerprint of the password
    hash>", so resetting a password ends that user's other sessions."""

    def __init__(self, record: User):
        self.record = record
        self.role = record.role
        self.username = record.username

    def get_id(self):
        return f"{self.record.id}.{fingerprint(self.record)}"

    @property
    def is_active(self):
        return self.record.active


def fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


@login_manager.user_loader
def load_user(session_id: str):
    user_id, _sep, mark = session_id.partition(".")
    if not user_id.isdigit():
        return None
    user = User.get_or_none(User.id == int(user_id))
    if user is None or not user.active or fingerprint(user) != mark:
        return None
    return WebUser(user)


@login_manager.unauthorized_handler
def _unauthorized():
    abort(401)


def session_seconds() -> int:
    return int(current_app.permanent_session_lifetime.total_seconds())


def expire_idle_session():
    """before_request: sign out a user idle longer than web.session_minutes."""
    if not current_user.is_authenticated:
        return
    now = time.time()
    seen = session.get(SEEN_KEY)
    if seen is None or now - seen > session_seconds():
        user = current_user.record
        _end_session()
        audit.record("session.expired", user=user, object_type="user",
                     object_id=throttle.name_key(user.username))
        flash(_("Your session has expired. Please sign in again."), "info")
        return  # the access check that follows sends them to the login form
    session[SEEN_KEY] = now
    return


def _end_session():
    lang = session.get(LANG_KEY)
    logout_user()
    session.clear()
    if lang:
        session[LANG_KEY] = lang


def safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") \
            and "\\" not in target:
        return target
    return url_for("auth.index")


class LoginForm(FlaskForm):
    username = StringField(validators=[InputRequired(), Length(max=64)])
    password = PasswordField(validators=[InputRequired(), Length(max=256)])
    next = HiddenField()


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if current_user.is_authenticated and request.method == "GET":
        return redirect(safe_next(form.next.data))
    status = 200
    if form.validate_on_submit():
        name = form.username.data
        key = throttle.name_key(name)
        addr = audit.client_addr()
        if throttle.locked(name, addr):
            audit.record("login.locked", actor=name, object_type="user", object_id=key)
            flash(_("Too many failed sign-in attempts. Try again in a few minutes."),
                  "error")
            status = 429
        else:
            user = User.get_or_none(User.username == name)
            good = check_password_hash(user.password_hash if user else _DUMMY_HASH,
                                       form.password.data)
            if user is not None and good and user.active:
                _end_session()           # a fresh session: no fixation
                session.permanent = True
                login_user(WebUser(user))
                session[SEEN_KEY] = time.time()
                User.update(last_login_at=utcnow()).where(User.id == user.id).execute()
                audit.record("login", user=user, object_type="user", object_id=key)
                return redirect(safe_next(form.next.data))
            audit.record(throttle.FAILED, actor=name, user=None, object_type="user",
                         object_id=key,
                         detail={"reason": "disabled" if user is not None and good
                                 else "bad credentials"})
            flash(_("Wrong user name or password."), "error")
            status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


class LogoutForm(FlaskForm):
    pass


@bp.post("/logout")
@role_required(*ALL_ROLES)
def logout():
    if LogoutForm().validate_on_submit():
        user = current_user.record
        _end_session()
        audit.record("logout", user=user, object_type="user",
                     object_id=throttle.name_key(user.username))
    return redirect(url_for("auth.login"))


@bp.post("/language")
def language():
    """Switch the language: kept in the session (and on the user, when signed in)."""
    lang = request.form.get("lang", "")
    if lang not in LANGUAGES:
        abort(400)
    session[LANG_KEY] = lang
    if current_user.is_authenticated:
        User.update(language=lang).where(User.id == current_user.record.id).execute()
    return redirect(safe_next(request.form.get("next")))


@bp.get("/")
@role_required(*ALL_ROLES)
def index():
    """The landing page, until the agent desk takes this place."""
    return render_template("auth/index.html")
