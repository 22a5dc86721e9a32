"""Admin → Prompts (roles admin and designer): the sound files a flow can name.

The panel's own prompts live in <prompts_dir>/custom/<language>/<name>.wav, in the
switch's format (8000 Hz mono 16-bit WAV, esl_apps.prompts.audio). A flow plays
one with a file prompt, `prompt: {file: custom/zh/welcome.wav}`: the flow loader
looks for a prompt file beside the flow, then in the prompts directory
(esl_apps.prompts.paths.find_source), and the switch plays the converted copy
paths.file_path names. Each save writes that copy too, so a flow already naming
the prompt plays the new sound at once, without `hotline prompts build`.

A prompt is made from an uploaded WAV, MP3 or Ogg file (recognised by its first
bytes, decoded by ffmpeg or SoX when it is not PCM WAV, then converted by pydub),
or from TTS text spoken by espeak-ng (esl_apps.prompts.tts: voice cmn for zh).
The text is kept beside the sound as <name>.txt. Every file is written to a
temporary file first and moved over the old one only when it is complete, so a
bad upload keeps the old prompt.

"Build all prompts" runs `hotline prompts build` in the background (the flows'
prompts, the say files, the built-in prompts, hold music), after re-speaking any
panel prompt whose text is newer than its sound; the page polls its progress.
"""
import logging
import os
import re
import shutil
import struct
import subprocess
import tempfile
import threading
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path

from flask import abort, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, InputRequired, Length, Regexp

from esl_apps.ivr.loader import load_flows
from esl_apps.ivr.verbs.base import iter_prompts
from esl_apps.prompts import PromptError, audio, tts
from esl_apps.prompts.build import build as build_prompts
from esl_apps.prompts.builtin import BUILTINS
from esl_apps.prompts.paths import LANGUAGES, builtin_path, file_path
from esl_apps.waiting.moh import build_moh
from webui import audit
from webui.access import role_required
from webui.admin import bp
from webui.admin.flows import config, load_current

log = logging.getLogger(__name__)

ROLES = ("admin", "designer")
CUSTOM = "custom"
NAME_RE = r"^[a-z0-9][a-z0-9_-]{0,47}$"
PLAYABLE = re.compile(r"^(?:(?:custom|builtin)/(?:zh|en)/[a-z0-9][a-z0-9_-]{0,47}\.wav"
                      r"|blacklist/blocked\.wav)$")
# the message blocked callers hear (esl_apps.blacklist.service pushes its path)
BLOCKED = Path("blacklist") / "blocked.wav"
LANGUAGE_NAMES = {"zh": "中文", "en": "English"}
MAX_TEXT = 500
MIN_SECONDS, MAX_SECONDS = 0.2, 600
DECODE_TIMEOUT = 60
JOB_TTL = 3600


class UploadError(Exception):
    """An upload that cannot become a prompt; the message is for the user."""


def _language_choices():
    return [SelectChoice(code, LANGUAGE_NAMES[code]) for code in LANGUAGES]


class UploadForm(FlaskForm):
    language = SelectField(_l("Language"), choices=_language_choices,
                           validators=[InputRequired()])
    name = StringField(_l("Prompt name"), validators=[
        InputRequired(), Regexp(NAME_RE, message=_l(
            "Lower-case letters, digits, - and _ (at most 48), starting with a letter "
            "or digit."))])
    file = FileField(_l("Sound file (WAV, MP3 or OGG)"), validators=[FileRequired()])


class TextForm(FlaskForm):
    language = SelectField(_l("Language"), choices=_language_choices,
                           validators=[InputRequired()])
    name = StringField(_l("Prompt name"), validators=[
        InputRequired(), Regexp(NAME_RE, message=_l(
            "Lower-case letters, digits, - and _ (at most 48), starting with a letter "
            "or digit."))])
    text = TextAreaField(_l("Text to speak"), validators=[InputRequired(),
                                                          Length(max=MAX_TEXT)])


class BlockedUploadForm(FlaskForm):
    file = FileField(_l("Sound file (WAV, MP3 or OGG)"), validators=[FileRequired()])


class BlockedTextForm(FlaskForm):
    language = SelectField(_l("Language"), choices=_language_choices,
                           validators=[InputRequired()])
    text = TextAreaField(_l("Text to speak"), validators=[InputRequired(),
                                                          Length(max=MAX_TEXT)])


class RemoveBlockedForm(FlaskForm):
    confirm = HiddenField(validators=[InputRequired(), AnyOf(["remove"])])


class BuildForm(FlaskForm):
    scope = HiddenField(validators=[InputRequired(), AnyOf(["all"])])


