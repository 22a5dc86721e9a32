"""Admin → Prompts: the message blocked callers hear (upload, TTS, remove); each
change is pushed to the switch (webui.admin.blacklist.push)."""
import logging

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _

from esl_apps.prompts import PromptError
from webui import audit
from webui.access import role_required
from webui.admin import bp
from webui.admin.prompt_files import (
    BLOCKED,
    ROLES,
    clean_text,
    prompts_dir,
    save_blocked,
)
from webui.admin.prompt_forms import (
    RemoveBlockedForm,
)
from webui.admin.prompt_views import bound_form, render_page, upload_refused

log = logging.getLogger(__name__)

def _blocked_saved(action: str, detail: dict):
    from webui.admin.blacklist import push
    audit.record(action, object_type="prompt", object_id=BLOCKED.as_posix(), detail=detail)
    note = push(later=_("Saved; the running Hotline service tells the switch at its next "
                        "full sync (within 5 minutes)."))
    flash(_("Message for blocked callers saved.") + (" " + note if note else ""), "info")
    return redirect(url_for("admin.prompts") + "#blocked")


@bp.post("/prompts/blocked/upload")
@role_required(*ROLES)
def upload_blocked():
    form = bound_form("blocked_upload")
    if not form.validate_on_submit():
        return render_page(blocked_upload=form, status=400)
    data = form.file.data.read()
    refused = upload_refused("blocked_upload", form,
                             lambda: save_blocked(prompts_dir(), data=data),
                             "blocked-caller message")
    if refused:
        return refused
    return _blocked_saved("prompt.blocked.upload", {
        "filename": (form.file.data.filename or "")[:255], "bytes": len(data)})


@bp.post("/prompts/blocked/tts")
@role_required(*ROLES)
def tts_blocked():
    form = bound_form("blocked_text")
    if not form.validate_on_submit():
        return render_page(blocked_text=form, status=400)
    text = clean_text(form.text.data)
    if text is None:
        form.text.errors.append(_("Give the text to speak."))
        return render_page(blocked_text=form, status=400)
    try:
        save_blocked(prompts_dir(), text=text, language=form.language.data)
    except (PromptError, OSError) as exc:
        log.error("blocked-caller message: %s", exc)
        form.text.errors.append(_("The text could not be spoken: %(error)s The prompt was "
                                  "not changed.", error=str(exc)))
        return render_page(blocked_text=form, status=500)
    return _blocked_saved("prompt.blocked.tts", {"language": form.language.data,
                                                 "text": text})


@bp.post("/prompts/blocked/remove")
@role_required(*ROLES)
def remove_blocked():
    if not RemoveBlockedForm().validate_on_submit():
        abort(400)
    path = prompts_dir() / BLOCKED
    path.unlink(missing_ok=True)
    path.with_suffix(".txt").unlink(missing_ok=True)
    from webui.admin.blacklist import push
    audit.record("prompt.blocked.remove", object_type="prompt", object_id=BLOCKED.as_posix())
    note = push(later=_("Saved; the running Hotline service tells the switch at its next "
                        "full sync (within 5 minutes)."))
    flash(_("Blocked callers now hear busy.") + (" " + note if note else ""), "info")
    return redirect(url_for("admin.prompts") + "#blocked")

