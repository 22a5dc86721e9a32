"""Work-order settings (admin): the workflow (states and per-role transitions as
JSON, checked whole before it replaces the working one) and the business-hours
schedule SLA deadlines count in; the SLA limits per type and priority;
departments with their members (field workers, leads who get escalations); the
service catalogue. Every change goes to the audit log. A new workflow or SLA rule
applies to orders made (or re-dispatched) afterwards; an order keeps the limits it
was made with."""
import json
import logging

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, Regexp

from db.models import (
    Department,
    DepartmentMember,
    Schedule,
    ServiceCatalogEntry,
    SlaRule,
    User,
    WorkOrder,
    WorkOrderWorkflow,
    database,
    utcnow,
)
from esl_apps.workorders.service import WORKFLOW_NAME
from esl_apps.workorders.workflow import check
from webui import audit
from webui.access import role_required
from webui.workorders import PRIORITY_NAMES, TYPE_NAMES, bp

log = logging.getLogger(__name__)
PHONE_RE = r"^\+?[0-9 -]{3,31}$"
EMAIL_RE = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class WorkflowForm(FlaskForm):
    definition = TextAreaField(_l("Workflow (JSON)"), validators=[InputRequired(),
                                                                   Length(max=20000)])
    sla_schedule = SelectField(_l("SLA deadlines count in"), validators=[InputRequired()],
                               validate_choice=False)


class DepartmentForm(FlaskForm):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=64)])
    email = StringField(_l("E-mail"), validators=[Optional(), Length(max=255), Regexp(EMAIL_RE)])
    phone = StringField(_l("Phone"), validators=[Optional(), Regexp(PHONE_RE)])


class MemberForm(FlaskForm):
    department = SelectField(_l("Department"), validators=[InputRequired()],
                             validate_choice=False)
    user = SelectField(_l("User"), validators=[InputRequired()], validate_choice=False)
    lead = BooleanField(_l("Lead (gets escalations)"))
    email = StringField(_l("E-mail"), validators=[Optional(), Length(max=255), Regexp(EMAIL_RE)])
    phone = StringField(_l("Phone"), validators=[Optional(), Regexp(PHONE_RE)])


class RemoveForm(FlaskForm):
    member = HiddenField(validators=[InputRequired()])


class CatalogForm(FlaskForm):
    code = StringField(_l("Code"), validators=[InputRequired(),
                                               Regexp(r"^[A-Za-z0-9_-]{1,32}$")])
    name_zh = StringField(_l("Name (Chinese)"), validators=[InputRequired(), Length(max=64)])
    name_en = StringField(_l("Name (English)"), validators=[InputRequired(), Length(max=64)])
    department = SelectField(_l("Department"), validators=[Optional()], validate_choice=False)


class RulesForm(FlaskForm):
    """The rule table's fields are read from request.form (one row per rule)."""


def _department_choices(blank=False):
    rows = [SelectChoice(str(d.id), d.name)
            for d in Department.select().order_by(Department.name)]
    return ([SelectChoice("", "—")] if blank else []) + rows


def _forms(**given):
    row = WorkOrderWorkflow.get(WorkOrderWorkflow.name == WORKFLOW_NAME)
    workflow = given.get("workflow") or WorkflowForm(
        formdata=None, definition=json.dumps(row.definition, ensure_ascii=False, indent=2),
        sla_schedule=row.sla_schedule)
    workflow.sla_schedule.choices = [SelectChoice(s.name, s.name) for s in
                                     Schedule.select().order_by(Schedule.name)]
    member = given.get("member") or MemberForm(formdata=None)
    member.department.choices = _department_choices()
    member.user.choices = [SelectChoice(str(u.id),
                                        f"{u.display_name or u.username} ({u.role})")
                           for u in User.select().where(User.active,
                                                        User.role.in_(("field", "supervisor")))
                           .order_by(User.username)]
    catalog = given.get("catalog") or CatalogForm(formdata=None)
    catalog.department.choices = _department_choices(blank=True)
    return {"workflow_form": workflow, "member_form": member, "catalog_form": catalog,
            "department_form": given.get("department") or DepartmentForm(formdata=None),
            "rules_form": RulesForm(formdata=None), "remove_form": RemoveForm(formdata=None)}


def _page(status=200, errors=None, **given):
    departments = list(Department.select().order_by(Department.name))
    members = {}
    for m in (DepartmentMember.select(DepartmentMember, User).join(User)
              .order_by(User.username)):
        members.setdefault(m.department_id, []).append(m)
    rules = list(SlaRule.select().order_by(SlaRule.type, SlaRule.priority))
    catalog = list(ServiceCatalogEntry.select().order_by(ServiceCatalogEntry.position,
                                                         ServiceCatalogEntry.code))
    return render_template("workorders/settings.html", departments=departments,
                           members=members, rules=rules, catalog=catalog,
                           schedules=[s.name for s in Schedule.select().order_by(Schedule.name)],
                           type_names=TYPE_NAMES, priority_names=PRIORITY_NAMES,
                           errors=errors or [], **_forms(**given)), status


@bp.get("/settings")
@role_required("admin")
def settings():
    return _page()


