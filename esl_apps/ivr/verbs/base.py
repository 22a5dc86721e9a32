"""What every verb shares: the base model, prompts, call-data names and ${refs}.

A verb class declares OUTCOMES (the names its `next` may map), REQUIRED (the
outcomes that must be mapped unless the verb ends the call) and ENDS_CALL. A
`next` target is a node name, or `return` to leave the flow (a subflow goes
back to its caller; a top-level flow hands the call to the dialplan fallback).
An outcome left unmapped at run time also goes to the dialplan fallback.
"""
import re
from dataclasses import dataclass
from typing import Annotated, ClassVar, Literal

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field,
                      model_validator)
from pydantic.json_schema import WithJsonSchema
from pydantic_core import core_schema

RETURN = "return"
NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
KEY_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$"
DIGIT_KEYS = tuple("0123456789*#")
REF = re.compile(r"\$\{([^}]*)\}")
REF_NAME = re.compile(KEY_PATTERN)
# call data Hotline sets at the start of every call (the caller's number, the DID dialled)
RESERVED_KEYS = ("caller", "did")


@dataclass(frozen=True)
class Matches:
    """A string that must match `pattern` (kept in the JSON Schema), with a clear
    error message instead of pydantic's "should match pattern"; `message` may
    use {value}."""
    pattern: str
    message: str

    def __get_pydantic_core_schema__(self, source, handler):
        # Python's `$` also matches before a final newline; the schema's does not
        regex = re.compile(self.pattern[:-1] + r"\Z" if self.pattern.endswith("$")
                           else self.pattern)

        def check(value):
            if not regex.search(value):
                raise ValueError(self.message.format(value=value))
            return value
        return core_schema.no_info_after_validator_function(check, handler(source))

    def __get_pydantic_json_schema__(self, schema, handler):
        json_schema = handler(schema)
        json_schema["pattern"] = self.pattern
        return json_schema


Name = Annotated[str, Matches(NAME_PATTERN, "{value!r} is not a valid name; use letters, "
                                            "digits and _ , not starting with a digit")]
Language = Literal["zh", "en"]


def _not_reserved(what):
    def check(value):
        if value in RESERVED_KEYS:
            raise ValueError(f"{value!r} is set by Hotline for every call; pick another {what}")
        return value
    return AfterValidator(check)


# where a verb stores call data: `key`, or the section of `section.key`
DataKey = Annotated[Name, _not_reserved("key")]
DataSection = Annotated[Name, _not_reserved("section")]


def unclosed_ref(value: str) -> int | None:
    """Where a `${` with no `}` after it (before the next `${`) starts, or None."""
    start = value.find("${")
    while start != -1:
        close = value.find("}", start + 2)
        following = value.find("${", start + 2)
        if close == -1 or following != -1 and following < close:
            return start
        start = value.find("${", close + 1)
    return None


def check_refs(value):
    """Every ${...} in a string must name call data: ${key} or ${section.key}."""
    if isinstance(value, str):
        if unclosed_ref(value) is not None:
            raise ValueError(f"unclosed ${{ in {value!r}; expected ${{key}} or "
                             "${section.key}")
        for ref in REF.findall(value):
            if not REF_NAME.match(ref):
                raise ValueError(f"bad call-data reference ${{{ref}}}; expected ${{key}} "
                                 "or ${section.key}")
    return value


def check_regex(value):
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"bad regular expression: {exc}") from None
    return value


def _not_blank(value):
    if not value.strip():
        raise ValueError("empty TTS text")
    return value


def _no_call_data(value):
    """TTS is rendered to sound files ahead of time: a ${...} would never be filled in."""
    start = value.find("${")
    if start != -1:
        ref = REF.match(value, start)
        shown = ref.group(0) if ref and unclosed_ref(value) != start else value[start:]
        raise ValueError(f"TTS text cannot contain call data ({shown}); speak values "
                         "with a `say` node")
    return value


def _numbers_to_text(value):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


TextRef = Annotated[str, AfterValidator(check_refs)]
# call data are strings; YAML numbers are read as their text
Scalar = Annotated[str, BeforeValidator(_numbers_to_text), AfterValidator(check_refs),
                   WithJsonSchema({"type": ["string", "number"]})]
Regex = Annotated[str, AfterValidator(check_regex)]
TtsText = Annotated[str, Field(min_length=1), AfterValidator(_not_blank),
                   AfterValidator(_no_call_data)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Text(Model):
    zh: TtsText | None = None
    en: TtsText | None = None

    @model_validator(mode="after")
    def _one_language(self):
        if self.zh is None and self.en is None:
            raise ValueError("text needs at least one of zh, en")
        return self


class Prompt(Model):
    """What the caller hears: a sound file, or text for TTS in zh and/or en."""
    file: str | None = Field(None, min_length=1,
                             description="sound file, relative to the flow file or the prompts dir")
    text: Text | None = None

    @model_validator(mode="after")
    def _file_or_text(self):
        return exactly_one(self, "prompt", "file", "text")


def exactly_one(model, what: str, *names: str):
    """Validator body: exactly one of the named fields is set."""
    if sum(getattr(model, n) is not None for n in names) != 1:
        raise ValueError(f"a {what} needs exactly one of {', '.join(names)}")
    return model


def outcome_name(key) -> str:
    """YAML reads `1:` as an int and `true:`/`yes:` as a bool; outcome names are strings."""
    return str(key).lower() if isinstance(key, bool) else str(key)


def _outcome_keys(value):
    if isinstance(value, dict):
        names = {}
        for key in value:
            name = outcome_name(key)
            if name in names:
                raise ValueError(f"outcomes {names[name]!r} and {key!r} both mean {name!r}")
            names[name] = key
        return {outcome_name(k): v for k, v in value.items()}
    return value


class Verb(Model):
    OUTCOMES: ClassVar[tuple[str, ...]] = ("done", "error")
    REQUIRED: ClassVar[tuple[str, ...]] = ("done",)
    ENDS_CALL: ClassVar[bool] = False
    NATIVE: ClassVar[bool] = True  # the switch can run it from compiled dialplan

    verb: str
    next: Annotated[dict[str, str], BeforeValidator(_outcome_keys)] = Field(
        default_factory=dict, description="outcome -> node name (or 'return')")

    def outcomes(self) -> tuple[str, ...]:
        return self.OUTCOMES

    def required(self) -> tuple[str, ...]:
        return () if self.ENDS_CALL else self.REQUIRED


def iter_prompts(value, path=()):
    """(path, Prompt) for every prompt inside a verb, found by walking its fields."""
    if isinstance(value, Prompt):
        yield path, value
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from iter_prompts(getattr(value, name), path + (name,))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from iter_prompts(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from iter_prompts(item, path + (index,))
