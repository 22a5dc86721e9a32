"""language: switch the prompt language for the rest of the call."""
from typing import Literal

from esl_apps.ivr.verbs.base import Language as LanguageCode, Verb


class Language(Verb):
    OUTCOMES = ("done",)

    verb: Literal["language"]
    language: LanguageCode


    def run(self, step):
        step.set_language(self.language)
        return "done"


VERB = Language
