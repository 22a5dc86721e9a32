"""The list, making an order (by hand or from a call), one order's page, its
transitions, assignment and notes, and field workers' "my work orders"."""
import logging

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from db.models import (
    WORK_ORDER_PRIORITIES,
    WORK_ORDER_TYPES,
    CallNote,
    CallRecord,
    Customer,
    CustomerPhone,
    DeadlineExtension,
    Department,
    DepartmentMember,
    NoteCategory,
    RevisitTask,
    ServiceCatalogEntry,
    User,
    WorkOrder,
    WorkOrderAttachment,
    WorkOrderEvent,
    utcnow,
)
from esl_apps.workorders.service import Refused, load_workflow
from webui import audit
from webui.access import role_required
from webui.crm.calls import visible_calls
from webui.crm.common import Page, page_number
from webui.i18n import current_language
from webui.workorders import (
    ASSIGN_ROLES,
    CREATE_ROLES,
    DECIDE_ROLES,
    EVENT_NAMES,
    PRIORITY_NAMES,
    SATISFACTION_NAMES,
    TYPE_NAMES,
    VIEW_ROLES,
    bp,
    order_or_404,
    refusal,
    service,
    visible_orders,
)

log = logging.getLogger(__name__)


def _id_or_none(value):
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


class OrderForm(FlaskForm):
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=200)])
    type = SelectField(_l("Type"), validators=[InputRequired()])
    priority = SelectField(_l("Priority"), default="medium", validators=[InputRequired()])
    catalog = SelectField(_l("Service catalogue"), validators=[Optional()], validate_choice=False)
    department = SelectField(_l("Department"), validators=[Optional()], validate_choice=False)
    assignee = SelectField(_l("Field worker"), validators=[Optional()], validate_choice=False)
    category = SelectField(_l("Call category"), validators=[Optional()], validate_choice=False)
    contact_name = StringField(_l("Contact"), validators=[Optional(), Length(max=128)])
    contact_phone = StringField(_l("Phone"), validators=[Optional(), Length(max=32)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=255)])
    region = StringField(_l("Region"), validators=[Optional(), Length(max=64)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=4000)])
    call = HiddenField()
    customer = HiddenField()


class TransitionForm(FlaskForm):
    target = HiddenField(validators=[InputRequired()])
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=2000)])


class AssignForm(FlaskForm):
    department = SelectField(_l("Department"), validators=[Optional()], validate_choice=False)
    assignee = SelectField(_l("Field worker"), validators=[Optional()], validate_choice=False)
    comment = StringField(_l("Comment"), validators=[Optional(), Length(max=500)])


class CommentForm(FlaskForm):
    text = TextAreaField(_l("Note"), validators=[InputRequired(), Length(max=4000)])


def _name(row, zh: str, en: str) -> str:
    return getattr(row, zh) if current_language().startswith("zh") else getattr(row, en)


def _choices(form):
    form.type.choices = [SelectChoice(t, TYPE_NAMES[t]) for t in WORK_ORDER_TYPES]
    form.priority.choices = [SelectChoice(p, PRIORITY_NAMES[p])
                             for p in WORK_ORDER_PRIORITIES]
    form.catalog.choices = [SelectChoice("", "—")] + [
        SelectChoice(str(c.id), _name(c, "name_zh", "name_en"))
        for c in ServiceCatalogEntry.select()
        .where(ServiceCatalogEntry.active).order_by(ServiceCatalogEntry.position)]
    _assign_choices(form)
    if hasattr(form, "category"):
        form.category.choices = [SelectChoice("", "—")] + [
            SelectChoice(str(c.id), _name(c, "name_zh", "name_en"))
            for c in NoteCategory.select()
            .where(NoteCategory.active).order_by(NoteCategory.position, NoteCategory.id)]


def _assign_choices(form):
    form.department.choices = [SelectChoice("", "—")] + [
        SelectChoice(str(d.id), d.name) for d in Department.select().where(Department.active)
        .order_by(Department.name)]
    form.assignee.choices = [SelectChoice("", "—")] + [
        SelectChoice(str(u.id), u.display_name or u.username)
        for u in User.select()
        .where(User.role == "field", User.active).order_by(User.display_name)]


def _field_worker(value):
    user_id = _id_or_none(value)
    if user_id is None:
        return None
    return User.get_or_none(User.id == user_id, User.role == "field", User.active)


def _department(value):
    dept_id = _id_or_none(value)
    return Department.get_or_none(Department.id == dept_id) if dept_id else None


