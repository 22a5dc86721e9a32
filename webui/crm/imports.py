"""The import pages: upload, the job's page with its progress bar (htmx polls the
status fragment once a second until the job is finished), and the templates."""
from flask import Response, abort, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from webui import audit
from webui.access import role_required
from webui.crm import bp, importer

IMPORT_ROLES = ("supervisor", "admin")
FIELD_NAMES = {"name": _l("Name"), "account_no": _l("Account number"),
               "region": _l("District"), "community": _l("Community"),
               "address": _l("Address")}
ERRORS = {
    "missing_name": _l("the name is missing"),
    "too_long": _l("%(field)s is longer than %(limit)s characters"),
    "bad_phone": _l("%(number)s is not a valid phone number"),
    "duplicate_phone_in_file": _l("%(number)s is also in row %(other)s"),
    "duplicate_phone_existing": _l("%(number)s already belongs to customer %(customer)s"),
    "duplicate_account_in_file": _l("account number %(account)s is also in row %(other)s"),
    "duplicate_account_existing":
        _l("account number %(account)s already belongs to customer %(customer)s"),
}
FILE_ERRORS = {
    "empty": _l("The file is empty."),
    "no_rows": _l("The file has a header but no customers."),
    "no_name_column": _l("The file has no name column (姓名 or name)."),
    "duplicate_column": _l("The column %(column)s appears twice."),
    "too_many_rows": _l("The file has more than %(limit)s rows; split it."),
    "bad_encoding": _l("The file is neither UTF-8 nor GB18030 text."),
    "bad_csv": _l("The CSV file cannot be read: %(detail)s"),
    "bad_xlsx": _l("The file is not a readable XLSX workbook (%(detail)s)."),
    "bad_format": _l("Upload a .csv or .xlsx file."),
    "internal": _l("The import failed; see the server log."),
}


class ImportForm(FlaskForm):
    file = FileField(_l("CSV or XLSX file"), validators=[FileRequired()])


def describe(code: str, params: dict, table: dict) -> str:
    params = dict(params)
    if "field" in params:
        params["field"] = str(FIELD_NAMES.get(params["field"], params["field"]))
    try:
        return str(table[code]) % params
    except (KeyError, TypeError, ValueError):
        return code


@bp.get("/import")
@role_required(*IMPORT_ROLES)
def import_form():
    return render_template("crm/import.html", form=ImportForm(formdata=None))


@bp.post("/import")
@role_required(*IMPORT_ROLES)
def start_import():
    form = ImportForm()
    if not form.validate_on_submit():
        return render_template("crm/import.html", form=form), 400
    upload = form.file.data
    job = importer.ImportJob(owner_id=current_user.record.id,
                             owner_name=current_user.username,
                             filename=(upload.filename or "")[:255], data=upload.read())
    audit.record("customer.import.start", object_type="import", object_id=job.id,
                 detail={"file": job.filename, "bytes": len(job.data)})
    importer.start(job)
    return redirect(url_for("crm.import_job", job_id=job.id))


def _job_or_404(job_id: str) -> importer.ImportJob:
    job = importer.get(job_id)
    # only the one who started it (or an admin) may follow it
    if job is None or (job.owner_id != current_user.record.id
                       and current_user.role != "admin"):
        abort(404)
    return job


def _status_context(job):
    status = job.snapshot()
    for error in status["errors"]:
        error["text"] = describe(error["code"], error["params"], ERRORS)
    file_error = status["file_error"]
    status["file_error_text"] = (describe(file_error["code"], file_error["params"],
                                          FILE_ERRORS) if file_error else "")
    return status


@bp.get("/import/<job_id>")
@role_required(*IMPORT_ROLES)
def import_job(job_id):
    return render_template("crm/import_job.html", status=_status_context(_job_or_404(job_id)))


@bp.get("/import/<job_id>/status")
@role_required(*IMPORT_ROLES)
def import_status(job_id):
    """The progress fragment htmx swaps in; JSON when asked for."""
    status = _status_context(_job_or_404(job_id))
    if request.accept_mimetypes.best == "application/json":
        return status
    return render_template("crm/_import_status.html", status=status)


@bp.get("/import/template.csv")
@role_required(*IMPORT_ROLES)
def import_template_csv():
    return Response(importer.template_csv(), mimetype="text/csv",
                    headers={"Content-Disposition":
                             "attachment; filename=customers-template.csv"})


@bp.get("/import/template.xlsx")
@role_required(*IMPORT_ROLES)
def import_template_xlsx():
    return Response(importer.template_xlsx(),
                    mimetype="application/vnd.openxmlformats-officedocument."
                             "spreadsheetml.sheet",
                    headers={"Content-Disposition":
                             "attachment; filename=customers-template.xlsx"})
