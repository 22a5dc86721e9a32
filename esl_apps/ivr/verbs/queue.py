"""queue: hand the caller to a mod_callcenter queue.

Outcomes: `answered` when an agent took the call and hung up first (the caller
is still there: a satisfaction survey goes here; unmapped, the call ends),
`timeout` when the queue gives the caller back (max wait, no agent: overflow to
another queue, voicemail or a callback), `callback` when the caller pressed
`callback_key` to leave the queue and be called back."""
from typing import Literal

from pydantic import model_validator

from esl_apps.ivr.verbs.base import Name, Verb

KEYS = Literal["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "#"]


class Queue(Verb):
    OUTCOMES = ("answered", "timeout", "callback", "error")
    ENDS_CALL = True

    verb: Literal["queue"]
    queue: Name
    callback_key: KEYS | None = None

    @model_validator(mode="after")
    def _callback_needs_a_key(self):
        if "callback" in self.next and self.callback_key is None:
            raise ValueError("outcome 'callback' needs callback_key (the digit that leaves "
                             "the queue)")
        return self

    def run(self, step):
        # where the caller goes when the desk moves the call away from this app (a
        # consult, a transfer) and the last agent hangs up: this node's outcome
        # dispatch in the flow's compiled context, as in native mode
        from esl_apps.ivr.compile import AFTER_AGENT_VAR, context_name, version
        context = context_name(step.flow.name, version(step.flow), step.language)
        step.call.set_var(AFTER_AGENT_VAR, f"o_{step.node_name}:XML:{context}")
        result = step.call.queue(self.queue, self.callback_key)
        if result == "answered" and "answered" not in self.next:
            step.call.hangup("NORMAL_CLEARING")
            step.leave("queue", self.queue)
        return result


VERB = Queue
