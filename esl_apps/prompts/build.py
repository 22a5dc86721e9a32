"""`hotline prompts build`: make every sound file the flows and the switch play.

The jobs: each TTS text of each prompt of each flow (every language it is
given in), each sound-file prompt, the say modules' files in zh and en, the
built-in prompts and the dialplan's fallback prompt. A job whose output is up
to date is skipped:

- a TTS render of a flow text is named by a hash of its voice and text, so an
  existing file is up to date;
- a converted sound file is up to date unless its source is newer;
- fixed-name outputs (say files, built-ins, the fallback) are up to date when
  the key they were last built from, kept in prompts_dir/.build-keys.json,
  matches; a file replaced by hand is therefore kept until its text changes;
- a built-in prompt or the fallback an admin replaced with a recording
  (paths.override_path, paths.fallback_override_path) is a copy of that
  recording, never TTS, up to date while the recording is unchanged; once the
  recording is removed, the next build speaks the text again. The build never
  writes an override.

A failed job is reported and the others run on.
"""
import hashlib
import json
import logging
import os
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from esl_apps.ivr.verbs.base import iter_prompts
from esl_apps.prompts import PromptError, audio, tts
from esl_apps.prompts.builtin import BUILTINS, FALLBACK
from esl_apps.prompts.paths import (LANGUAGES, builtin_path, fallback_override_path,
                                    fallback_path, file_path, find_source, override_path,
                                    say_dir, tts_key, tts_path)
from esl_apps.prompts.sayfiles import SAY_FILES

log = logging.getLogger(__name__)

KEYS_FILE = ".build-keys.json"
WORKERS = min(8, os.cpu_count() or 1)


def _short(text: str, width: int = 30) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


@dataclass
class TextJob:
    """One text in one language, spoken by espeak-ng into `output`."""
    label: str
    language: str
    text: str
    output: Path
    fixed_name: bool = False  # the output's name does not carry the key
    trim: bool = False  # cut the silence around it (say files)

    @property
    def key(self) -> str:
        key = tts_key(self.language, self.text)
        return key + "-trim" if self.trim else key

    def up_to_date(self, keys: dict) -> bool:
        return self.output.is_file() and (not self.fixed_name or keys.get(self) == self.key)

    def run(self) -> None:
        tts.render(self.text, self.language, self.output, trim=self.trim)


@dataclass
class FileJob:
    """A flow's sound file, converted to the switch's format."""
    label: str
    source: Path
    output: Path
    key = None

    def up_to_date(self, keys: dict) -> bool:
        return (self.output.is_file()
                and self.source.stat().st_mtime_ns <= self.output.stat().st_mtime_ns)

    def run(self) -> None:
        audio.convert(self.source, self.output)


@dataclass
class MixJob:
    """Several texts, one language each, spoken one after another into one file.
    Each part is rendered into the TTS cache first."""
    label: str
    parts: tuple[tuple[str, str], ...]
    prompts_dir: Path
    output: Path

    @property
    def key(self) -> str:
        keys = "+".join(tts_key(language, text) for language, text in self.parts)
        return hashlib.sha256(keys.encode()).hexdigest()[:20]

    def up_to_date(self, keys: dict) -> bool:
        return self.output.is_file() and keys.get(self) == self.key

    def run(self) -> None:
        segments = []
        for language, text in self.parts:
            part = tts_path(self.prompts_dir, language, text)
            if not part.is_file():
                tts.render(text, language, part)
            segments.append(audio.read_wav(part))
        audio.write_wav(audio.concat(segments), self.output)


def override_key(override: Path) -> str:
    """The build key of a copy of `override`: it changes with the recording."""
    return "override-" + hashlib.sha256(Path(override).read_bytes()).hexdigest()[:20]


@dataclass
class OverridableJob:
    """A built-in prompt (or the fallback): a copy of the admin's recording at
    `override` when there is one, else what `tts` speaks."""
    ident: str  # "<language>/<name>", or "fallback"
    tts: TextJob | MixJob
    override: Path

    @property
    def label(self) -> str:
        return self.tts.label

    @property
    def output(self) -> Path:
        return self.tts.output

    @property
    def key(self) -> str:
        return override_key(self.override) if self.override.is_file() else self.tts.key

    def up_to_date(self, keys: dict) -> bool:
        return self.output.is_file() and keys.get(self) == self.key

    def run(self) -> None:
        if self.override.is_file():
            audio.copy(self.override, self.output)
        else:
            self.tts.run()


@dataclass
class BrokenJob:
    """A prompt that cannot be built at all (its sound file is missing)."""
    label: str
    reason: str
    output = None
    key = None

    def up_to_date(self, keys: dict) -> bool:
        return False

    def run(self) -> None:
        raise PromptError(self.reason)


@dataclass
class Report:
    built: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (label, reason)

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        return (f"prompts: {len(self.built)} built, {len(self.cached)} cached, "
                f"{len(self.failed)} failed")


