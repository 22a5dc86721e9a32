"""Render a notification from its Jinja2 template: templates/<event>.<language>.txt,
with three blocks: ``subject`` and ``body`` (e-mail) and ``sms`` (one short line).

Plain text, no HTML, so no autoescaping; the environment is sandboxed so a
template edited by an administrator cannot reach Python internals. A missing
context value renders empty.
"""
import logging
from pathlib import Path

from jinja2 import FileSystemLoader
from jinja2.sandbox import SandboxedEnvironment

log = logging.getLogger(__name__)

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
EVENTS = ("dispatch", "sla_warning", "sla_breach", "closed")
LANGUAGES = ("zh", "en")
SUBJECT_MAX = 255

_env = SandboxedEnvironment(loader=FileSystemLoader(str(TEMPLATES_DIR)),
                            autoescape=False, keep_trailing_newline=False,
                            trim_blocks=True, lstrip_blocks=True)


def language_of(value: str | None, default: str = "zh") -> str:
    """'zh', 'zh_CN', 'zh-Hans' -> 'zh'; 'en', 'en_US' -> 'en'; else the default."""
    value = (value or "").strip().lower()
    for lang in LANGUAGES:
        if value == lang or value.startswith((lang + "_", lang + "-")):
            return lang
    return default if default in LANGUAGES else "zh"


def _block(template, name: str, context: dict) -> str:
    return "".join(template.blocks[name](template.new_context(context))).strip()


def render(event: str, language: str, context: dict) -> dict:
    """{"subject", "body", "sms"} for the event in that language."""
    if event not in EVENTS:
        raise ValueError(f"unknown notification event {event!r}; expected one of "
                         f"{', '.join(EVENTS)}")
    template = _env.get_template(f"{event}.{language_of(language)}.txt")
    subject = " ".join(_block(template, "subject", context).split())[:SUBJECT_MAX]
    return {"subject": subject, "body": _block(template, "body", context),
            "sms": " ".join(_block(template, "sms", context).split())}
