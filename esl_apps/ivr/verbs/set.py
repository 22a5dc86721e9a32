"""set: store a value in the call data as SECTION.KEY (read back as ${section.key})."""
from typing import Literal

from esl_apps.ivr.verbs.base import DataSection, Name, Scalar, Verb


class Set(Verb):
    OUTCOMES = ("done",)

    verb: Literal["set"]
    section: DataSection
    key: Name
    value: Scalar


    def run(self, step):
        step.set_data(f"{self.section}.{self.key}", step.expand(self.value))
        return "done"


VERB = Set