def _prefill_from_call(form, call: CallRecord):
    """What the call already says: caller, customer, category of its note, IVR data."""
    form.call.data = call.call_uuid
    customer = call.customer if call.customer_id else None
    if customer is None and call.caller_e164:
        phone = CustomerPhone.get_or_none(CustomerPhone.e164 == call.caller_e164)
        customer = phone.customer if phone else None
    form.contact_phone.data = call.caller_e164 or call.caller
    form.contact_name.data = call.caller_name
    if customer is not None:
        form.customer.data = str(customer.id)
        form.contact_name.data = customer.name
        form.address.data = customer.address
        form.region.data = customer.region
    note = (CallNote.select().where(CallNote.call == call.id)
            .order_by(CallNote.created_at.desc()).first())
    if note is not None and note.category_id:
        form.category.data = str(note.category_id)
        code = note.category.code
        if code in WORK_ORDER_TYPES:
            form.type.data = code
        if note.text and not form.description.data:
            form.description.data = note.text
    return customer


@bp.get("/")
@role_required(*VIEW_ROLES)
def index():
    args = request.args
    query = visible_orders()
    for column in ("state", "type", "priority"):
        if args.get(column):
            query = query.where(getattr(WorkOrder, column) == args[column])
    if args.get("region"):
        query = query.where(WorkOrder.region == args["region"])
    if _id_or_none(args.get("department")):
        query = query.where(WorkOrder.department == int(args["department"]))
    if args.get("open") == "1":
        query = query.where(WorkOrder.closed_at.is_null())
    if args.get("overdue") == "1":
        now = utcnow()
        query = query.where(WorkOrder.resolved_at.is_null(), WorkOrder.resolve_due_at < now)
    text = (args.get("q") or "").strip()
    if text:
        query = query.where(WorkOrder.number.contains(text) | WorkOrder.title.contains(text)
                            | WorkOrder.contact_phone.contains(text)
                            | WorkOrder.address.contains(text))
    page = Page(query.order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc()), page_number())
    workflow = load_workflow()
    regions = [r.region for r in WorkOrder.select(WorkOrder.region).distinct()
               .where(WorkOrder.region != "").order_by(WorkOrder.region)]
    departments = list(Department.select().order_by(Department.name))
    return render_template("workorders/list.html", page=page, args=args, workflow=workflow,
                           lang=current_language(), regions=regions, departments=departments,
                           types=WORK_ORDER_TYPES, priorities=WORK_ORDER_PRIORITIES,
                           now=utcnow())


@bp.get("/mine")
@role_required("field")
def mine():
    """The field worker's page, made for a phone: their open orders first."""
    orders = list(visible_orders().where(WorkOrder.closed_at.is_null())
                  .order_by(WorkOrder.resolve_due_at.asc(nulls="LAST"), WorkOrder.id))
    return render_template("workorders/mine.html", orders=orders, workflow=load_workflow(),
                           lang=current_language(), now=utcnow())


@bp.route("/new", methods=["GET", "POST"])
@role_required(*CREATE_ROLES)
def new():
    form = OrderForm()
    _choices(form)
    call = None
    call_uuid = request.values.get("call") or form.call.data
    if call_uuid:
        call = visible_calls().where(CallRecord.call_uuid == call_uuid).first()
        if call is None:
            abort(404)
    if request.method == "GET":
        customer = _prefill_from_call(form, call) if call is not None else None
        return render_template("workorders/new.html", form=form, call=call, customer=customer)
    if not form.validate_on_submit():
        customer = Customer.get_or_none(Customer.id == _id_or_none(form.customer.data))
        return render_template("workorders/new.html", form=form, call=call,
                               customer=customer), 400
    if form.type.data not in WORK_ORDER_TYPES or form.priority.data not in WORK_ORDER_PRIORITIES:
        abort(400)
    catalog = ServiceCatalogEntry.get_or_none(ServiceCatalogEntry.id ==
                                              _id_or_none(form.catalog.data))
    department = _department(form.department.data)
    if department is None and catalog is not None:
        department = catalog.department
    customer_id = _id_or_none(form.customer.data)
    if customer_id is not None and Customer.get_or_none(Customer.id == customer_id) is None:
        customer_id = None
    category = NoteCategory.get_or_none(NoteCategory.id == _id_or_none(form.category.data))
    order = service().create(
        current_user.record, title=form.title.data.strip(), type=form.type.data,
        priority=form.priority.data, call=call, catalog=catalog, department=department,
        assignee=_field_worker(form.assignee.data), category=category,
        customer=customer_id, contact_name=form.contact_name.data or "",
        contact_phone=form.contact_phone.data or "", address=form.address.data or "",
        region=form.region.data or "", description=form.description.data or "")
    audit.record("workorder.create", object_type="work_order", object_id=order.id,
                 detail={"number": order.number, "call": call_uuid or None})
    flash(_("Work order %(number)s made.", number=order.number), "info")
    return redirect(url_for("workorders.detail", order_id=order.id))


