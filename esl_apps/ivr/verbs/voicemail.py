"""voicemail: record a message for a mailbox, then hang up."""
from typing import Literal

from pydantic import Field

from esl_apps.ivr.verbs.base import Name, Prompt, Verb


class Voicemail(Verb):
    OUTCOMES = ("error",)
    ENDS_CALL = True

    verb: Literal["voicemail"]
    box: Name
    greeting: Prompt | None = None
    max_seconds: int = Field(120, ge=5, le=600)


    def run(self, step):
        step.play(self.greeting)
        step.call.voicemail(self.box, self.max_seconds)
        step.leave("voicemail", self.box)


VERB = Voicemail
