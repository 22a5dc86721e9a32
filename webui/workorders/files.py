"""Photos on an order (uploaded by field staff and others who may see it) and
their download; the linked call recordings are listed on the order's page and
played on Admin → Recordings (roles that may hear recordings).

Upload: JPEG, PNG or WebP only (checked by content), at most PHOTO_MAX_BYTES;
stored under a random name (esl_apps.workorders.storage). Download checks that
the user may see the order, and sends the file with its checked type."""
import logging

from flask import abort, flash, redirect, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from db.models import WorkOrderAttachment, database, utcnow
from esl_apps.workorders import storage
from esl_apps.workorders.service import add_event
from webui import audit
from webui.access import role_required
from webui.workorders import VIEW_ROLES, bp, files_root, order_or_404

log = logging.getLogger(__name__)


class UploadForm(FlaskForm):
    photo = FileField(_l("Photo"), validators=[FileRequired()])


@bp.post("/<int:order_id>/photos")
@role_required(*VIEW_ROLES)
def upload(order_id):
    order = order_or_404(order_id)
    form = UploadForm()
    back = url_for("workorders.mine") if request.form.get("back") == "mine" \
        and current_user.role == "field" else url_for("workorders.detail", order_id=order.id)
    if not form.validate_on_submit():
        flash(_("Choose a photo to upload."), "error")
        return redirect(back)
    upload = form.photo.data
    try:
        stored, content_type, size = storage.save_photo(files_root(), order.id, upload.stream)
    except storage.NotAnImage as exc:
        log.info("work order %s: upload refused (%s)", order.number, exc)
        flash(_("Only JPEG, PNG or WebP photos up to %(mb)s MB.",
                mb=storage.PHOTO_MAX_BYTES // (1024 * 1024)), "error")
        return redirect(back)
    name = (upload.filename or "")[:255]
    with database.atomic():
        attachment = WorkOrderAttachment.create(
            order=order.id, kind="photo", filename=name, stored_name=stored,
            content_type=content_type, size_bytes=size, uploaded_by=current_user.record,
            uploaded_at=utcnow())
        add_event(order, "attachment", current_user.record, name, attachment=attachment.id)
    audit.record("workorder.photo", object_type="work_order", object_id=order.id,
                 detail={"attachment": attachment.id, "bytes": size})
    flash(_("Photo added."), "info")
    return redirect(back)


@bp.get("/attachments/<int:attachment_id>")
@role_required(*VIEW_ROLES)
def attachment(attachment_id):
    row = WorkOrderAttachment.get_or_none(WorkOrderAttachment.id == attachment_id)
    if row is None or row.kind != "photo":
        abort(404)
    order_or_404(row.order_id)   # the same 404 for an order the user may not see
    try:
        path = storage.photo_path(files_root(), row.order_id, row.stored_name)
    except ValueError:
        abort(404)
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype=row.content_type, max_age=0,
                     download_name=row.stored_name)
