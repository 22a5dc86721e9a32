"""Admin → Blacklist (roles admin and supervisor): the blacklist and VIP whitelist
entries, and the log of blocked calls.

Entries are added and removed through esl_apps.blacklist.entries, as
`hotline blacklist add/remove` do: numbers keyed the same way (E.164 digits; a
prefix ends in *), the same expiry forms (a date, the end of that day in the
appliance's time zone, or 30m / 12h / 7d), an entry with the same number and
scope replaced. The change then reaches the switch at once through the running
blacklist service (app.config["HOTLINE_BLACKLIST"], set by esl_apps.main: its
`sync()` pushes the difference to mod_hash). Without it (a panel on its own) the
database change is all that happens here, and `hotline run` pushes it within its
poll interval, as it does for the CLI.
"""
import logging
import re

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from peewee import JOIN
from wtforms import IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from db.models import BlacklistEntry, BlockedCall, User, database, utcnow
from esl_apps.blacklist import entries
from esl_apps.blacklist.numbers import NumberError, display, parse_did, parse_pattern
from webui import audit
from webui.access import role_required
from webui.admin import bp
from webui.crm.common import Page, page_number, parse_day, utc_bounds

log = logging.getLogger(__name__)

ROLES = ("admin", "supervisor")
KINDS = {"block": _l("Blacklist"), "allow": _l("Whitelist (VIP)")}
STATES = {"active": _l("Not expired"), "expired": _l("Expired"), "all": _l("All")}
_SEPARATORS = re.compile(r"[\s\-().+*]")


class EntryForm(FlaskForm):
    number = StringField(_l("Number or prefix"), validators=[InputRequired(), Length(max=40)])
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k, n) for k, n in KINDS.items()],
                       default="block",
                       validators=[InputRequired()])
    did = StringField(_l("Only for DID"), validators=[Optional(), Length(max=32)])
    expires = StringField(_l("Expires"), validators=[Optional(), Length(max=20)])
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=255)])


class RemoveForm(FlaskForm):
    entry = IntegerField(validators=[InputRequired()])


def _config():
    return current_app.config["HOTLINE_CONFIG"]


def push(later: str | None = None) -> str | None:
    """Push the entries (and the blocked-caller message) to the switch now; None when
    done, else why not. `later`: what to say when there is no service to push with."""
    pusher = current_app.config.get("HOTLINE_BLACKLIST")
    if pusher is None:
        return later or _("Saved; the running Hotline service pushes it to the switch "
                          "within seconds.")
    try:
        pushed = pusher.sync()
    except Exception:
        log.exception("blacklist push from the panel failed")
        pushed = False
    if not pushed:
        return _("Saved; the switch is not reachable now, the change is pushed when it is "
                 "back.")
    return None


def _values(form) -> dict | None:
    """The entry's values, checked as the CLI checks them; None after adding the
    errors to the form's fields."""
    config = _config()
    values, ok = {"allow": form.kind.data == "allow"}, True
    number = form.number.data.strip()
    try:
        values["pattern"], values["is_prefix"] = parse_pattern(
            number, config.locale.default_region)
        values["text"] = number
    except NumberError:
        form.number.errors.append(_(
            "Not a phone number or prefix: give digits, optionally after + or 00; a prefix "
            "ends in * (for example 1380013*)."))
        ok = False
    try:
        values["did"] = parse_did(form.did.data.strip() or None) if form.did.data else None
    except NumberError:
        form.did.errors.append(_("The DID must be digits, optionally after +."))
        ok = False
    try:
        values["expires_at"] = entries.parse_expiry(form.expires.data or None, utcnow(),
                                                    config.locale.timezone)
    except NumberError as exc:
        form.expires.errors.append(
            _("The expiry is in the past.") if "past" in str(exc) else
            _("Give the expiry as a date (2026-12-31) or a duration (30m, 12h, 7d)."))
        ok = False
    reason = (form.reason.data or "").strip()
    if any(c in reason for c in "\r\n\0"):
        form.reason.errors.append(_("The reason must be one line."))
        ok = False
    values["reason"] = reason
    return values if ok else None


def _digits(text: str) -> str:
    return _SEPARATORS.sub("", text or "")