class Keys:
    """The keys fixed-name outputs were built from, by path relative to the prompts dir."""

    def __init__(self, prompts_dir: Path):
        self.path = Path(prompts_dir) / KEYS_FILE
        self.prompts_dir = Path(prompts_dir)
        try:
            self.data = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(self.data, dict):
                self.data = {}
        except (OSError, ValueError):
            self.data = {}
        self.changed = {}

    def _name(self, output: Path) -> str:
        return Path(output).relative_to(self.prompts_dir).as_posix()

    def get(self, job):
        return self.data.get(self._name(job.output))

    def set(self, job) -> None:
        self.record(job.output, job.key)

    def record(self, output: Path, key: str) -> None:
        self.data[self._name(output)] = self.changed[self._name(output)] = key

    def save(self) -> None:
        """Write the keys set since loading over the file's current ones (another
        writer, such as the admin page replacing a built-in, keeps its own)."""
        self.data = {**Keys(self.prompts_dir).data, **self.changed}
        self.data = {name: key for name, key in sorted(self.data.items())
                     if (self.prompts_dir / name).is_file()}
        with audio.replacing(self.path) as out:
            out.write(json.dumps(self.data, ensure_ascii=False, indent=1).encode("utf-8"))


def _flows(flows):
    flows = flows.values() if isinstance(flows, dict) else flows
    return sorted(flows, key=lambda f: f.name)


def flow_jobs(flow, prompts_dir: Path) -> list:
    flow_dir = flow.path.parent if flow.path else None
    jobs = []
    for node_name, node in flow.nodes.items():
        for _where, prompt in iter_prompts(node):
            where = f"{flow.name}.{node_name}"
            if prompt.file is not None:
                label = f"{where} file {prompt.file}"
                try:
                    source = find_source(prompt.file, flow_dir, prompts_dir)
                except FileNotFoundError as exc:
                    jobs.append(BrokenJob(label, str(exc)))
                    continue
                jobs.append(FileJob(label, source, file_path(prompts_dir, source)))
                continue
            for language in LANGUAGES:
                text = getattr(prompt.text, language)
                if text is not None:
                    jobs.append(TextJob(f"{where} {language} {_short(text)!r}", language, text,
                                        tts_path(prompts_dir, language, text)))
    return jobs


def system_jobs(prompts_dir: Path) -> list:
    jobs = []
    for language in LANGUAGES:
        for name, text in SAY_FILES[language].items():
            jobs.append(TextJob(f"say {language} {name}", language, text,
                                say_dir(prompts_dir, language) / f"{name}.wav", fixed_name=True,
                                trim=True))
    return jobs + builtin_jobs(prompts_dir)


def builtin_jobs(prompts_dir: Path) -> list[OverridableJob]:
    """Each built-in prompt in each language, then the fallback."""
    prompts_dir = Path(prompts_dir)
    jobs = []
    for name, texts in BUILTINS.items():
        for language in LANGUAGES:
            spoken = TextJob(f"builtin {language} {name}", language, texts[language],
                             builtin_path(prompts_dir, language, name), fixed_name=True)
            jobs.append(OverridableJob(f"{language}/{name}", spoken,
                                       override_path(prompts_dir, language, name)))
    output = fallback_path(prompts_dir)
    jobs.append(OverridableJob("fallback", MixJob(f"fallback {output.stem}", FALLBACK,
                                                  prompts_dir, output),
                               fallback_override_path(prompts_dir)))
    return jobs


def plan(flows, prompts_dir) -> list:
    """Every job, one per output (the first prompt to need an output names its job)."""
    prompts_dir = Path(prompts_dir)
    jobs, seen = [], set()
    for flow in _flows(flows):
        for job in flow_jobs(flow, prompts_dir):
            ident = job.output or job.label
            if ident not in seen:
                seen.add(ident)
                jobs.append(job)
    return jobs + system_jobs(prompts_dir)


def _run(job):
    try:
        job.run()
    except PromptError as exc:
        return str(exc)
    except OSError as exc:
        return f"{exc.filename or job.output}: {exc.strerror or exc}"
    except Exception as exc:  # a bug must not stop the other jobs; it is logged in full
        log.exception("prompt job %s", job.label)
        return f"{type(exc).__name__}: {exc}"
    return None


def build(flows, prompts_dir, progress=None, *, workers: int = WORKERS) -> Report:
    """Build every prompt of `flows` ({name: Flow} or Flows) and the switch's own.

    `progress(done, total, label)` is called after each job, from this thread."""
    prompts_dir = Path(prompts_dir)
    jobs = plan(flows, prompts_dir)
    keys = Keys(prompts_dir)
    report, done, total = Report(), 0, len(jobs)

    def finished(job, error):
        nonlocal done
        if error is None:
            if job.key is not None:
                keys.set(job)
            report.built.append(job.label)
        else:
            log.warning("prompt %s failed: %s", job.label, error)
            report.failed.append((job.label, error))
        done += 1
        if progress:
            progress(done, total, job.label)

    todo = []
    for job in jobs:
        try:
            fresh = job.up_to_date(keys)
        except OSError:
            fresh = False  # the source vanished: running the job says so
        if fresh:
            report.cached.append(job.label)
            done += 1
            if progress:
                progress(done, total, job.label)
        else:
            todo.append(job)
    try:
        if workers <= 1:
            for job in todo:
                finished(job, _run(job))
        elif todo:
            pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="prompts")
            try:
                futures = {pool.submit(_run, job): job for job in todo}
                for future in as_completed(futures):
                    finished(futures[future], future.result())
            finally:
                pool.shutdown(cancel_futures=True)  # Ctrl-C: do not start the rest
    finally:
        keys.save()  # what was built stays known as built
    log.info("%s", report.summary())
    return report
