"""Deadline extensions (延期申请): a field worker asks for more business time on
an order of theirs; a supervisor approves or refuses it on the order's page."""
from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from db.models import DeadlineExtension
from esl_apps.workorders.service import EXTENSION_MAX_MINUTES, Refused
from webui import audit
from webui.access import role_required
from webui.workorders import DECIDE_ROLES, bp, order_or_404, refusal, service


class ExtensionForm(FlaskForm):
    hours = IntegerField(_l("Extra business hours"), validators=[
        InputRequired(), NumberRange(min=1, max=EXTENSION_MAX_MINUTES // 60)])
    reason = TextAreaField(_l("Reason"), validators=[InputRequired(), Length(max=1000)])


class DecideForm(FlaskForm):
    decision = HiddenField(validators=[InputRequired()])
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=1000)])


@bp.post("/<int:order_id>/extensions")
@role_required("field")
def request_extension(order_id):
    order = order_or_404(order_id)
    form = ExtensionForm()
    back = url_for("workorders.mine") if request.form.get("back") == "mine" \
        else url_for("workorders.detail", order_id=order.id)
    if not form.validate_on_submit():
        flash(_("Give the extra hours (1 to 720) and a reason."), "error")
        return redirect(back)
    try:
        ext = service().request_extension(order, current_user.record, form.hours.data * 60,
                                          form.reason.data.strip())
    except Refused as exc:
        flash(refusal(exc), "error")
        return redirect(back)
    audit.record("workorder.extension_request", object_type="work_order", object_id=order.id,
                 detail={"extension": ext.id, "minutes": ext.minutes})
    flash(_("Extension requested; a supervisor decides."), "info")
    return redirect(back)


@bp.post("/extensions/<int:extension_id>")
@role_required(*DECIDE_ROLES)
def decide_extension(extension_id):
    ext = DeadlineExtension.get_or_none(DeadlineExtension.id == extension_id)
    if ext is None:
        abort(404)
    order = order_or_404(ext.order_id)
    form = DecideForm()
    if not form.validate_on_submit() or form.decision.data not in ("approve", "refuse"):
        abort(400)
    approve = form.decision.data == "approve"
    try:
        service().decide_extension(ext, current_user.record, approve,
                                   (form.comment.data or "").strip())
    except Refused as exc:
        flash(refusal(exc), "error")
        return redirect(url_for("workorders.detail", order_id=order.id))
    audit.record("workorder.extension_" + ("approve" if approve else "refuse"),
                 object_type="work_order", object_id=order.id, detail={"extension": ext.id})
    flash(_("Extension approved.") if approve else _("Extension refused."), "info")
    return redirect(url_for("workorders.detail", order_id=order.id))