@bp.post("/settings/workflow")
@role_required("admin")
def save_workflow():
    form = WorkflowForm()
    form.sla_schedule.choices = [SelectChoice(s.name, s.name) for s in Schedule.select()]
    if not form.validate_on_submit():
        return _page(400, workflow=form)
    try:
        definition = json.loads(form.definition.data)
    except ValueError as exc:
        return _page(400, errors=[_("Not JSON: %(error)s", error=str(exc))], workflow=form)
    problems = check(definition)
    if not problems:
        codes = {s["code"] for s in definition["states"]}
        in_use = {o.state for o in WorkOrder.select(WorkOrder.state).distinct()} - codes
        problems = [_("Orders are in state %(state)s, which the new workflow leaves out.",
                      state=state) for state in sorted(in_use)]
    if Schedule.get_or_none(Schedule.name == form.sla_schedule.data) is None:
        problems.append(_("No such business-hours schedule."))
    if problems:
        return _page(400, errors=problems, workflow=form)
    (WorkOrderWorkflow.update(definition=definition, sla_schedule=form.sla_schedule.data,
                              updated_at=utcnow(), updated_by=current_user.record)
     .where(WorkOrderWorkflow.name == WORKFLOW_NAME).execute())
    audit.record("workorder.workflow", object_type="workflow", object_id=WORKFLOW_NAME,
                 detail={"states": sorted(s["code"] for s in definition["states"]),
                         "sla_schedule": form.sla_schedule.data})
    flash(_("Workflow saved."), "info")
    return redirect(url_for("workorders.settings"))


def _minutes(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 <= number <= 60 * 24 * 366 else None


@bp.post("/settings/sla")
@role_required("admin")
def save_sla():
    if not RulesForm().validate_on_submit():
        return _page(400, errors=[_("The form had expired; try again.")])
    schedules = {s.name for s in Schedule.select()} | {""}
    updates, problems = [], []
    for rule in SlaRule.select():
        key = f"rule-{rule.id}-"
        values = [_minutes(request.form.get(key + part))
                  for part in ("response", "resolve", "warn")]
        schedule = (request.form.get(key + "schedule") or "").strip()
        if None in values or schedule not in schedules:
            problems.append(_("%(type)s / %(priority)s: minutes are whole numbers, and the "
                              "schedule must exist.", type=TYPE_NAMES.get(rule.type, rule.type),
                              priority=PRIORITY_NAMES.get(rule.priority, rule.priority)))
            continue
        updates.append((rule.id, *values, schedule))
    if problems:
        return _page(400, errors=problems)
    with database.atomic():
        for rule_id, response, resolve, warn, schedule in updates:
            (SlaRule.update(response_minutes=response, resolve_minutes=resolve,
                            warn_before=warn, schedule=schedule)
             .where(SlaRule.id == rule_id).execute())
    audit.record("workorder.sla_rules", object_type="sla_rule", detail={"rules": len(updates)})
    flash(_("SLA limits saved."), "info")
    return redirect(url_for("workorders.settings"))


@bp.post("/settings/departments")
@role_required("admin")
def add_department():
    form = DepartmentForm()
    if not form.validate_on_submit():
        return _page(400, department=form)
    name = form.name.data.strip()
    if Department.get_or_none(Department.name == name) is not None:
        return _page(400, errors=[_("A department of that name exists.")], department=form)
    dept = Department.create(name=name, email=form.email.data or "",
                             phone=form.phone.data or "")
    audit.record("workorder.department", object_type="department", object_id=dept.id,
                 detail={"name": name})
    flash(_("Department added."), "info")
    return redirect(url_for("workorders.settings"))


@bp.post("/settings/members")
@role_required("admin")
def add_member():
    form = MemberForm()
    if not form.validate_on_submit():
        return _page(400, member=form)
    dept = Department.get_or_none(Department.id == _int(form.department.data))
    user = User.get_or_none(User.id == _int(form.user.data))
    if dept is None or user is None or user.role not in ("field", "supervisor"):
        return _page(400, errors=[_("Pick a department and a field worker or supervisor.")],
                     member=form)
    fields = {"lead": bool(form.lead.data), "email": form.email.data or "",
              "phone": form.phone.data or ""}
    member = DepartmentMember.get_or_none(DepartmentMember.department == dept.id,
                                          DepartmentMember.user == user.id)
    if member is None:
        member = DepartmentMember.create(department=dept, user=user, **fields)
    else:
        DepartmentMember.update(**fields).where(DepartmentMember.id == member.id).execute()
    audit.record("workorder.member", object_type="department", object_id=dept.id,
                 detail={"user": user.username, **fields})
    flash(_("Member saved."), "info")
    return redirect(url_for("workorders.settings"))


@bp.post("/settings/members/remove")
@role_required("admin")
def remove_member():
    form = RemoveForm()
    if not form.validate_on_submit():
        return _page(400)
    member = DepartmentMember.get_or_none(DepartmentMember.id == _int(form.member.data))
    if member is not None:
        member.delete_instance()
        audit.record("workorder.member_remove", object_type="department",
                     object_id=member.department_id, detail={"user": member.user_id})
    flash(_("Member removed."), "info")
    return redirect(url_for("workorders.settings"))


@bp.post("/settings/catalog")
@role_required("admin")
def add_catalog():
    form = CatalogForm()
    form.department.choices = _department_choices(blank=True)
    if not form.validate_on_submit():
        return _page(400, catalog=form)
    if ServiceCatalogEntry.get_or_none(ServiceCatalogEntry.code == form.code.data):
        return _page(400, errors=[_("That code is taken.")], catalog=form)
    dept = Department.get_or_none(Department.id == _int(form.department.data))
    entry = ServiceCatalogEntry.create(
        code=form.code.data, name_zh=form.name_zh.data.strip(),
        name_en=form.name_en.data.strip(), department=dept,
        position=ServiceCatalogEntry.select().count())
    audit.record("workorder.catalog", object_type="service_catalog", object_id=entry.id,
                 detail={"code": entry.code})
    flash(_("Catalogue entry added."), "info")
    return redirect(url_for("workorders.settings"))


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
