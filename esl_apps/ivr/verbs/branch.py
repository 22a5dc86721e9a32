"""branch: choose the next node by a condition, without touching the call.

Either `when: CONDITION` (outcomes true, false) or `cases: {NAME: CONDITION}`
(the first case that holds, in file order; else `default`). A condition holds
when every test in it holds."""
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from esl_apps.ivr.verbs.base import (KEY_PATTERN, Matches, Model, Name, Regex, Verb,
                                     exactly_one)

DIALED = r"^\+?[0-9*#]+$"
DataKeyRef = Annotated[str, Matches(KEY_PATTERN, "{value!r} is not a call-data key; expected "
                                                 "key or section.key (letters, digits, _)")]
Prefix = Annotated[str, Matches(DIALED, "{value!r} is not a phone number or prefix")]
Number = Annotated[str, Matches(DIALED, "{value!r} is not a phone number")]


def _not_default(name):
    if name == "default":
        raise ValueError("'default' is the outcome when no case holds; rename that case")
    return name


CaseName = Annotated[Name, AfterValidator(_not_default)]


class DataTest(Model):
    key: DataKeyRef
    equals: str | None = None
    regex: Regex | None = None

    @model_validator(mode="after")
    def _one_test(self):
        return exactly_one(self, "data test", "equals", "regex")

    def holds(self, value: str) -> bool:
        if self.equals is not None:
            return value == self.equals
        return re.search(self.regex, value) is not None


class Condition(Model):
    business_hours: Name | None = Field(None, description="schedule name; holds inside its hours")
    caller_prefix: list[Prefix] | None = Field(None, min_length=1)
    did: list[Number] | None = Field(None, min_length=1)
    data: DataTest | None = None

    @model_validator(mode="after")
    def _some_test(self):
        if all(getattr(self, name) is None for name in type(self).model_fields):
            raise ValueError("a condition needs at least one of business_hours, "
                             "caller_prefix, did, data")
        return self

    def holds(self, step) -> bool:
        if self.business_hours is not None and not step.services.is_open(self.business_hours):
            return False
        if self.caller_prefix is not None and not step.call.caller.startswith(
                tuple(self.caller_prefix)):
            return False
        if self.did is not None and step.call.did not in self.did:
            return False
        return self.data is None or self.data.holds(step.data.get(self.data.key, ""))


class Branch(Verb):
    verb: Literal["branch"]
    when: Condition | None = None
    cases: dict[CaseName, Condition] | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _when_or_cases(self):
        return exactly_one(self, "branch", "when", "cases")

    def outcomes(self):
        return ("true", "false") if self.cases is None else (*self.cases, "default")

    def required(self):
        return self.outcomes()

    def run(self, step):
        if self.when is not None:
            return "true" if self.when.holds(step) else "false"
        for name, condition in self.cases.items():
            if condition.holds(step):
                return name
        return "default"


VERB = Branch
