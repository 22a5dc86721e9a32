"""lookup: one row from SQL or one JSON document over HTTP, stored under `store`.
Outcomes: done (found), not_found, error."""
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from esl_apps.ivr.verbs.base import DataSection, Matches, Model, TextRef, Verb, exactly_one
import re

_KEY = re.compile(r"[^A-Za-z0-9_]")

_SQL_SKIP = re.compile(r"""
      '(?:[^']|'')*'           # a string, '' inside it is a quote
    | "(?:[^"]|"")*"           # a quoted identifier
    | --[^\n]*                 # a comment to the end of the line
    | /\*.*?\*/                # a block comment
    | (?P<open>['"]|/\*)       # a string, identifier or comment never closed
    """, re.VERBOSE | re.DOTALL)
_OPENED = {"'": "a ' string", '"': 'a " identifier', "/*": "a /* comment"}


def sql_code(query: str) -> str:
    """The query with its strings, quoted identifiers and comments blanked out, so
    that a ';' or '?' inside them is not taken for SQL."""
    def blank(match):
        if match["open"]:
            raise ValueError(f"{_OPENED[match['open']]} in the query is never closed")
        return " " * len(match[0])
    return _SQL_SKIP.sub(blank, query)


class Sql(Model):
    query: str = Field(..., description="one SELECT; ? placeholders")
    params: list[TextRef] = Field(default_factory=list, validate_default=True)

    @field_validator("query")
    @classmethod
    def _select_only(cls, value):
        text = sql_code(value).strip().rstrip(";")
        if not re.match(r"select\b", text, re.IGNORECASE) or ";" in text:
            raise ValueError("expected a single SELECT statement")
        return value

    @field_validator("params")
    @classmethod
    def _placeholders(cls, value, info):
        if "query" not in info.data:
            return value
        wanted = sql_code(info.data["query"]).count("?")
        if wanted != len(value):
            raise ValueError(f"the query has {wanted} ? placeholder(s) but "
                             f"{len(value)} param(s)")
        return value


class Http(Model):
    url: Annotated[TextRef, Matches(r"^https?://", "expected an http:// or https:// URL")]
    timeout: float = Field(3, gt=0, le=30)


class Lookup(Verb):
    OUTCOMES = ("done", "not_found", "error")
    NATIVE = False  # Python does it: the dialplan hands the call to the socket app

    verb: Literal["lookup"]
    sql: Sql | None = None
    http: Http | None = None
    store: DataSection

    @model_validator(mode="after")
    def _one_source(self):
        return exactly_one(self, "lookup", "sql", "http")


    def run(self, step):
        try:
            if self.sql is not None:
                row = step.services.lookup_sql(self.sql.query,
                                               [step.expand(p) for p in self.sql.params])
            else:
                row = step.services.lookup_http(step.expand(self.http.url), self.http.timeout)
        except Exception as exc:
            step.log.warning("lookup %s failed: %s", step.node_name, exc)
            return "error"
        if not row:
            return "not_found"
        for key, value in row.items():
            step.set_data(f"{self.store}.{_KEY.sub('_', str(key))}", value)
        return "done"


VERB = Lookup
