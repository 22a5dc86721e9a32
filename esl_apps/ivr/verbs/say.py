"""say: a number, an amount of money, a date or a digit string, spoken by the
switch's say engine. `value` is call data (`${bill.amount}`) or a literal."""
import datetime
import re
from typing import Literal

from pydantic import field_validator

from esl_apps.ivr.verbs.base import REF, Language, Scalar, Verb

LITERAL = {
    "number": r"^-?[0-9]+(\.[0-9]+)?$",
    "money": r"^-?[0-9]+(\.[0-9]{1,2})?$",
    "date": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
    "digits": r"^[0-9]+$",
}
WHAT = {"number": "a number", "money": "an amount of money (12.50)",
        "date": "a date (YYYY-MM-DD)", "digits": "a digit string"}


class Say(Verb):
    verb: Literal["say"]
    kind: Literal["number", "money", "date", "digits"]
    value: Scalar
    language: Language | None = None

    @field_validator("value")
    @classmethod
    def _literal_fits_kind(cls, value, info):
        kind = info.data.get("kind")
        if kind and not REF.search(value):
            if not re.match(LITERAL[kind], value):
                raise ValueError(f"{value!r} is not {WHAT[kind]}")
            if kind == "date":
                try:
                    datetime.date.fromisoformat(value)
                except ValueError as exc:
                    raise ValueError(f"{value!r} is not a date: {exc}") from None
        return value


    def run(self, step):
        value = step.expand(self.value).strip()
        if not re.match(LITERAL[self.kind], value):
            step.log.warning("say %s: %r is not %s", step.node_name, value, WHAT[self.kind])
            return "error"
        step.call.say(self.language or step.language, self.kind, value)
        return "done"


VERB = Say