# files ------------------------------------------------------------------------

def prompts_dir() -> Path:
    return Path(config().dirs["prompts_dir"])


def custom_path(root: Path, language: str, name: str) -> Path:
    return Path(root) / CUSTOM / language / f"{name}.wav"


def flow_reference(language: str, name: str) -> str:
    """What a flow writes as the prompt's `file`."""
    return f"{CUSTOM}/{language}/{name}.wav"


def publish(root: Path, path: Path) -> Path:
    """The converted copy the switch plays for a flow's `file:` prompt naming `path`
    (what the build's FileJob makes), written now so no build is needed."""
    return audio.convert(path, file_path(root, path))


def sniff(data: bytes) -> str | None:
    """wav, ogg or mp3 from the first bytes; None for anything else."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:4] == b"OggS":
        return "ogg"
    if data[:3] == b"ID3" or (len(data) > 2 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0
                              and data[1] & 0x06):  # an MPEG audio frame, layer I-III
        return "mp3"
    return None


def _pcm(data: bytes):
    try:
        return audio.AudioSegment(data=data)
    except (audio.CouldntDecodeError, ValueError, EOFError, IndexError, struct.error):
        return None


def _external(data: bytes, kind: str):
    """Decode with ffmpeg when installed, else SoX (Debian: libsox-fmt-base reads
    Ogg Vorbis and WAV; MP3 needs libsox-fmt-mp3)."""
    ffmpeg, sox = shutil.which("ffmpeg"), shutil.which("sox")
    if not ffmpeg and not sox:
        raise UploadError(_("This server cannot read %(format)s files (install ffmpeg or "
                            "SoX); upload a PCM WAV file instead.", format=kind.upper()))
    with tempfile.TemporaryDirectory(prefix="hotline-upload-") as tmp:
        source, output = Path(tmp) / f"upload.{kind}", Path(tmp) / "decoded.wav"
        source.write_bytes(data)
        if ffmpeg:
            args = [ffmpeg, "-nostdin", "-v", "error", "-f", kind, "-i", str(source),
                    "-ac", "1", "-ar", str(audio.RATE), "-c:a", "pcm_s16le", str(output)]
        else:
            args = [sox, "-t", kind, str(source), "-t", "wav", "-e", "signed-integer",
                    "-b", "16", "-c", "1", "-r", str(audio.RATE), str(output)]
        try:
            done = subprocess.run(args, capture_output=True, timeout=DECODE_TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            raise UploadError(_("Reading the file took too long.")) from None
        stderr = done.stderr.decode("utf-8", "replace")
        if done.returncode != 0 or not output.is_file():
            if "no handler" in stderr:
                raise UploadError(_(
                    "This server cannot read %(format)s files (install ffmpeg or "
                    "libsox-fmt-mp3); upload a WAV or OGG file instead.",
                    format=kind.upper()))
            log.info("prompt upload: %s could not decode a %s file: %s",
                     Path(args[0]).name, kind, stderr.strip()[-300:])
            return None
        return _pcm(output.read_bytes())


def decode(data: bytes):
    """The uploaded bytes as a pydub AudioSegment; UploadError when they are not
    usable audio."""
    kind = sniff(data)
    if kind is None:
        raise UploadError(_("This is not an audio file: upload a WAV, MP3 or OGG file."))
    segment = _pcm(data) if kind == "wav" else None
    if segment is None:  # compressed, or a WAV that is not integer PCM (A-law, float)
        segment = _external(data, kind)
    if segment is None:
        raise UploadError(_("The file could not be read as %(format)s audio.",
                            format=kind.upper()))
    seconds = len(segment) / 1000
    if seconds < MIN_SECONDS:
        raise UploadError(_("The sound is too short (%(seconds).1f s).", seconds=seconds))
    if seconds > MAX_SECONDS:
        raise UploadError(_("The sound is longer than %(minutes)s minutes.",
                            minutes=MAX_SECONDS // 60))
    return segment


def save_upload(root: Path, language: str, name: str, data: bytes) -> Path:
    path = custom_path(root, language, name)
    audio.write_wav(decode(data), path)   # atomic: the old file stays on any error
    path.with_suffix(".txt").unlink(missing_ok=True)   # a recording now, not TTS
    publish(root, path)
    return path


def _write_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
    with open(fd, "w", encoding="utf-8") as out:
        out.write(text)
    Path(tmp).replace(path)


def save_text(root: Path, language: str, name: str, text: str) -> Path:
    path = custom_path(root, language, name)
    tts.render(text, language, path)   # PromptError when espeak-ng fails; old file kept
    _write_text(path.with_suffix(".txt"), text)
    os.utime(path)   # the sound is not older than its text: the build keeps it
    publish(root, path)
    return path


def save_blocked(root: Path, data: bytes | None = None, text: str | None = None,
                 language: str = "zh") -> Path:
    """The blocked-caller message from an upload or from TTS text (old file kept on error)."""
    path = Path(root) / BLOCKED
    if data is not None:
        audio.write_wav(decode(data), path)
        path.with_suffix(".txt").unlink(missing_ok=True)
    else:
        tts.render(text, language, path)
        _write_text(path.with_suffix(".txt"), text)
    return path


def blocked_message(root: Path) -> dict | None:
    path = Path(root) / BLOCKED
    if not path.is_file():
        return None
    text_file = path.with_suffix(".txt")
    try:
        text = text_file.read_text(encoding="utf-8") if text_file.is_file() else None
    except OSError:
        text = None
    return {"file": BLOCKED.as_posix(), "text": text, "seconds": _seconds(path)}


def clean_text(text: str) -> str | None:
    """One or more lines of text without control characters; None when unusable."""
    text = " ".join((text or "").split())
    if not text or any(ord(c) < 32 or ord(c) == 127 for c in text):
        return None
    return text


def _seconds(path: Path) -> float | None:
    try:
        with wave.open(str(path), "rb") as wav:
            return round(wav.getnframes() / wav.getframerate(), 1)
    except (OSError, EOFError, wave.Error, ZeroDivisionError):
        return None


def _used_by(flows) -> dict[str, list[str]]:
    """{file as written in a flow: [flow.node, ...]} for every file prompt."""
    used: dict[str, list[str]] = {}
    for flow in flows.values():
        for node_name, node in flow.nodes.items():
            for _where, prompt in iter_prompts(node):
                if prompt.file is not None:
                    key = Path(prompt.file).as_posix().lstrip("./")
                    used.setdefault(key, []).append(f"{flow.name}.{node_name}")
    return used


def custom_prompts(root: Path, flows=None) -> dict[str, list[dict]]:
    """{language: [prompt, ...]}, each with its name, source text, length and users."""
    used = _used_by(flows or {})
    listing = {}
    for language in LANGUAGES:
        folder = Path(root) / CUSTOM / language
        rows = []
        files = sorted(folder.glob("*.wav")) if folder.is_dir() else []
        for path in files:
            if not re.match(NAME_RE, path.stem):
                continue
            text_file = path.with_suffix(".txt")
            try:
                text = text_file.read_text(encoding="utf-8") if text_file.is_file() else None
                stat = path.stat()
            except OSError:
                continue
            reference = flow_reference(language, path.stem)
            rows.append({"name": path.stem, "language": language, "text": text,
                         "file": reference, "seconds": _seconds(path),
                         "modified": time.strftime("%Y-%m-%d %H:%M",
                                                   time.localtime(stat.st_mtime)),
                         "used_by": used.get(reference, [])})
        listing[language] = rows
    return listing


def builtin_prompts(root: Path) -> dict[str, list[dict]]:
    listing = {}
    for language in LANGUAGES:
        rows = []
        for name, texts in BUILTINS.items():
            path = builtin_path(root, language, name)
            rows.append({"name": name, "text": texts[language],
                         "file": path.relative_to(root).as_posix() if path.is_file() else None})
        listing[language] = rows
    return listing


def playable(root: Path, filename: str) -> Path | None:
    """The file under the prompts dir that `filename` names, if the page may serve it."""
    if not PLAYABLE.match(filename or ""):
        return None
    base = Path(root).resolve()
    try:
        path = (base / filename).resolve(strict=True)
    except (OSError, RuntimeError, ValueError):
        return None
    if not path.is_relative_to(base) or not path.is_file():
        return None
    return path


# the background build -----------------------------------------------------------

@dataclass
class BuildJob:
    prompts_dir: Path
    flows_dir: Path
    moh_dir: Path | None = None
    started_by: str = ""
    id: str = field(default_factory=lambda: f"{time.time_ns():x}")
    state: str = "queued"    # queued, running, done, failed
    done: int = 0
    total: int = 0
    current: str = ""
    built: int = 0
    cached: int = 0
    failed: list = field(default_factory=list)   # (label, reason)
    flow_errors: int = 0
    error: str = ""
    finished: float | None = None
    finished_event: threading.Event = field(default_factory=threading.Event, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def snapshot(self) -> dict:
        with self._lock:
            over = self.state in ("done", "failed")
            percent = 100 if over else (int(100 * self.done / self.total) if self.total else 0)
            return {"id": self.id, "state": self.state, "done": self.done,
                    "total": self.total, "current": self.current, "percent": percent,
                    "built": self.built, "cached": self.cached,
                    "failed": list(self.failed), "flow_errors": self.flow_errors,
                    "error": self.error, "finished": over}

    def _progress(self, offset: int):
        """The build's progress(done, total, label), after `offset` jobs of our own."""
        def progress(done, total, label):
            with self._lock:
                self.done, self.total, self.current = offset + done, offset + total, label
        return progress

    def _custom_jobs(self) -> list[tuple[str, Path, str]]:
        """Panel prompts whose text is newer than their sound (or the sound is gone)."""
        jobs = []
        for language in LANGUAGES:
            folder = self.prompts_dir / CUSTOM / language
            for text_file in sorted(folder.glob("*.txt")) if folder.is_dir() else []:
                wav = text_file.with_suffix(".wav")
                if (not wav.is_file()
                        or wav.stat().st_mtime_ns < text_file.stat().st_mtime_ns):
                    jobs.append((language, wav, text_file.read_text(encoding="utf-8")))
        return jobs

    def run(self):
        with self._lock:
            self.state = "running"
        try:
            custom = self._custom_jobs()
            with self._lock:
                self.total = len(custom)
            for number, (language, wav, text) in enumerate(custom, 1):
                label = f"{CUSTOM} {language} {wav.stem}"
                try:
                    tts.render(text, language, wav)
                    publish(self.prompts_dir, wav)
                    self.built += 1
                except (PromptError, OSError) as exc:
                    self.failed.append((label, str(exc)))
                with self._lock:
                    self.done, self.current = number, label
            flows, errors = ({}, []) if not self.flows_dir.is_dir() else \
                load_flows(self.flows_dir, prompts_dir=self.prompts_dir)
            self.flow_errors = len({e.file for e in errors})
            report = build_prompts(flows, self.prompts_dir, self._progress(len(custom)))
            self.built += len(report.built)
            self.cached += len(report.cached)
            self.failed.extend(report.failed)
            if self.moh_dir is not None:
                try:
                    moh = build_moh(self.moh_dir)
                    self.built += len(moh.built)
                    self.cached += len(moh.cached)
                except PromptError as exc:
                    self.failed.append(("moh", str(exc)))
            state = "done"
        except Exception as exc:   # shown on the page; the details go to the log
            log.exception("prompt build %s", self.id)
            self.error = f"{type(exc).__name__}: {exc}"
            state = "failed"
        with self._lock:
            self.state = state
            self.finished = time.monotonic()
        log.info("prompt build %s by %s: %s, %d built, %d cached, %d failed", self.id,
                 self.started_by, state, self.built, self.cached, len(self.failed))
        self.finished_event.set()


