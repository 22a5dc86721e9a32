"""Runs of sets merged into one multiset (esl_apps/ivr/sets.py): what each variable
ends up holding must be what the chain of sets would have stored."""
from esl_apps.ivr.sets import merge


def expand(multiset_data: str, before: dict) -> dict:
    """What the switch does with `multiset ^^|...`: expand the whole argument with
    the variables as they were, then assign each part."""
    import re
    text = re.sub(r"\$\{([^{}]*)\}", lambda m: before.get(m[1], ""), multiset_data)
    out = dict(before)
    for part in text[3:].split(text[2]):
        name, value = part.split("=", 1)
        out[name] = value
    return out


def chain(sets: list, before: dict) -> dict:
    import re
    out = dict(before)
    for _, data in sets:
        name, value = data.split("=", 1)
        out[name] = re.sub(r"\$\{([^{}]*)\}", lambda m: out.get(m[1], ""), value)
    return out


def test_a_run_of_static_sets_is_one_multiset_that_stores_the_same():
    sets = [("set", "hotline_flow=heating"), ("set", "hotline_path=${hotline_path} heating:a"),
            ("set", "hotline_path=${hotline_path} heating:b"),
            ("set", "hotline_data_did=${hotline_did}"), ("set", "hotline_did=7003")]
    merged = merge(sets)
    assert [a for a, _ in merged] == ["multiset"]
    before = {"hotline_path": " x:start", "hotline_did": "88001234"}
    assert expand(merged[0][1], before) == chain(sets, before)
    assert expand(merged[0][1], before)["hotline_path"] == " x:start heating:a heating:b"


def test_a_value_from_outside_never_joins():
    """A caller's number (or a looked-up value) could hold the delimiter and with it
    a second assignment: such a set stays a set and splits the run."""
    sets = [("set", "hotline_flow=f"), ("set", "hotline_data_caller=${caller_id_number}"),
            ("set", "hotline_language=zh"), ("set", "hotline_data_bill=${hotline_data_amount}")]
    assert merge(sets) == sets


def test_the_delimiter_or_an_unknown_reference_keeps_a_set_alone():
    sets = [("set", "a=1"), ("set", "b=x|c=2"), ("set", "d=3"), ("set", "e=${cond(1 == 1 ? y : n)}"),
            ("set", "f=${hotline_path"), ("set", "g=^^|h")]
    assert merge(sets) == sets


def test_other_applications_split_runs_and_keep_their_place():
    sets = [("set", "a=1"), ("set", "b=2"), ("playback", "x.wav"), ("set", "c=3"),
            ("set", "hotline_path=${hotline_path} f:c"), ("hangup", "NORMAL_CLEARING")]
    assert merge(sets) == [("multiset", "^^|a=1|b=2"), ("playback", "x.wav"),
                           ("multiset", "^^|c=3|hotline_path=${hotline_path} f:c"),
                           ("hangup", "NORMAL_CLEARING")]


def test_a_later_value_built_on_an_earlier_one_in_the_run():
    sets = [("set", "hotline_data_choice=1"),
            ("set", "cc_export_vars=${cc_export_vars},hotline_data_choice"),
            ("set", "hotline_data_again=${hotline_data_choice}")]
    merged = merge(sets)
    before = {"cc_export_vars": "hotline_did"}
    assert expand(merged[0][1], before) == chain(sets, before)
    assert expand(merged[0][1], before)["hotline_data_again"] == "1"
