"""subflow: run another flow; `done` when it reaches `return`. A subflow that
always ends the call needs no `next`."""
from typing import Literal

from esl_apps.ivr.verbs.base import Name, Verb


class Subflow(Verb):
    REQUIRED = ()

    verb: Literal["subflow"]
    flow: Name


VERB = Subflow
