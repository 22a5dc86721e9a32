"""Admin → Prompts: the page, the panel prompts' upload and TTS, and playing a file."""
import logging

from flask import abort, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _

from esl_apps.prompts import PromptError
from webui import audit
from webui.access import role_required
from webui.admin import bp
from webui.admin.flows import load_current
from webui.admin.prompt_files import (
    LANGUAGE_NAMES,
    MAX_TEXT,
    ROLES,
    UploadError,
    blocked_message,
    clean_text,
    custom_path,
    flow_reference,
    prompts_dir,
    save_text,
    save_upload,
)
from webui.admin.prompt_forms import (
    BlockedTextForm,
    BlockedUploadForm,
    BuildForm,
    BuiltinTtsForm,
    BuiltinUploadForm,
    RemoveBlockedForm,
    TextForm,
    UploadForm,
)
from webui.admin.prompt_listing import builtin_prompts, custom_prompts, playable
from webui.admin.prompts import running_job

log = logging.getLogger(__name__)

FORMS = {"upload": (UploadForm, "upload"), "text_form": (TextForm, "tts"),
         "blocked_upload": (BlockedUploadForm, "blocked"),
         "blocked_text": (BlockedTextForm, "blocked-tts"),
         "builtin_upload": (BuiltinUploadForm, ""), "builtin_tts": (BuiltinTtsForm, "")}


def bound_form(key):
    form_class, prefix = FORMS[key]
    return form_class(prefix=prefix)


def render_page(status=200, **forms):
    """The page; `forms` holds a submitted form (with its errors) by its FORMS key."""
    root = prompts_dir()
    flows, _errors = load_current()
    for key, (form_class, prefix) in FORMS.items():
        forms.setdefault(key, form_class(formdata=None, prefix=prefix))
    response = render_template(
        "admin/prompts.html", custom=custom_prompts(root, flows),
        builtins=builtin_prompts(root), blocked=blocked_message(root),
        languages=list(LANGUAGE_NAMES.items()), build=BuildForm(formdata=None),
        remove_blocked=RemoveBlockedForm(formdata=None), job=running_job(), max_text=MAX_TEXT, **forms)
    return response, status


def upload_refused(key, form, save, what):
    """Run `save()` for the upload `form` (bound as FORMS[key]); when the upload is
    not usable audio or cannot be written, the page with the error on the form's
    file (the old prompt kept), else None."""
    try:
        save()
        return None
    except UploadError as exc:
        error, status = _("%(error)s The prompt was not changed.", error=str(exc)), 400
    except (PromptError, OSError) as exc:
        log.error("%s: %s", what, exc)
        error, status = _("The prompt could not be saved: %(error)s", error=str(exc)), 500
    form.file.errors.append(error)
    return render_page(status=status, **{key: form})


@bp.get("/prompts")
@role_required(*ROLES)
def prompts():
    return render_page()


@bp.post("/prompts/upload")
@role_required(*ROLES)
def upload_prompt():
    form = bound_form("upload")
    if not form.validate_on_submit():
        return render_page(upload=form, status=400)
    language, name = form.language.data, form.name.data
    data = form.file.data.read()
    root = prompts_dir()
    existed = custom_path(root, language, name).is_file()
    refused = upload_refused("upload", form, lambda: save_upload(root, language, name, data),
                             f"prompt {language}/{name}")
    if refused:
        return refused
    audit.record("prompt.upload", object_type="prompt", object_id=flow_reference(language, name),
                 detail={"language": language, "name": name, "replaced": existed,
                         "filename": (form.file.data.filename or "")[:255],
                         "bytes": len(data)})
    flash(_("Prompt %(file)s saved. A flow plays it with: file: %(file)s",
            file=flow_reference(language, name)), "info")
    return redirect(url_for("admin.prompts"))


@bp.post("/prompts/tts")
@role_required(*ROLES)
def tts_prompt():
    form = bound_form("text_form")
    if not form.validate_on_submit():
        return render_page(text_form=form, status=400)
    text = clean_text(form.text.data)
    if text is None:
        form.text.errors.append(_("Give the text to speak."))
        return render_page(text_form=form, status=400)
    language, name = form.language.data, form.name.data
    root = prompts_dir()
    existed = custom_path(root, language, name).is_file()
    try:
        save_text(root, language, name, text)
    except (PromptError, OSError) as exc:
        log.error("prompt %s/%s: %s", language, name, exc)
        form.text.errors.append(_("The text could not be spoken: %(error)s The prompt was "
                                  "not changed.", error=str(exc)))
        return render_page(text_form=form, status=500)
    audit.record("prompt.tts", object_type="prompt", object_id=flow_reference(language, name),
                 detail={"language": language, "name": name, "replaced": existed,
                         "text": text})
    flash(_("Prompt %(file)s saved. A flow plays it with: file: %(file)s",
            file=flow_reference(language, name)), "info")
    return redirect(url_for("admin.prompts"))



@bp.get("/prompts/play/<path:filename>")
@role_required(*ROLES)
def play_prompt(filename):
    path = playable(prompts_dir(), filename)
    if path is None:
        abort(404)
    return send_file(path, mimetype="audio/wav", conditional=True, max_age=0)

