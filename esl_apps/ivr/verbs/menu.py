"""menu: a prompt, then one digit. Outcomes: the digits it maps, `timeout`
and `invalid` once the retries are used up, `error`."""
from typing import Literal

from pydantic import Field

from esl_apps.ivr.verbs.base import DIGIT_KEYS, Name, Prompt, Verb


class Menu(Verb):
    OUTCOMES = ("timeout", "invalid", "error")
    REQUIRED = ("timeout", "invalid")

    verb: Literal["menu"]
    prompt: Prompt
    timeout: float = Field(5, gt=0, le=60, description="seconds to wait for a digit")
    retries: int = Field(3, ge=1, le=10)
    invalid_prompt: Prompt | None = None
    store: Name | None = Field(None, description="call-data key for the digit pressed")

    def outcomes(self):
        return self.OUTCOMES + DIGIT_KEYS

    def required(self):
        return self.REQUIRED


VERB = Menu
