"""transfer: send the call to an extension, an outside number or another flow."""
import re
from typing import Literal

from pydantic import field_validator

from esl_apps.ivr.verbs.base import NAME_PATTERN, Verb

TARGET = {"extension": r"^[0-9]{2,8}$", "external": r"^\+?[0-9]{3,20}$", "flow": NAME_PATTERN}
WHAT = {"extension": "an extension (2-8 digits)", "external": "a phone number",
        "flow": "a flow name"}


class Transfer(Verb):
    OUTCOMES = ("error",)
    ENDS_CALL = True

    verb: Literal["transfer"]
    to: Literal["extension", "external", "flow"]
    target: str

    @field_validator("target")
    @classmethod
    def _target_fits(cls, value, info):
        to = info.data.get("to")
        if to and not re.match(TARGET[to], value):
            raise ValueError(f"{value!r} is not {WHAT[to]}")
        return value


    def run(self, step):
        if step.call.transfer(self.to, self.target):  # "flow" is the runner's
            step.leave("transfer", f"{self.to} {self.target}")
        return "error"


VERB = Transfer
