"""play: one prompt, then `done`. The prompt fields sit on the node itself:
`file: prompts/x.wav` or `text: {zh: ..., en: ...}`."""
from typing import Literal

from esl_apps.ivr.verbs.base import Prompt, Verb


class Play(Verb, Prompt):
    verb: Literal["play"]


    def run(self, step):
        step.play(self)
        return "done"


VERB = Play