def filtered_entries(args):
    """The entries the list's filters select, newest first, with who added them."""
    query = (BlacklistEntry.select(BlacklistEntry, User)
             .join(User, on=(BlacklistEntry.created_by == User.id), join_type=JOIN.LEFT_OUTER)
             .order_by(BlacklistEntry.created_at.desc(), BlacklistEntry.id.desc()))
    now = utcnow()
    state = args.get("state", "active")
    if state == "active":
        query = query.where(BlacklistEntry.expires_at.is_null()
                            | (BlacklistEntry.expires_at > now))
    elif state == "expired":
        query = query.where(BlacklistEntry.expires_at <= now)
    kind = args.get("kind", "")
    if kind in KINDS:
        query = query.where(BlacklistEntry.allow == (kind == "allow"))
    scope = args.get("scope", "").strip()
    if scope == "global":
        query = query.where(BlacklistEntry.did.is_null())
    elif scope:
        query = query.where(BlacklistEntry.did == (_digits(scope) or scope))
    text = args.get("q", "").strip()
    if text:
        found = BlacklistEntry.reason.contains(text)
        digits = _digits(text)
        if digits.isdigit():
            found |= BlacklistEntry.pattern.contains(digits)
            try:
                key, _prefix = parse_pattern(text.rstrip("*"), _config().locale.default_region)
                found |= BlacklistEntry.pattern.contains(key)
            except NumberError:
                pass
        query = query.where(found)
    return query


def filtered_blocked(args):
    query = (BlockedCall.select(BlockedCall, BlacklistEntry)
             .join(BlacklistEntry, on=(BlockedCall.entry == BlacklistEntry.id),
                   join_type=JOIN.LEFT_OUTER)
             .order_by(BlockedCall.at.desc(), BlockedCall.id.desc()))
    caller = _digits(args.get("caller", ""))
    if caller:
        query = query.where(BlockedCall.caller.contains(caller.lstrip("0") or caller))
    did = _digits(args.get("did", ""))
    if did:
        query = query.where(BlockedCall.did.contains(did))
    start, end = parse_day(args.get("from")), parse_day(args.get("to"))
    if start:
        query = query.where(BlockedCall.at >= utc_bounds(start))
    if end:
        query = query.where(BlockedCall.at < utc_bounds(end, end=True))
    return query


def _page(form=None, status=200):
    page = Page(filtered_entries(request.args), page_number())
    return render_template("admin/blacklist.html", page=page,
                           form=form or EntryForm(formdata=None), kinds=KINDS,
                           states=STATES, args=request.args, now=utcnow(),
                           display=display), status


@bp.get("/blacklist")
@role_required(*ROLES)
def blacklist():
    return _page()


@bp.post("/blacklist")
@role_required(*ROLES)
def add_blacklist_entry():
    form = EntryForm()
    values = _values(form) if form.validate_on_submit() else None
    if values is None:
        return _page(form=form, status=400)
    entry, replaced = entries.add(values["text"], did=values["did"],
                                  expires_at=values["expires_at"], reason=values["reason"],
                                  allow=values["allow"],
                                  region=_config().locale.default_region,
                                  user=current_user.record.id)
    audit.record("blacklist.add", object_type="blacklist", object_id=entry.id,
                 detail={"pattern": display(entry.pattern, entry.is_prefix),
                         "kind": "allow" if entry.allow else "block", "did": entry.did,
                         "expires_at": entry.expires_at.isoformat() if entry.expires_at
                         else None, "reason": entry.reason, "replaced": replaced})
    note = push()
    flash((_("Replaced the entry for %(number)s.", number=display(entry.pattern, entry.is_prefix))
           if replaced else
           _("Added %(number)s.", number=display(entry.pattern, entry.is_prefix)))
          + (" " + note if note else ""), "info")
    return redirect(url_for("admin.blacklist"))


@bp.post("/blacklist/remove")
@role_required(*ROLES)
def remove_blacklist_entry():
    form = RemoveForm()
    if not form.validate_on_submit():
        abort(400)
    entry = BlacklistEntry.get_or_none(BlacklistEntry.id == form.entry.data)
    if entry is None:
        flash(_("This entry is already gone."), "error")
        return redirect(url_for("admin.blacklist"))
    with database.atomic():
        BlacklistEntry.delete().where(BlacklistEntry.id == entry.id).execute()
    audit.record("blacklist.remove", object_type="blacklist", object_id=entry.id,
                 detail={"pattern": display(entry.pattern, entry.is_prefix),
                         "kind": "allow" if entry.allow else "block", "did": entry.did})
    note = push()
    flash(_("Removed %(number)s.", number=display(entry.pattern, entry.is_prefix))
          + (" " + note if note else ""), "info")
    return redirect(url_for("admin.blacklist"))


@bp.get("/blacklist/blocked")
@role_required(*ROLES)
def blocked_calls():
    page = Page(filtered_blocked(request.args), page_number())
    return render_template("admin/blacklist_blocked.html", page=page, args=request.args)
