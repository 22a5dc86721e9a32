"""menu: a prompt, then one digit. Outcomes: the digits it maps, `timeout`
and `invalid` once the retries are used up, `error`."""
from typing import Literal

from pydantic import Field

from esl_apps.ivr.verbs.base import DIGIT_KEYS, DataKey, Prompt, Verb
from esl_apps.ivr.digits import menu_regex


class Menu(Verb):
    OUTCOMES = ("timeout", "invalid", "error")
    REQUIRED = ("timeout", "invalid")

    verb: Literal["menu"]
    prompt: Prompt
    timeout: float = Field(5, gt=0, le=60, description="seconds to wait for a digit")
    retries: int = Field(3, ge=1, le=10)
    invalid_prompt: Prompt | None = None
    store: DataKey | None = Field(None, description="call-data key for the digit pressed")

    def outcomes(self):
        return self.OUTCOMES + DIGIT_KEYS

    def required(self):
        return self.REQUIRED


    def run(self, step):
        keys = [k for k in self.next if k in DIGIT_KEYS]
        got = step.call.read(step.audio(self.prompt), step.audio(self.invalid_prompt),
                             minimum=1, maximum=1, tries=self.retries, timeout=self.timeout,
                             terminators="", regex=menu_regex(keys))
        if got.digits:
            if self.store:
                step.set_data(self.store, got.digits)
            return got.digits
        return "invalid" if got.invalid else "timeout"


VERB = Menu
