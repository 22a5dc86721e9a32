"""collect: several digits (an account number), stored as call data."""
from typing import Literal

from pydantic import Field, field_validator

from esl_apps.ivr.verbs.base import Name, Prompt, Regex, Verb


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
    store: Name

    @field_validator("max")
    @classmethod
    def _min_max(cls, value, info):
        if value < info.data.get("min", 1):
            raise ValueError(f"max ({value}) is less than min ({info.data['min']})")
        return value


VERB = Collect
