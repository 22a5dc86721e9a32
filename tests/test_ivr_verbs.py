"""Each IVR verb's arguments: a good node validates, a bad argument is refused."""
import pytest
from pydantic import TypeAdapter, ValidationError

from esl_apps.ivr.verbs import VERBS, Node

NODE = TypeAdapter(Node)
PROMPT = {"text": {"zh": "请按1"}}

GOOD = {
    "play": {"text": {"zh": "您好", "en": "Hello"}},
    "menu": {"prompt": PROMPT},
    "collect": {"prompt": PROMPT, "max": 12, "store": "account"},
    "lookup": {"sql": {"query": "SELECT a FROM t WHERE b = ?", "params": ["${account}"]},
               "store": "bill"},
    "say": {"kind": "money", "value": "${bill.amount}"},
    "branch": {"when": {"business_hours": "default"}},
    "set": {"section": "ticket", "key": "kind", "value": "repair"},
    "queue": {"queue": "default"},
    "transfer": {"to": "extension", "target": "8001"},
    "voicemail": {"box": "default"},
    "callback": {"queue": "default"},
    "language": {"language": "en"},
    "record_notice": {},
    "hangup": {},
    "subflow": {"flow": "to_agent"},
}

BAD = [
    ("play", "text", {"zh": "  "}, "empty TTS text"),
    ("play", "file", "", "at least 1 character"),
    ("menu", "timeout", 0, "greater than 0"),
    ("menu", "retries", 0, "greater than or equal to 1"),
    ("menu", "prompt", {"file": "a.wav", "text": {"zh": "b"}}, "exactly one of file, text"),
    ("collect", "pattern", "[0-9", "bad regular expression"),
    ("collect", "max", 0, "greater than or equal to 1"),
    ("collect", "min", 13, "max (12) is less than min (13)"),
    ("collect", "terminator", "x", "Input should be"),
    ("lookup", "sql", {"query": "DELETE FROM t", "params": []}, "single SELECT"),
    ("lookup", "sql", {"query": "SELECT a FROM t WHERE b = ?"}, "1 ? placeholder(s) but 0"),
    ("lookup", "http", {"url": "ftp://x"}, "should match pattern"),
    ("lookup", "sql", None, "exactly one of sql, http"),
    ("say", "kind", "colour", "Input should be"),
    ("say", "value", "${bill amount}", "bad call-data reference"),
    ("branch", "when", {}, "at least one of"),
    ("branch", "when", {"caller_prefix": ["13x"]}, "not a phone number"),
    ("branch", "cases", {"default": {"did": ["88001234"]}}, "both: exactly one of when, cases"),
    ("set", "key", "bad key", "should match pattern"),
    ("queue", "queue", "", "should match pattern"),
    ("transfer", "target", "abc", "is not an extension"),
    ("transfer", "to", "moon", "Input should be"),
    ("voicemail", "max_seconds", 0, "greater than or equal to 5"),
    ("callback", "number", "${}", "bad call-data reference"),
    ("language", "language", "fr", "Input should be 'zh' or 'en'"),
    ("record_notice", "prompt", {"text": {}}, "at least one of zh, en"),
    ("hangup", "cause", "WHATEVER", "Input should be"),
    ("subflow", "flow", "to agent", "should match pattern"),
]


def node(verb, **changes):
    return {"verb": verb, **GOOD[verb], **changes}


def errors_of(data):
    with pytest.raises(ValidationError) as info:
        NODE.validate_python(data)
    return info.value.errors()


def test_every_registered_verb_has_a_good_example():
    assert set(GOOD) == set(VERBS)


@pytest.mark.parametrize("verb", sorted(GOOD))
def test_good_node_validates(verb):
    assert NODE.validate_python(node(verb)).verb == verb


@pytest.mark.parametrize("verb, field, value, words", BAD)
def test_bad_argument_is_refused(verb, field, value, words):
    NODE.validate_python(node(verb))
    errors = errors_of(node(verb, **{field: value}))
    assert any(words.removeprefix("both: ") in e["msg"] for e in errors), errors
    # the error is on the field, or on the node for a rule across fields
    assert all(e["loc"][:2] in {(verb, field), (verb, "max")} or e["loc"] == (verb,)
               for e in errors), errors


def test_branch_case_cannot_be_named_default():
    errors = errors_of({"verb": "branch", "cases": {"default": {"did": ["88001234"]}}})
    assert [e["msg"] for e in errors] == [
        "Value error, 'default' is the outcome when no case holds; rename that case"]


def test_every_verb_is_in_a_bad_case():
    assert {case[0] for case in BAD} == set(VERBS)


@pytest.mark.parametrize("verb", sorted(GOOD))
def test_unknown_key_is_refused(verb):
    errors = errors_of(node(verb, bogus=1))
    assert [(e["type"], e["loc"]) for e in errors] == [("extra_forbidden", (verb, "bogus"))]


def test_outcome_keys_from_yaml_become_strings():
    menu = NODE.validate_python(node("menu", next={1: "a", "timeout": "b"}))
    branch = NODE.validate_python(node("branch", next={True: "x", False: "y"}))
    assert menu.next == {"1": "a", "timeout": "b"}
    assert branch.next == {"true": "x", "false": "y"}


def test_outcomes_and_ending_verbs():
    ends = {name for name, cls in VERBS.items() if cls.ENDS_CALL}
    assert ends == {"hangup", "queue", "transfer", "voicemail"}
    cases = NODE.validate_python(node("branch", when=None, cases={"vip": {"did": ["1"]}}))
    assert cases.outcomes() == ("vip", "default") == cases.required()
    assert "5" in NODE.validate_python(node("menu")).outcomes()
    assert NODE.validate_python(node("queue")).required() == ()
