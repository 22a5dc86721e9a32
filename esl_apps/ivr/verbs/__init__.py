"""The verb registry: one module per verb, each with a VERB class.

To add a verb, write its module and add its name to NAMES."""
import importlib
from typing import Annotated, Union

from pydantic import Field

NAMES = ("play", "menu", "collect", "lookup", "say", "branch", "set", "queue", "transfer",
         "voicemail", "callback", "language", "record_notice", "hangup", "subflow")

VERBS = {name: importlib.import_module(f"{__name__}.{name}").VERB for name in NAMES}

Node = Annotated[Union[tuple(VERBS.values())], Field(discriminator="verb")]
