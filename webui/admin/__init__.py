"""Admin area. Users and roles: list, create (a generated password shown once),
change role, disable/enable, reset password. Admin only, every form CSRF-protected,
every change in the audit log.

A generated password is shown in the response to the POST that made it (never in
a flash message: those live in the session cookie) with Cache-Control: no-store.
An admin cannot disable or demote themselves, so the panel always keeps an admin.
"""
import secrets

import peewee
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.security import generate_password_hash
from wtforms import SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional, Regexp

from db.models import ROLES, User, database
from webui import audit
from webui.access import role_required
from webui.i18n import ROLE_NAMES

bp = Blueprint("admin", __name__, url_prefix="/admin")

PUBLIC_ENDPOINTS: set[str] = set()
USERNAME_RE = r"^[^\s\x00-\x1f\x7f]{1,64}$"


def generate_password() -> str:
    return secrets.token_urlsafe(12)   # as `hotline user add` does


def _role_choices():
    return [(r, ROLE_NAMES[r]) for r in ROLES]


class CreateUserForm(FlaskForm):
    username = StringField(_l("User name"), validators=[
        InputRequired(), Length(max=64),
        Regexp(USERNAME_RE, message=_l("No spaces or control characters."))])
    display_name = StringField(_l("Display name"), validators=[Optional(), Length(max=128)])
    role = SelectField(_l("Role"), choices=_role_choices, validators=[InputRequired()])


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=_role_choices, validators=[InputRequired()])


class ActionForm(FlaskForm):
    """A form with nothing but its CSRF token (disable, enable, reset password)."""


def _page(create=None, shown=None, status=200):
    users = list(User.select().order_by(User.username))
    response = render_template("admin/users.html", users=users,
                               create=create or CreateUserForm(formdata=None),
                               role_choices=_role_choices(),
                               shown=shown)
    return response, status, {"Cache-Control": "no-store"}


def _user_or_404(user_id: int) -> User:
    user = User.get_or_none(User.id == user_id)
    if user is None:
        abort(404)
    return user


@bp.get("/users")
@role_required("admin")
def users():
    return _page()


@bp.post("/users")
@role_required("admin")
def create_user():
    form = CreateUserForm()
    if not form.validate_on_submit():
        return _page(create=form, status=400)
    username = form.username.data
    password = generate_password()
    try:
        with database.atomic():
            user = User.create(username=username, role=form.role.data,
                               display_name=form.display_name.data or username,
                               password_hash=generate_password_hash(password))
    except peewee.IntegrityError:
        form.username.errors.append(_("A user with this name already exists."))
        return _page(create=form, status=409)
    audit.record("user.create", object_type="user", object_id=user.id,
                 detail={"username": username, "role": user.role})
    return _page(shown={"username": username, "password": password})


def _refuse_self(user: User, message: str):
    if user.id == current_user.record.id:
        flash(message, "error")
        return redirect(url_for("admin.users"))
    return None


@bp.post("/users/<int:user_id>/role")
@role_required("admin")
def change_role(user_id):
    user = _user_or_404(user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        abort(400)
    refusal = _refuse_self(user, _("You cannot change your own role."))
    if refusal:
        return refusal
    old = user.role
    if old != form.role.data:
        User.update(role=form.role.data).where(User.id == user.id).execute()
        audit.record("user.role", object_type="user", object_id=user.id,
                     detail={"username": user.username, "from": old, "to": form.role.data})
    flash(_("Role of %(name)s: %(role)s.", name=user.username,
            role=ROLE_NAMES[form.role.data]), "info")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/disable")
@role_required("admin")
def disable_user(user_id):
    return _set_active(user_id, False)


@bp.post("/users/<int:user_id>/enable")
@role_required("admin")
def enable_user(user_id):
    return _set_active(user_id, True)


def _set_active(user_id: int, active: bool):
    user = _user_or_404(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if not active:
        refusal = _refuse_self(user, _("You cannot disable your own account."))
        if refusal:
            return refusal
    if user.active != active:
        User.update(active=active).where(User.id == user.id).execute()
        audit.record("user.enable" if active else "user.disable", object_type="user",
                     object_id=user.id, detail={"username": user.username})
    flash((_("%(name)s can sign in again.", name=user.username) if active
           else _("%(name)s is disabled.", name=user.username)), "info")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/password")
@role_required("admin")
def reset_password(user_id):
    user = _user_or_404(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    password = generate_password()
    (User.update(password_hash=generate_password_hash(password))
     .where(User.id == user.id).execute())
    audit.record("user.password_reset", object_type="user", object_id=user.id,
                 detail={"username": user.username})
    return _page(shown={"username": user.username, "password": password})




# The other admin pages register their views on `bp` (imported last: they import it).
from webui.admin import (  # noqa: F401
    agents,
    blacklist,
    dids,
    flows,
    hours,
    notifications,
    prompts,
    queues,
    recordings,
)
