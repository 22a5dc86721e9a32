"""Admin → Notifications: the e-mail and SMS queue (esl_apps.notify), newest first,
with status, attempts and the last error; a failed one can be queued again (its
attempts start over). Nothing is ever deleted here, so no failure goes unseen."""
import logging

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from db.models import NOTIFY_STATUSES, Notification
from esl_apps.notify.sender import retry
from webui import audit
from webui.access import role_required
from webui.admin import bp

log = logging.getLogger(__name__)

LIMIT = 200
STATUS_NAMES = {"pending": _l("Pending"), "sending": _l("Sending"), "sent": _l("Sent"),
                "failed": _l("Failed")}
EVENT_NAMES = {"dispatch": _l("Dispatch"), "sla_warning": _l("SLA warning"),
               "sla_breach": _l("SLA breach"), "closed": _l("Order closed")}


class RetryForm(FlaskForm):
    """Nothing but the CSRF token."""


@bp.get("/notifications")
@role_required("admin", "supervisor")
def notifications():
    status = request.args.get("status", "")
    rows = Notification.select().order_by(Notification.created_at.desc(),
                                          Notification.id.desc())
    if status in NOTIFY_STATUSES:
        rows = rows.where(Notification.status == status)
    else:
        status = ""
    counts = {s: Notification.select().where(Notification.status == s).count()
              for s in NOTIFY_STATUSES}
    return render_template("admin/notifications.html", rows=list(rows.limit(LIMIT)),
                           status=status, counts=counts, limit=LIMIT,
                           status_names=STATUS_NAMES, event_names=EVENT_NAMES,
                           form=RetryForm())


@bp.post("/notifications/<int:notification_id>/retry")
@role_required("admin", "supervisor")
def retry_notification(notification_id):
    notification = Notification.get_or_none(Notification.id == notification_id)
    if notification is None:
        abort(404)
    if not RetryForm().validate_on_submit():
        abort(400)
    if retry(notification.id):
        audit.record("notification.retry", object_type="notification",
                     object_id=notification.id,
                     detail={"channel": notification.channel,
                             "recipient": notification.recipient,
                             "attempts": notification.attempts,
                             "last_error": notification.last_error})
        flash(_("Notification %(id)s queued again.", id=notification.id), "info")
    else:
        flash(_("Only a failed notification can be retried."), "error")
    return redirect(url_for("admin.notifications", status=request.args.get("status", "")))