_JOBS: dict[str, BuildJob] = {}
_JOBS_LOCK = threading.Lock()


def running_job() -> BuildJob | None:
    with _JOBS_LOCK:
        return next((j for j in _JOBS.values() if j.finished is None), None)


def start(job: BuildJob) -> tuple[BuildJob, bool]:
    """(the job that runs, started): one build at a time."""
    with _JOBS_LOCK:
        now = time.monotonic()
        for key in [k for k, j in _JOBS.items()
                    if j.finished is not None and now - j.finished > JOB_TTL]:
            del _JOBS[key]
        busy = next((j for j in _JOBS.values() if j.finished is None), None)
        if busy is not None:
            return busy, False
        _JOBS[job.id] = job
    threading.Thread(target=job.run, name=f"prompts-{job.id}", daemon=True).start()
    return job, True


def get_job(job_id: str) -> BuildJob | None:
    with _JOBS_LOCK:
        return _JOBS.get(job_id)


# views -------------------------------------------------------------------------

FORMS = {"upload": (UploadForm, "upload"), "text_form": (TextForm, "tts"),
         "blocked_upload": (BlockedUploadForm, "blocked"),
         "blocked_text": (BlockedTextForm, "blocked-tts")}


def _form(key):
    form_class, prefix = FORMS[key]
    return form_class(prefix=prefix)


