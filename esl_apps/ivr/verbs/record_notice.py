"""record_notice: tell the caller the call is recorded (the built-in notice
unless a prompt is given)."""
from typing import Literal

from esl_apps.ivr.verbs.base import Prompt, Verb


class RecordNotice(Verb):
    verb: Literal["record_notice"]
    prompt: Prompt | None = None


    def run(self, step):
        if self.prompt is not None:
            step.play(self.prompt)
        else:
            step.call.play(step.builtin("record_notice", "您的通话可能会被录音 / "
                                        "This call may be recorded"))
        step.call.set_var("hotline_record_notice", "played")
        return "done"


VERB = RecordNotice