@bp.get("/<int:order_id>")
@role_required(*VIEW_ROLES)
def detail(order_id):
    order = order_or_404(order_id)
    workflow = load_workflow()
    role = current_user.role
    events = list(WorkOrderEvent.select().where(WorkOrderEvent.order == order.id)
                  .order_by(WorkOrderEvent.at, WorkOrderEvent.id))
    attachments = list(WorkOrderAttachment.select().where(WorkOrderAttachment.order == order.id)
                       .order_by(WorkOrderAttachment.uploaded_at))
    extensions = list(DeadlineExtension.select().where(DeadlineExtension.order == order.id)
                      .order_by(DeadlineExtension.requested_at))
    revisits = list(RevisitTask.select().where(RevisitTask.order == order.id)
                    .order_by(RevisitTask.created_at))
    assign = AssignForm(formdata=None, department=str(order.department_id or ""),
                        assignee=str(order.assignee_id or ""))
    _assign_choices(assign)
    from webui.workorders.extensions import DecideForm, ExtensionForm
    from webui.workorders.files import UploadForm
    return render_template(
        "workorders/detail.html", order=order, workflow=workflow, lang=current_language(),
        transitions=workflow.allowed(order.state, role), events=events,
        attachments=attachments, extensions=extensions, revisits=revisits,
        transition_form=TransitionForm(formdata=None), comment_form=CommentForm(formdata=None),
        assign_form=assign, upload_form=UploadForm(formdata=None),
        extension_form=ExtensionForm(formdata=None), decide_form=DecideForm(formdata=None),
        can_assign=role in ASSIGN_ROLES, can_decide=role in DECIDE_ROLES,
        can_extend=role == "field" and order.resolved_at is None and order.closed_at is None,
        event_names=EVENT_NAMES, satisfaction_names=SATISFACTION_NAMES, now=utcnow())


def _back(order):
    if current_user.role == "field" and request.form.get("back") == "mine":
        return redirect(url_for("workorders.mine"))
    return redirect(url_for("workorders.detail", order_id=order.id))


@bp.post("/<int:order_id>/transition")
@role_required(*VIEW_ROLES)
def transition(order_id):
    order = order_or_404(order_id)
    form = TransitionForm()
    if not form.validate_on_submit():
        abort(400)
    workflow = load_workflow()
    if workflow.find(order.state, form.target.data, current_user.role) is None:
        abort(403)   # not a move this role may make from this state
    try:
        service().transition(order, form.target.data, current_user.record, current_user.role,
                             (form.comment.data or "").strip())
    except Refused as exc:
        flash(refusal(exc), "error")
        return _back(order)
    audit.record("workorder.transition", object_type="work_order", object_id=order.id,
                 detail={"to": form.target.data})
    flash(_("Now: %(state)s.", state=workflow.label(order.state, current_language())), "info")
    return _back(order)


@bp.post("/<int:order_id>/assign")
@role_required(*ASSIGN_ROLES)
def assign(order_id):
    order = order_or_404(order_id)
    form = AssignForm()
    _assign_choices(form)
    if not form.validate_on_submit():
        abort(400)
    department = _department(form.department.data)
    assignee = _field_worker(form.assignee.data)
    if form.department.data and department is None or form.assignee.data and assignee is None:
        abort(400)
    if department is not None and assignee is not None and not DepartmentMember.select().where(
            DepartmentMember.department == department.id,
            DepartmentMember.user == assignee.id).exists():
        flash(_("That field worker is not in that department."), "error")
        return redirect(url_for("workorders.detail", order_id=order.id))
    try:
        service().assign(order, current_user.record, department=department,
                         assignee=assignee, comment=(form.comment.data or "").strip())
    except Refused as exc:
        flash(refusal(exc), "error")
        return redirect(url_for("workorders.detail", order_id=order.id))
    audit.record("workorder.assign", object_type="work_order", object_id=order.id,
                 detail={"department": order.department_id, "assignee": order.assignee_id})
    flash(_("Assignment saved."), "info")
    return redirect(url_for("workorders.detail", order_id=order.id))


@bp.post("/<int:order_id>/comment")
@role_required(*VIEW_ROLES)
def comment(order_id):
    order = order_or_404(order_id)
    form = CommentForm()
    if not form.validate_on_submit():
        flash(_("Write a note first."), "error")
        return _back(order)
    service().comment(order, current_user.record, form.text.data.strip())
    flash(_("Note saved."), "info")
    return _back(order)


@bp.get("/customer/<int:customer_id>/open")
@role_required(*CREATE_ROLES)
def open_for_customer(customer_id):
    """The customer's open orders, as JSON for the desk's call card."""
    workflow = load_workflow()
    lang = current_language()
    rows = (visible_orders().where(WorkOrder.customer == customer_id,
                                   WorkOrder.closed_at.is_null())
            .order_by(WorkOrder.created_at.desc()).limit(10))
    return {"orders": [{"number": o.number, "title": o.title,
                        "state": workflow.label(o.state, lang),
                        "url": url_for("workorders.detail", order_id=o.id)} for o in rows]}
