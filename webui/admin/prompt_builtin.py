"""Admin → Prompts: Hotline's built-in prompts and the fallback replaced by a recording
(esl_apps.prompts.override), and back to TTS. Each change is written to the file
calls play at once, without a build."""
import logging

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _

from esl_apps.prompts import PromptError, override
from webui import audit
from webui.access import role_required
from webui.admin import bp
from webui.admin.prompt_files import ROLES, decode, prompts_dir
from webui.admin.prompt_views import bound_form, render_page, upload_refused

log = logging.getLogger(__name__)


def _audit(action: str, job, detail: dict) -> None:
    audit.record(action, object_type="prompt",
                 object_id=job.override.relative_to(prompts_dir()).as_posix(),
                 detail={"prompt": job.ident, **detail})


def _back():
    return redirect(url_for("admin.prompts") + "#builtin")


@bp.post("/prompts/builtin/upload")
@role_required(*ROLES)
def upload_builtin():
    form = bound_form("builtin_upload")
    if not form.validate_on_submit():
        return render_page(builtin_upload=form, status=400)
    root = prompts_dir()
    job = override.find(root, form.prompt.data)
    data = form.file.data.read()
    replaced = job.override.is_file()
    refused = upload_refused("builtin_upload", form,
                             lambda: override.install(root, job, decode(data)),
                             f"built-in prompt {job.ident}")
    if refused:
        return refused
    _audit("prompt.builtin.upload", job, {
        "replaced": replaced, "filename": (form.file.data.filename or "")[:255],
        "bytes": len(data)})
    flash(_("Built-in prompt %(prompt)s now plays your recording.", prompt=job.ident), "info")
    return _back()


@bp.post("/prompts/builtin/tts")
@role_required(*ROLES)
def tts_builtin():
    form = bound_form("builtin_tts")
    if not form.validate_on_submit():
        abort(400)
    root = prompts_dir()
    job = override.find(root, form.prompt.data)
    if not job.override.is_file():
        flash(_("Built-in prompt %(prompt)s already plays its TTS text.", prompt=job.ident),
              "info")
        return _back()
    try:
        override.remove(root, job)
    except (PromptError, OSError) as exc:
        log.error("built-in prompt %s: %s", job.ident, exc)
        form.prompt.errors.append(_("The text could not be spoken: %(error)s The recording "
                                    "stays.", error=str(exc)))
        return render_page(builtin_tts=form, status=500)
    _audit("prompt.builtin.tts", job, {})
    flash(_("Built-in prompt %(prompt)s is spoken by TTS again.", prompt=job.ident), "info")
    return _back()
