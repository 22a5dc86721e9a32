"""collect: several digits (an account number), stored as call data."""
from typing import Literal

from pydantic import Field, field_validator

from esl_apps.ivr.verbs.base import DataKey, Prompt, Regex, Verb
from esl_apps.ivr.digits import collect_regex


class Collect(Verb):
    OUTCOMES = ("done", "no_input", "invalid", "error")

    verb: Literal["collect"]
    prompt: Prompt
    min: int = Field(1, ge=1, le=32)
    max: int = Field(..., ge=1, le=32)
    terminator: Literal["#", "*", ""] = "#"
    timeout: float = Field(5, gt=0, le=60, description="seconds between digits")
    retries: int = Field(3, ge=1, le=10)
    pattern: Regex | None = None
    invalid_prompt: Prompt | None = None
    store: DataKey

    @field_validator("max")
    @classmethod
    def _min_max(cls, value, info):
        if value < info.data.get("min", 1):
            raise ValueError(f"max ({value}) is less than min ({info.data['min']})")
        return value


    def regex(self) -> str:
        return collect_regex(self.min, self.max, self.pattern)

    def run(self, step):
        got = step.call.read(step.audio(self.prompt), step.audio(self.invalid_prompt),
                             minimum=1, maximum=self.max, tries=self.retries,
                             timeout=self.timeout, terminators=self.terminator,
                             regex=self.regex())
        if got.digits:
            step.set_data(self.store, got.digits)
            return "done"
        return "invalid" if got.invalid else "no_input"


VERB = Collect
