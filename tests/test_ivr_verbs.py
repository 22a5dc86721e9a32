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
    ("lookup", "http", {"url": "ftp://x"}, "expected an http:// or https:// URL"),
    ("lookup", "http", {"url": "https://x/${account"}, "unclosed ${ in 'https://x/${account'"),
    ("lookup", "sql", {"query": "SELECT a FROM t WHERE b = ?", "params": ["${account"]},
     "unclosed ${"),
    ("lookup", "sql", {"query": "SELECT a FROM t WHERE b = '?'", "params": ["${account}"]},
     "0 ? placeholder(s) but 1"),
    ("lookup", "sql", {"query": "SELECT a FROM t -- ?\nWHERE b = ? AND c = ?",
                       "params": ["${account}"]}, "2 ? placeholder(s) but 1"),
    ("lookup", "sql", {"query": "SELECT a FROM t WHERE b = 'x''; DELETE FROM t; --'; "
                                "DELETE FROM t", "params": []}, "single SELECT"),
    ("lookup", "sql", {"query": "SELECT a FROM t WHERE b = 'x", "params": []},
     "a ' string in the query is never closed"),
    ("lookup", "store", "caller", "'caller' is set by Hotline for every call; pick another "
                                  "section"),
    ("lookup", "sql", None, "exactly one of sql, http"),
    ("say", "kind", "colour", "Input should be"),
    ("say", "value", "${bill amount}", "bad call-data reference"),
    ("say", "value", "${bill.amount", "unclosed ${ in '${bill.amount'"),
    ("say", "value", "1${a}${b", "unclosed ${"),
    ("say", "value", "${a${b}", "unclosed ${"),
    ("branch", "when", {}, "at least one of"),
    ("branch", "when", {"caller_prefix": ["13x"]}, "'13x' is not a phone number or prefix"),
    ("branch", "when", {"did": ["1380", "12-345"]}, "'12-345' is not a phone number"),
    ("branch", "when", {"data": {"key": "bill amount", "equals": "0"}},
     "'bill amount' is not a call-data key; expected key or section.key (letters, digits, _)"),
    ("branch", "cases", {"vip": {"did": ["88001234"]}}, "both: exactly one of when, cases"),
    ("set", "key", "bad key", "'bad key' is not a valid name; use letters, digits and _ , "
                              "not starting with a digit"),
    ("set", "value", "${ticket", "unclosed ${"),
    ("set", "section", "did", "'did' is set by Hotline for every call; pick another section"),
    ("queue", "queue", "", "'' is not a valid name"),
    ("transfer", "target", "abc", "is not an extension"),
    ("transfer", "to", "moon", "Input should be"),
    ("voicemail", "max_seconds", 0, "greater than or equal to 5"),
    ("callback", "number", "${}", "bad call-data reference"),
    ("callback", "number", "${caller", "unclosed ${ in '${caller'"),
    ("language", "language", "fr", "Input should be 'zh' or 'en'"),
    ("record_notice", "prompt", {"text": {}}, "at least one of zh, en"),
    ("hangup", "cause", "WHATEVER", "Input should be"),
    ("subflow", "flow", "to agent", "'to agent' is not a valid name"),
    ("subflow", "flow", "1st", "'1st' is not a valid name"),
    ("play", "text", {"zh": "金额${bill.amount_due}元"},
     "TTS text cannot contain call data (${bill.amount_due}); speak values with a `say` node"),
    ("play", "text", {"en": "You owe ${bill"}, "TTS text cannot contain call data (${bill)"),
    ("menu", "store", "caller", "'caller' is set by Hotline for every call; pick another key"),
    ("collect", "store", "did", "'did' is set by Hotline for every call; pick another key"),
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
    assert [(e["loc"], e["msg"]) for e in errors] == [
        (("branch", "cases", "default", "[key]"),
         "Value error, 'default' is the outcome when no case holds; rename that case")]


def test_bad_number_is_reported_at_its_item():
    errors = errors_of(node("branch", when={"caller_prefix": ["139", "13x"]}))
    assert [e["loc"] for e in errors] == [("branch", "when", "caller_prefix", 1)]


@pytest.mark.parametrize("verb, changes", [
    ("set", {"value": "$5"}),
    ("set", {"value": "costs $5 or ${bill.amount_due} {x} $"}),
    ("callback", {"number": "${ticket.phone}"}),
    ("lookup", {"sql": None, "http": {"url": "https://billing.invalid/${account}?c=$x"}}),
    ("lookup", {"sql": {"query": "SELECT a FROM t WHERE b = ? AND c = 'it''s; ok?'",
                        "params": ["${account}"]}}),
    ("lookup", {"sql": {"query": "-- the bill; who asks?\nselect a, \"b;?\" FROM t /* ? */ "
                                 "WHERE b = ?;", "params": ["${account}"]}}),
    ("say", {"kind": "date", "value": "2024-02-29"}),
    ("play", {"text": {"zh": "费用5元，请按$键", "en": "It costs $5 {per} month"}}),
    ("menu", {"store": "choice"}),
    ("set", {"key": "caller"}),  # stored as ticket.caller, not the built-in caller
    ("branch", {"when": {"data": {"key": "caller", "regex": "^139"}}}),
])
def test_good_argument_is_accepted(verb, changes):
    NODE.validate_python(node(verb, **changes))


@pytest.mark.parametrize("value, words", [
    ("2026-02-30", "'2026-02-30' is not a date: day is out of range for month"),
    ("2026-13-01", "'2026-13-01' is not a date: month must be in 1..12"),
    ("2026-2-3", "'2026-2-3' is not a date (YYYY-MM-DD)"),
])
def test_say_date_must_exist(value, words):
    errors = errors_of(node("say", kind="date", value=value))
    assert [(e["loc"], e["msg"]) for e in errors] == [(("say", "value"), "Value error, " + words)]


def test_every_verb_is_in_a_bad_case():
    assert {case[0] for case in BAD} == set(VERBS)


@pytest.mark.parametrize("verb", sorted(GOOD))
def test_unknown_key_is_refused(verb):
    errors = errors_of(node(verb, bogus=1))
    assert [(e["type"], e["loc"]) for e in errors] == [("extra_forbidden", (verb, "bogus"))]


def test_outcome_keys_that_mean_the_same_are_refused():
    errors = errors_of(node("branch", next={True: "x", "true": "y", False: "z"}))
    assert [(e["loc"], e["msg"]) for e in errors] == [
        (("branch", "next"), "Value error, outcomes True and 'true' both mean 'true'")]
    errors = errors_of(node("menu", next={1: "a", "1": "b"}))
    assert "outcomes 1 and '1' both mean '1'" in errors[0]["msg"]


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