def _page(status=200, **forms):
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


@bp.get("/prompts")
@role_required(*ROLES)
def prompts():
    return _page()


@bp.post("/prompts/upload")
@role_required(*ROLES)
def upload_prompt():
    form = _form("upload")
    if not form.validate_on_submit():
        return _page(upload=form, status=400)
    language, name = form.language.data, form.name.data
    data = form.file.data.read()
    root = prompts_dir()
    existed = custom_path(root, language, name).is_file()
    try:
        save_upload(root, language, name, data)
    except UploadError as exc:
        form.file.errors.append(_("%(error)s The prompt was not changed.", error=str(exc)))
        return _page(upload=form, status=400)
    except (PromptError, OSError) as exc:
        log.error("prompt %s/%s: %s", language, name, exc)
        form.file.errors.append(_("The prompt could not be saved: %(error)s", error=str(exc)))
        return _page(upload=form, status=500)
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
    form = _form("text_form")
    if not form.validate_on_submit():
        return _page(text_form=form, status=400)
    text = clean_text(form.text.data)
    if text is None:
        form.text.errors.append(_("Give the text to speak."))
        return _page(text_form=form, status=400)
    language, name = form.language.data, form.name.data
    root = prompts_dir()
    existed = custom_path(root, language, name).is_file()
    try:
        save_text(root, language, name, text)
    except (PromptError, OSError) as exc:
        log.error("prompt %s/%s: %s", language, name, exc)
        form.text.errors.append(_("The text could not be spoken: %(error)s The prompt was "
                                  "not changed.", error=str(exc)))
        return _page(text_form=form, status=500)
    audit.record("prompt.tts", object_type="prompt", object_id=flow_reference(language, name),
                 detail={"language": language, "name": name, "replaced": existed,
                         "text": text})
    flash(_("Prompt %(file)s saved. A flow plays it with: file: %(file)s",
            file=flow_reference(language, name)), "info")
    return redirect(url_for("admin.prompts"))


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
    form = _form("blocked_upload")
    if not form.validate_on_submit():
        return _page(blocked_upload=form, status=400)
    data = form.file.data.read()
    try:
        save_blocked(prompts_dir(), data=data)
    except UploadError as exc:
        form.file.errors.append(_("%(error)s The prompt was not changed.", error=str(exc)))
        return _page(blocked_upload=form, status=400)
    except (PromptError, OSError) as exc:
        log.error("blocked-caller message: %s", exc)
        form.file.errors.append(_("The prompt could not be saved: %(error)s", error=str(exc)))
        return _page(blocked_upload=form, status=500)
    return _blocked_saved("prompt.blocked.upload", {
        "filename": (form.file.data.filename or "")[:255], "bytes": len(data)})


