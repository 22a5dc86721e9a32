"""Admin → Prompts: what the page lists (the panel's prompts with the flows that
use them, the built-in prompts) and which files it may play."""
import re
import time
from pathlib import Path

from esl_apps.ivr.verbs.base import iter_prompts
from esl_apps.prompts.build import builtin_jobs
from esl_apps.prompts.builtin import BUILTINS, FALLBACK
from esl_apps.prompts.paths import LANGUAGES
from webui.admin.prompt_files import (
    CUSTOM,
    LANGUAGE_NAMES,
    NAME_RE,
    PLAYABLE,
    flow_reference,
    sound_seconds,
)


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
                         "file": reference, "seconds": sound_seconds(path),
                         "modified": time.strftime("%Y-%m-%d %H:%M",
                                                   time.localtime(stat.st_mtime)),
                         "used_by": used.get(reference, [])})
        listing[language] = rows
    return listing


def builtin_prompts(root: Path) -> list[dict]:
    """Each built-in prompt in each language, then the fallback: what it says, whether
    an admin's recording replaces the TTS, and its built file (None until built)."""
    rows = []
    for job in builtin_jobs(root):
        if job.ident == "fallback":
            name, languages = "fallback", [language for language, _text in FALLBACK]
            text = " / ".join(text for _language, text in FALLBACK)
        else:
            language, name = job.ident.split("/")
            languages, text = [language], BUILTINS[name][language]
        built = job.output.is_file()
        rows.append({"ident": job.ident, "name": name, "text": text,
                     "language": " + ".join(LANGUAGE_NAMES[code] for code in languages),
                     "recorded": job.override.is_file(),
                     "file": job.output.relative_to(root).as_posix() if built else None,
                     "seconds": sound_seconds(job.output) if built else None})
    return rows


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

