"""lookup: one row from SQL or one JSON document over HTTP, stored under `store`.
Outcomes: done (found), not_found, error."""
from typing import Literal

from pydantic import Field, field_validator, model_validator

from esl_apps.ivr.verbs.base import Model, Name, TextRef, Verb, exactly_one


class Sql(Model):
    query: str = Field(..., description="one SELECT; ? placeholders")
    params: list[TextRef] = Field(default_factory=list, validate_default=True)

    @field_validator("query")
    @classmethod
    def _select_only(cls, value):
        text = value.strip().rstrip(";")
        if not text.lower().startswith("select") or ";" in text:
            raise ValueError("expected a single SELECT statement")
        return value

    @field_validator("params")
    @classmethod
    def _placeholders(cls, value, info):
        if "query" not in info.data:
            return value
        wanted = info.data["query"].count("?")
        if wanted != len(value):
            raise ValueError(f"the query has {wanted} ? placeholder(s) but "
                             f"{len(value)} param(s)")
        return value


class Http(Model):
    url: TextRef = Field(..., pattern=r"^https?://")
    timeout: float = Field(3, gt=0, le=30)


class Lookup(Verb):
    OUTCOMES = ("done", "not_found", "error")

    verb: Literal["lookup"]
    sql: Sql | None = None
    http: Http | None = None
    store: Name

    @model_validator(mode="after")
    def _one_source(self):
        return exactly_one(self, "lookup", "sql", "http")


VERB = Lookup
