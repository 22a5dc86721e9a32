"""record_notice: tell the caller the call is recorded (the built-in notice
unless a prompt is given)."""
from typing import Literal

from esl_apps.ivr.verbs.base import Prompt, Verb


class RecordNotice(Verb):
    verb: Literal["record_notice"]
    prompt: Prompt | None = None


VERB = RecordNotice
