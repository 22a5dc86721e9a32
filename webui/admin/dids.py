"""Admin → DIDs: the numbers callers dial, each mapped to a loaded flow (the Did
rows; a flow's own `dids:` list is shown beside them on the Flows page). The switch
reads the rows when its configuration is written (`hotline switch render`, then a
reload of FreeSWITCH's XML), which the page says after every change."""
import peewee
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, Regexp

from db.models import Did, database
from webui import audit
from webui.access import role_required
from webui.admin import bp
from webui.admin.flows import loaded_flow_names

DID_RE = r"^\+?[0-9]{2,20}$"  # as a flow's dids: (esl_apps.ivr.flow)
LANGUAGES = [("zh_CN", "中文"), ("en", "English")]


class DidForm(FlaskForm):
    number = StringField(_l("Number"), validators=[
        InputRequired(), Regexp(DID_RE, message=_l("2 to 20 digits, optionally with a leading +."))])
    flow = SelectField(_l("Flow"), validators=[InputRequired()])
    language = SelectField(_l("Language"), choices=[SelectChoice(c, n) for c, n in LANGUAGES], validators=[InputRequired()])
    description = StringField(_l("Description"), validators=[Optional(), Length(max=255)])
    enabled = BooleanField(_l("Enabled"), default=True)


class DeleteForm(FlaskForm):
    """Nothing but the CSRF token."""


def _form(names, **kwargs) -> DidForm:
    form = DidForm(**kwargs)
    form.flow.choices = [SelectChoice(n) for n in names]
    return form


def _page(create=None, status=200, names=None):
    names = loaded_flow_names() if names is None else names
    dids = list(Did.select().order_by(Did.number))
    return render_template("admin/dids.html", dids=dids, flow_names=names,
                           create=create or _form(names, formdata=None),
                           languages=LANGUAGES), status


@bp.get("/dids")
@role_required("admin")
def dids():
    return _page()


def _values(form):
    return {"number": form.number.data, "flow": form.flow.data,
            "language": form.language.data, "description": form.description.data or "",
            "enabled": bool(form.enabled.data)}


def _reload_note():
    flash(_("The switch reads DIDs when its configuration is written: run "
            "'hotline switch render', then reload FreeSWITCH's XML (reloadxml)."), "info")


@bp.post("/dids")
@role_required("admin")
def create_did():
    names = loaded_flow_names()
    form = _form(names)
    if not form.validate_on_submit():
        return _page(create=form, status=400, names=names)
    try:
        with database.atomic():
            did = Did.create(**_values(form))
    except peewee.IntegrityError:
        form.number.errors.append(_("This number is already mapped."))
        return _page(create=form, status=409, names=names)
    audit.record("did.create", object_type="did", object_id=did.id, detail=_values(form))
    _reload_note()
    return redirect(url_for("admin.dids"))


def _did_or_404(did_id) -> Did:
    did = Did.get_or_none(Did.id == did_id)
    if did is None:
        abort(404)
    return did


@bp.post("/dids/<int:did_id>")
@role_required("admin")
def edit_did(did_id):
    did = _did_or_404(did_id)
    names = loaded_flow_names()
    form = _form(names)
    if not form.validate_on_submit():
        for field in form:
            for error in field.errors:
                flash(f"{did.number}: {field.label.text}: {error}", "error")
        return redirect(url_for("admin.dids"))
    values = _values(form)
    try:
        with database.atomic():
            Did.update(**values).where(Did.id == did.id).execute()
    except peewee.IntegrityError:
        flash(_("This number is already mapped."), "error")
        return redirect(url_for("admin.dids"))
    audit.record("did.update", object_type="did", object_id=did.id,
                 detail={"from": {"number": did.number, "flow": did.flow}, "to": values})
    _reload_note()
    return redirect(url_for("admin.dids"))


@bp.post("/dids/<int:did_id>/delete")
@role_required("admin")
def delete_did(did_id):
    did = _did_or_404(did_id)
    if not DeleteForm().validate_on_submit():
        abort(400)
    Did.delete().where(Did.id == did.id).execute()
    audit.record("did.delete", object_type="did", object_id=did.id,
                 detail={"number": did.number, "flow": did.flow})
    _reload_note()
    return redirect(url_for("admin.dids"))
