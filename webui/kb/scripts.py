"""Call scripts (话术): what to say for calls of a note category. The desk shows the
scripts of the category picked for the call and of its parent categories."""
import logging

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from db.models import CallScript, NoteCategory, database, utcnow
from webui import audit
from webui.access import role_required
from webui.i18n import current_language
from webui.kb import DESK_READERS, EDITORS, bp
from webui.kb.forms import ActionForm, ScriptForm

log = logging.getLogger(__name__)


def category_name(category) -> str:
    return category.name_zh if current_language() == "zh_CN" else category.name_en


def category_tree() -> list[tuple[int, str, int, list[int]]]:
    """(id, name, depth, path of ids from the root) for every note category,
    depth-first by position; path lets the desk show a parent's scripts too."""
    rows = list(NoteCategory.select().order_by(NoteCategory.position, NoteCategory.id))
    children: dict = {}
    for row in rows:
        children.setdefault(row.parent_id, []).append(row)
    out = []

    def walk(parent, depth, path):
        for row in children.get(parent, []):
            out.append((row.id, category_name(row), depth, path + [row.id]))
            walk(row.id, depth + 1, path + [row.id])

    walk(None, 0, [])
    return out


def _choices():
    return [(cid, "\u3000" * depth + name) for cid, name, depth, _path in category_tree()]


def _page(form=None, status=200):
    scripts = list(CallScript.select(CallScript, NoteCategory).join(NoteCategory)
                   .order_by(NoteCategory.position, NoteCategory.id, CallScript.position,
                             CallScript.id))
    if form is None:
        form = ScriptForm(formdata=None)
    form.category.choices = _choices()
    return render_template("kb/scripts.html", scripts=scripts, form=form,
                           category_name=category_name, delete_form=ActionForm(),
                           can_edit=current_user.role in EDITORS), status


@bp.get("/scripts")
@role_required(*DESK_READERS)
def scripts():
    return _page()


@bp.post("/scripts")
@role_required(*EDITORS)
def create_script():
    form = ScriptForm()
    form.category.choices = _choices()
    if not form.validate_on_submit():
        return _page(form, 400)
    with database.atomic():
        script = CallScript.create(category=form.category.data,
                                   title=form.title.data.strip(),
                                   body=form.body.data.strip(),
                                   position=form.position.data or 0,
                                   active=form.active.data)
    audit.record("kb.script.create", object_type="call_script", object_id=script.id,
                 detail={"title": script.title, "category": form.category.data})
    return redirect(url_for("kb.scripts"))


def _script_or_404(script_id) -> CallScript:
    script = CallScript.get_or_none(CallScript.id == script_id)
    if script is None:
        abort(404)
    return script


def _edit_page(script, form, status=200):
    form.category.choices = _choices()
    return render_template("kb/script_form.html", script=script, form=form), status


@bp.get("/scripts/<int:script_id>/edit")
@role_required(*EDITORS)
def edit_script(script_id):
    script = _script_or_404(script_id)
    form = ScriptForm(formdata=None, obj=script)
    form.category.data = script.category_id
    return _edit_page(script, form)


@bp.post("/scripts/<int:script_id>/edit")
@role_required(*EDITORS)
def update_script(script_id):
    script = _script_or_404(script_id)
    form = ScriptForm()
    form.category.choices = _choices()
    if not form.validate_on_submit():
        return _edit_page(script, form, 400)
    (CallScript.update(category=form.category.data, title=form.title.data.strip(),
                       body=form.body.data.strip(), position=form.position.data or 0,
                       active=form.active.data, updated_at=utcnow())
     .where(CallScript.id == script.id).execute())
    audit.record("kb.script.update", object_type="call_script", object_id=script.id,
                 detail={"title": form.title.data.strip(), "category": form.category.data,
                         "active": form.active.data})
    return redirect(url_for("kb.scripts"))


@bp.post("/scripts/<int:script_id>/delete")
@role_required(*EDITORS)
def delete_script(script_id):
    script = _script_or_404(script_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    script.delete_instance()
    audit.record("kb.script.delete", object_type="call_script", object_id=script_id,
                 detail={"title": script.title})
    flash(_("Script deleted: %(title)s", title=script.title), "info")
    return redirect(url_for("kb.scripts"))
