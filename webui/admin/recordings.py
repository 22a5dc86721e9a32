"""Admin → Recordings (roles admin, supervisor, qa): search agent-call recordings by
date, agent, caller number or call UUID; play them in the browser or download them.

Only a file named by a Recording row is ever served, and only when its path
resolves inside recordings_dir (a path the switch wrote; a relative one is taken
under recordings_dir); a deleted (purged) recording, a missing file or a format
other than WAV or Ogg is 404. Every play and download is written to the audit log;
the browser's later Range requests for the rest of the same file (bytes=N- with
N > 0) are not logged again.
"""
import datetime
from pathlib import Path

from flask import abort, current_app, render_template, request, send_file
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, Regexp

from db.models import Agent, CallRecord, Recording
from webui import audit
from webui.access import role_required
from webui.admin import bp

ROLES = ("admin", "supervisor", "qa")
MIME = {".wav": "audio/wav", ".ogg": "audio/ogg", ".oga": "audio/ogg"}
PAGE_SIZE = 200


class SearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    agent = SelectField(_l("Agent"), validators=[Optional()], validate_choice=False)
    caller = StringField(_l("Caller number"), validators=[
        Optional(), Length(max=64), Regexp(r"^[0-9+*#]+$", message=_l("Digits only."))])
    call_uuid = StringField(_l("Call UUID"), validators=[
        Optional(), Length(max=64), Regexp(r"^[0-9A-Za-z-]+$", message=_l("Not a call UUID."))])


def search(form: SearchForm):
    query = (Recording.select(Recording, CallRecord)
             .join(CallRecord).order_by(Recording.created_at.desc(), Recording.id.desc()))
    if form.date_from.data:
        query = query.where(Recording.created_at >= datetime.datetime.combine(
            form.date_from.data, datetime.time()))
    if form.date_to.data:
        query = query.where(Recording.created_at < datetime.datetime.combine(
            form.date_to.data + datetime.timedelta(days=1), datetime.time()))
    if form.agent.data and form.agent.data.isdigit():
        query = query.where(Recording.agent == int(form.agent.data))
    if form.caller.data:
        query = query.where(CallRecord.caller.contains(form.caller.data))
    if form.call_uuid.data:
        query = query.where(Recording.call_uuid.startswith(form.call_uuid.data))
    return list(query.limit(PAGE_SIZE))


@bp.get("/recordings")
@role_required(*ROLES)
def recordings():
    form = SearchForm(request.args)
    form.agent.choices = [SelectChoice("", "—")] + [
        SelectChoice(str(a.id), f"{a.extension} {a.display_name}")
        for a in Agent.select().order_by(Agent.extension)]
    valid = form.validate() if request.args else True
    rows = search(form) if valid else []
    return render_template("admin/recordings.html", form=form, rows=rows,
                           limit=PAGE_SIZE), (200 if valid else 400)


def recordings_dir() -> Path:
    return Path(current_app.config["HOTLINE_CONFIG"].dirs["recordings_dir"])


def recording_file(recording: Recording) -> Path | None:
    """The recording's file, when it is one we may serve; else None."""
    if recording.deleted_at is not None or not recording.path:
        return None
    root = recordings_dir().resolve()
    try:
        path = (root / recording.path).resolve(strict=True)
    except (OSError, RuntimeError, ValueError):
        return None
    if not path.is_relative_to(root) or not path.is_file() or path.suffix.lower() not in MIME:
        return None
    return path


def _serve(recording_id: int, action: str, attachment: bool):
    recording = Recording.get_or_none(Recording.id == recording_id)
    path = recording_file(recording) if recording is not None else None
    if path is None:
        abort(404)
    if _starts_a_play():
        audit.record(action, object_type="recording", object_id=recording.id,
                     detail={"call_uuid": recording.call_uuid, "file": path.name})
    return send_file(path, mimetype=MIME[path.suffix.lower()], conditional=True,
                     as_attachment=attachment, download_name=path.name, max_age=0)


def _starts_a_play() -> bool:
    """False for a Range request that continues a file already being fetched."""
    ranges = request.range
    if ranges is None or not ranges.ranges:
        return True
    return ranges.ranges[0][0] == 0


@bp.get("/recordings/<int:recording_id>/play")
@role_required(*ROLES)
def play_recording(recording_id):
    return _serve(recording_id, "recording.play", attachment=False)


@bp.get("/recordings/<int:recording_id>/download")
@role_required(*ROLES)
def download_recording(recording_id):
    return _serve(recording_id, "recording.download", attachment=True)
