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

Hotline's built-in prompts and the dialplan's fallback can be replaced by an
uploaded recording (webui.admin.prompt_builtin, esl_apps.prompts.override): it is
kept in <prompts_dir>/override/ and copied over the played file at once; the
build keeps copying it, and "back to TTS" removes it and speaks the text again.

"Build all prompts" runs `hotline prompts build` in the background (the flows'
prompts, the say files, the built-in prompts, hold music), after re-speaking any
panel prompt whose text is newer than its sound; the page polls its progress.
"""
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from esl_apps.ivr.loader import load_flows
from esl_apps.prompts import PromptError, tts
from esl_apps.prompts.build import build as build_prompts
from esl_apps.prompts.paths import LANGUAGES
from esl_apps.waiting.moh import build_moh
from webui import audit
from webui.access import role_required
from webui.admin import bp
from webui.admin.flows import config
from webui.admin.prompt_files import CUSTOM, ROLES, publish, sniff  # noqa: F401 (sniff: tests)
from webui.admin.prompt_forms import BuildForm

log = logging.getLogger(__name__)

JOB_TTL = 3600


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


# the page's other views register on `bp` too (imported last: they import running_job)
from webui.admin import prompt_blocked, prompt_builtin, prompt_views  # noqa: F401