@bp.post("/prompts/blocked/tts")
@role_required(*ROLES)
def tts_blocked():
    form = _form("blocked_text")
    if not form.validate_on_submit():
        return _page(blocked_text=form, status=400)
    text = clean_text(form.text.data)
    if text is None:
        form.text.errors.append(_("Give the text to speak."))
        return _page(blocked_text=form, status=400)
    try:
        save_blocked(prompts_dir(), text=text, language=form.language.data)
    except (PromptError, OSError) as exc:
        log.error("blocked-caller message: %s", exc)
        form.text.errors.append(_("The text could not be spoken: %(error)s The prompt was "
                                  "not changed.", error=str(exc)))
        return _page(blocked_text=form, status=500)
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


@bp.get("/prompts/play/<path:filename>")
@role_required(*ROLES)
def play_prompt(filename):
    path = playable(prompts_dir(), filename)
    if path is None:
        abort(404)
    return send_file(path, mimetype="audio/wav", conditional=True, max_age=0)


@bp.post("/prompts/build")
@role_required(*ROLES)
def build_all():
    if not BuildForm().validate_on_submit():
        abort(400)
    dirs = config().dirs
    job, started = start(BuildJob(prompts_dir=Path(dirs["prompts_dir"]),
                                  flows_dir=Path(config().flows_dir),
                                  moh_dir=Path(dirs["moh_dir"]),
                                  started_by=current_user.username))
    if started:
        audit.record("prompt.build", object_type="prompt_build", object_id=job.id)
    else:
        flash(_("A build is already running; here is its progress."), "info")
    return redirect(url_for("admin.prompt_build", job_id=job.id))


def _job_or_404(job_id: str) -> BuildJob:
    job = get_job(job_id)
    if job is None:
        abort(404)
    return job


@bp.get("/prompts/build/<job_id>")
@role_required(*ROLES)
def prompt_build(job_id):
    return render_template("admin/prompts_build.html", status=_job_or_404(job_id).snapshot())


@bp.get("/prompts/build/<job_id>/status")
@role_required(*ROLES)
def prompt_build_status(job_id):
    """The progress fragment htmx swaps in once a second until the build is over."""
    return render_template("admin/prompts_build_status.html",
                           status=_job_or_404(job_id).snapshot())
