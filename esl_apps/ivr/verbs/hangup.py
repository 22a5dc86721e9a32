"""hangup: end the call."""
from typing import Literal

from esl_apps.ivr.verbs.base import Verb


class Hangup(Verb):
    OUTCOMES = ()
    ENDS_CALL = True

    verb: Literal["hangup"]
    cause: Literal["NORMAL_CLEARING", "USER_BUSY", "CALL_REJECTED"] = "NORMAL_CLEARING"


    def run(self, step):
        step.call.hangup(self.cause)
        step.leave("hangup", self.cause)


VERB = Hangup
