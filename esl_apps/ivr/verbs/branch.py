"""branch: choose the next node by a condition, without touching the call.

Either `when: CONDITION` (outcomes true, false) or `cases: {NAME: CONDITION}`
(the first case that holds, in file order; else `default`). A condition holds
when every test in it holds."""
import re
from typing import Literal

from pydantic import Field, model_validator

from esl_apps.ivr.verbs.base import Model, Name, Regex, Verb, exactly_one

DIALED = r"^\+?[0-9*#]+$"


class DataTest(Model):
    key: str = Field(..., pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
    equals: str | None = None
    regex: Regex | None = None

    @model_validator(mode="after")
    def _one_test(self):
        return exactly_one(self, "data test", "equals", "regex")


class Condition(Model):
    business_hours: Name | None = Field(None, description="schedule name; holds inside its hours")
    caller_prefix: list[str] | None = Field(None, min_length=1)
    did: list[str] | None = Field(None, min_length=1)
    data: DataTest | None = None

    @model_validator(mode="after")
    def _some_test(self):
        if all(getattr(self, name) is None for name in type(self).model_fields):
            raise ValueError("a condition needs at least one of business_hours, "
                             "caller_prefix, did, data")
        for number in (self.caller_prefix or []) + (self.did or []):
            if not re.match(DIALED, number):
                raise ValueError(f"{number!r} is not a phone number or prefix")
        return self


class Branch(Verb):
    verb: Literal["branch"]
    when: Condition | None = None
    cases: dict[Name, Condition] | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _when_or_cases(self):
        exactly_one(self, "branch", "when", "cases")
        if self.cases and "default" in self.cases:
            raise ValueError("'default' is the outcome when no case holds; rename that case")
        return self

    def outcomes(self):
        return ("true", "false") if self.cases is None else (*self.cases, "default")

    def required(self):
        return self.outcomes()


VERB = Branch
