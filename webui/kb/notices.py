"""Notices and announcements shown on the desk: a title and text, an active period
(open-ended without an end) and an audience role ("" = everybody). Times are
entered and shown in the appliance's time zone (locale.timezone), stored in UTC."""
import datetime
import logging

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from db.models import ROLES, Notice, database, utcnow
from webui import audit
from webui.access import role_required
from webui.crm.common import zone
from webui.i18n import ROLE_NAMES
from webui.kb import DESK_READERS, EDITORS, bp
from webui.kb.forms import ActionForm, NoticeForm

log = logging.getLogger(__name__)


def _role_choices():
    return [("", _("Everybody"))] + [(r, ROLE_NAMES.get(r, r)) for r in ROLES]


def to_utc(local: datetime.datetime | None) -> datetime.datetime | None:
    if local is None:
        return None
    return local.replace(tzinfo=zone()).astimezone(datetime.UTC).replace(tzinfo=None)


def to_local(utc: datetime.datetime | None) -> datetime.datetime | None:
    if utc is None:
        return None
    return utc.replace(tzinfo=datetime.UTC).astimezone(zone()).replace(tzinfo=None)


def active_notices(role: str, now=None) -> list:
    """The notices shown now to a user of that role, newest first."""
    now = now or utcnow()
    return list(Notice.select()
                .where(Notice.active_from <= now,
                       Notice.active_until.is_null() | (Notice.active_until > now),
                       (Notice.audience_role == "") | (Notice.audience_role == role))
                .order_by(Notice.active_from.desc(), Notice.id.desc()))


def _page(form=None, status=200):
    if form is None:
        form = NoticeForm(formdata=None)
    form.audience_role.choices = _role_choices()
    now = utcnow()
    rows = Notice.select().order_by(Notice.active_from.desc(), Notice.id.desc())
    if current_user.role not in EDITORS:  # readers see what is meant for them
        rows = rows.where((Notice.audience_role == "")
                          | (Notice.audience_role == current_user.role))
    return render_template("kb/notices.html", notices=list(rows), form=form, now=now,
                           delete_form=ActionForm(), role_name=_role_label,
                           zone_name=str(zone()),
                           can_edit=current_user.role in EDITORS), status


def _role_label(role: str) -> str:
    return ROLE_NAMES.get(role, role) if role else _("Everybody")


@bp.get("/notices")
@role_required(*DESK_READERS)
def notices():
    return _page()


def _fields(form) -> dict:
    return {"title": form.title.data.strip(), "body": (form.body.data or "").strip(),
            "active_from": to_utc(form.active_from.data) or utcnow(),
            "active_until": to_utc(form.active_until.data),
            "audience_role": form.audience_role.data or ""}


@bp.post("/notices")
@role_required(*EDITORS)
def create_notice():
    form = NoticeForm()
    form.audience_role.choices = _role_choices()
    if not form.validate_on_submit():
        return _page(form, 400)
    with database.atomic():
        notice = Notice.create(created_by=current_user.record, **_fields(form))
    audit.record("kb.notice.create", object_type="notice", object_id=notice.id,
                 detail={"title": notice.title, "audience_role": notice.audience_role})
    return redirect(url_for("kb.notices"))


def _notice_or_404(notice_id) -> Notice:
    notice = Notice.get_or_none(Notice.id == notice_id)
    if notice is None:
        abort(404)
    return notice


def _edit_page(notice, form, status=200):
    form.audience_role.choices = _role_choices()
    return render_template("kb/notice_form.html", notice=notice, form=form), status


@bp.get("/notices/<int:notice_id>/edit")
@role_required(*EDITORS)
def edit_notice(notice_id):
    notice = _notice_or_404(notice_id)
    form = NoticeForm(formdata=None, obj=notice)
    form.active_from.data = to_local(notice.active_from)
    form.active_until.data = to_local(notice.active_until)
    return _edit_page(notice, form)


@bp.post("/notices/<int:notice_id>/edit")
@role_required(*EDITORS)
def update_notice(notice_id):
    notice = _notice_or_404(notice_id)
    form = NoticeForm()
    form.audience_role.choices = _role_choices()
    if not form.validate_on_submit():
        return _edit_page(notice, form, 400)
    fields = _fields(form)
    Notice.update(**fields).where(Notice.id == notice.id).execute()
    audit.record("kb.notice.update", object_type="notice", object_id=notice.id,
                 detail={"title": fields["title"], "audience_role": fields["audience_role"]})
    return redirect(url_for("kb.notices"))


@bp.post("/notices/<int:notice_id>/delete")
@role_required(*EDITORS)
def delete_notice(notice_id):
    notice = _notice_or_404(notice_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    notice.delete_instance()
    audit.record("kb.notice.delete", object_type="notice", object_id=notice_id,
                 detail={"title": notice.title})
    flash(_("Notice deleted: %(title)s", title=notice.title), "info")
    return redirect(url_for("kb.notices"))
