"""callback: leave a request for an agent of `queue` to call the caller back."""
from typing import Literal

from pydantic import Field

from esl_apps.ivr.verbs.base import Name, Prompt, TextRef, Verb


class Callback(Verb):
    verb: Literal["callback"]
    queue: Name
    number: TextRef = Field("${caller}", description="number to call back")
    confirm: Prompt | None = None


    def run(self, step):
        step.call.set_var("hotline_callback_queue", self.queue)
        step.call.set_var("hotline_callback_number", step.expand(self.number))
        step.play(self.confirm)
        return "done"


VERB = Callback
