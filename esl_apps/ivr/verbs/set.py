"""set: store a value in the call data as SECTION.KEY (read back as ${section.key})."""
from typing import Literal

from esl_apps.ivr.verbs.base import Name, Scalar, Verb


class Set(Verb):
    OUTCOMES = ("done",)

    verb: Literal["set"]
    section: Name
    key: Name
    value: Scalar


VERB = Set
