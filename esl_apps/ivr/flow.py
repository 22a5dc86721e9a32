"""The flow file's model, and the JSON Schema that editors check flows against."""
from pathlib import Path
from typing import Annotated

from pydantic import Field, PrivateAttr

from esl_apps.ivr.verbs import Node
from esl_apps.ivr.verbs.base import Language, Matches, Model, Name

SCHEMA_ID = "https://hotline.invalid/ivr-flow.schema.json"

Did = Annotated[str, Matches(r"^\+?[0-9]{2,20}$",
                             "{value!r} is not a phone number (digits, optional leading +)")]


class Flow(Model):
    name: Name = Field(..., description="the flow's name; DIDs and subflows refer to it")
    description: str | None = None
    entry: Name = Field(..., description="the first node")
    language: Language = "zh"
    dids: list[Did] = Field(default_factory=list, description="numbers that start this flow")
    nodes: dict[Name, Node] = Field(..., min_length=1)

    _path: Path | None = PrivateAttr(None)
    _locate = PrivateAttr(None)  # path in the file -> (line, column), set by the loader

    @property
    def path(self) -> Path | None:
        return self._path


def json_schema() -> dict:
    schema = Flow.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    schema["title"] = "Hotline IVR flow"
    schema["properties"]["nodes"]["additionalProperties"] = False  # names are patternProperties
    return schema
