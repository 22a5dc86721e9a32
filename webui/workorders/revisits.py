"""Revisits (回访): when a repair is done the order gets a revisit task; an agent
calls the customer (click-to-dial through the desk when the desk offers it, else
a tel: link) and records their satisfaction. Satisfied closes the order,
dissatisfied re-dispatches it, "could not reach" keeps the task for another try."""
from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from db.models import SATISFACTION_LEVELS, RevisitTask, WorkOrder
from esl_apps.workorders.service import Refused, load_workflow
from webui import audit
from webui.access import role_required
from webui.i18n import current_language
from webui.workorders import (
    REVISIT_ROLES,
    SATISFACTION_NAMES,
    bp,
    order_or_404,
    refusal,
    service,
)

DIAL_ENDPOINT = "desk.dial"   # the desk's click-to-dial, when there is one
DIAL_ROLES = ("agent", "supervisor")   # the desk's users


class RevisitForm(FlaskForm):
    satisfaction = RadioField(_l("Customer's satisfaction"), validators=[InputRequired()],
                              choices=[SelectChoice(s, SATISFACTION_NAMES[s])
                                       for s in SATISFACTION_LEVELS])
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=2000)])


@bp.get("/revisits")
@role_required(*REVISIT_ROLES)
def revisits():
    tasks = list(RevisitTask.select(RevisitTask, WorkOrder).join(WorkOrder)
                 .where(RevisitTask.status == "pending").order_by(RevisitTask.created_at))
    return render_template("workorders/revisits.html", tasks=tasks, workflow=load_workflow(),
                           lang=current_language())


def _task_or_404(task_id):
    task = RevisitTask.get_or_none(RevisitTask.id == task_id)
    if task is None:
        abort(404)
    return task, order_or_404(task.order_id)


@bp.get("/revisits/<int:task_id>")
@role_required(*REVISIT_ROLES)
def revisit(task_id):
    task, order = _task_or_404(task_id)
    return render_template("workorders/revisit.html", task=task, order=order,
                           form=RevisitForm(formdata=None), workflow=load_workflow(),
                           lang=current_language(),
                           can_dial=DIAL_ENDPOINT in current_app.view_functions
                           and current_user.role in DIAL_ROLES,
                           dial_endpoint=DIAL_ENDPOINT)


@bp.post("/revisits/<int:task_id>")
@role_required(*REVISIT_ROLES)
def record_revisit(task_id):
    task, order = _task_or_404(task_id)
    form = RevisitForm()
    if not form.validate_on_submit():
        flash(_("Choose the customer's answer."), "error")
        return redirect(url_for("workorders.revisit", task_id=task.id))
    try:
        service().record_revisit(task, current_user.record, current_user.role,
                                 form.satisfaction.data, (form.comment.data or "").strip())
    except Refused as exc:
        flash(refusal(exc), "error")
        return redirect(url_for("workorders.revisit", task_id=task.id))
    audit.record("workorder.revisit", object_type="work_order", object_id=order.id,
                 detail={"task": task.id, "satisfaction": form.satisfaction.data})
    flash(_("Revisit saved."), "info")
    if form.satisfaction.data == "unreachable":
        return redirect(url_for("workorders.revisits"))
    return redirect(url_for("workorders.detail", order_id=order.id))
