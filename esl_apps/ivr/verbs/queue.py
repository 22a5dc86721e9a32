"""queue: hand the caller to a mod_callcenter queue. Ends the call for the flow;
`next.timeout` may catch a caller the queue gives back (max wait, no agent)."""
from typing import Literal

from esl_apps.ivr.verbs.base import Name, Verb


class Queue(Verb):
    OUTCOMES = ("timeout", "error")
    ENDS_CALL = True

    verb: Literal["queue"]
    queue: Name


    def run(self, step):
        if step.call.queue(self.queue) == "answered":
            step.leave("queue", self.queue)
        return "timeout"


VERB = Queue
