"""Flows compiled to dialplan: what each verb becomes, and that it reads like the
runtime (the same applications, arguments and regexes)."""
import os
import time
import xml.etree.ElementTree as ET

import pytest

from esl_apps.ivr.compile import (ENTRY_CONTEXT, FALLBACK, CompileError, FlowCompiler, Target,
                                  compile_flows, context_name, version)
from esl_apps.ivr.loader import load_flows
from esl_apps.ivr.sets import unmerge
from esl_apps.paths import data_dir
from tests.ivr_session import flows_from

HEAD = "name: f\nentry: start\nlanguage: zh\ndids: ['88001234']\nnodes:\n"


@pytest.fixture
def target(tmp_path):
    """Node by node, as written (test_inlining_* check what the switch gets)."""
    return Target(prompts_dir=tmp_path / "prompts", recordings_dir=tmp_path / "rec",
                  socket_port=18084, inline_depth=0)


def compiled(tmp_path, target, nodes, **more):
    flows_dir = tmp_path / "flows"
    flows_dir.mkdir(exist_ok=True)
    flows = flows_from(flows_dir, f=HEAD + nodes, **more)
    compile_flows(flows, target, tmp_path / "dialplan")
    return flows, FlowCompiler(flows, target)


def extensions(tmp_path, flows, name="f", language="zh"):
    path = tmp_path / "dialplan/flows" / f"{name}.{version(flows[name])}.xml"
    root = ET.parse(path).getroot()
    context = root.find(f"context[@name='{context_name(name, version(flows[name]), language)}']")
    return {e.get("name"): e for e in context.findall("extension")}


def actions(ext, tag="action"):
    """The actions of the extension's last condition, a multiset as its sets (the
    merge itself: tests/test_ivr_sets.py)."""
    last = ext.findall("condition")[-1]
    return unmerge([(a.get("application"), a.get("data")) for a in last.findall(tag)])


def conditions(ext):
    return [(c.get("field"), c.get("expression")) for c in ext.findall("condition")]


def test_samples_compile_to_well_formed_xml(tmp_path, target):
    flows, errors = load_flows(data_dir("ivr_flows"))
    assert not errors
    written = compile_flows(flows, target, tmp_path)
    for path in written:
        ET.parse(path)
    assert {p.name.split(".")[0] for p in written} >= set(flows) | {"00_entry"}
    assert (target.recordings_dir / "voicemail" / "repairs").is_dir()


def test_menu_reads_like_the_runtime(tmp_path, target):
    flows, _ = compiled(tmp_path, target, """
  start:
    verb: menu
    prompt: {text: {zh: 请按1, en: Press 1}}
    timeout: 4
    retries: 2
    store: choice
    next: {"1": a, "#": a, timeout: b, invalid: return}
  a: {verb: hangup}
  b: {verb: hangup}
""")
    ext = extensions(tmp_path, flows)
    ctx = context_name("f", version(flows["f"]), "zh")
    pagd = dict(actions(ext["n_start"]))["play_and_get_digits"].split()
    assert pagd[:5] == ["1", "1", "2", "4000", "none"]
    assert pagd[5].startswith(str(target.prompts_dir / "tts" / "zh"))
    assert pagd[6] == "silence_stream://250" and pagd[7] == "hotline_input"
    assert pagd[8] == r"^[\#1]$" and pagd[9] == "4000"
    assert conditions(ext["o_start_0"])[1] == ("${hotline_input}", "^1$")
    assert actions(ext["o_start_0"]) == [
        ("set", "hotline_data_choice=1"),
        ("set", "cc_export_vars=${cc_export_vars},hotline_data_choice"),   # to the agent's leg
        ("transfer", f"n_a XML {ctx}")]
    assert conditions(ext["o_start_2"])[1] == ("${hotline_input_invalid}", ".")
    assert actions(ext["o_start_2"]) == [("transfer", f"r_return XML {ctx}")]
    assert actions(ext["o_start_3"]) == [("transfer", f"n_b XML {ctx}")]
    en = extensions(tmp_path, flows, language="en")
    assert "/tts/en/" in dict(actions(en["n_start"]))["play_and_get_digits"]


def test_collect_uses_the_runtime_regex_and_stores(tmp_path, target):
    flows, _ = compiled(tmp_path, target, """
  start:
    verb: collect
    prompt: {text: {zh: 请输入户号}}
    min: 6
    max: 12
    pattern: "^[0-9]+$"
    store: account
    next: {done: a, no_input: a, invalid: a}
  a: {verb: hangup}
""")
    ext = extensions(tmp_path, flows)
    regex = flows["f"].nodes["start"].regex()
    assert dict(actions(ext["n_start"]))["play_and_get_digits"].split()[8] == regex
    assert conditions(ext["o_start_0"])[1] == ("${hotline_input}", regex)
    assert actions(ext["o_start_0"])[0] == ("set", "hotline_data_account=${hotline_input}")


def test_say_checks_the_value_then_speaks_through_zh_cn(tmp_path, target):
    flows, _ = compiled(tmp_path, target, """
  start: {verb: say, kind: money, value: "${bill.amount_due}", next: {done: d, error: bad}}
  d: {verb: say, kind: date, value: "${bill.due}", language: en, next: {done: bad}}
  bad: {verb: hangup}
""")
    ext = extensions(tmp_path, flows)
    assert conditions(ext["n_start"])[1] == ("${hotline_data_bill__amount_due}",
                                            r"^-?[0-9]+(\.[0-9]{1,2})?$")
    assert ("say", "zh_CN CURRENCY PRONOUNCED ${hotline_data_bill__amount_due}") in \
        actions(ext["n_start"])
    assert ("set", f"sound_prefix={target.prompts_dir}/say/zh") in actions(ext["n_start"])
    assert actions(ext["n_start"], "anti-action")[-1][0] == "transfer"
    assert ("say", "en CURRENT_DATE PRONOUNCED ${strepoch(${hotline_data_bill__due} 12:00:00)}") \
        in actions(ext["n_d"])


def test_branch_is_one_extension_per_case_in_order(tmp_path, target):
    flows, _ = compiled(tmp_path, target, """
  start:
    verb: branch
    cases:
      vip: {caller_prefix: ["+86139"], did: ["88001234"]}
      open: {business_hours: default}
      repair: {data: {key: ticket.kind, equals: "a.b"}}
    next: {vip: a, open: a, repair: a, default: a}
  a: {verb: hangup}
""")
    ext = extensions(tmp_path, flows)
    assert conditions(ext["n_start_0"])[1:] == [("caller_id_number", r"^(\+86139)"),
                                                ("${hotline_did}", "^(88001234)$")]
    # never pushed (Hotline down since the switch started) counts as open: fail-open
    assert conditions(ext["n_start_1"])[1:] == [("${hotline_open_default}", "^(true)?$")]
    assert conditions(ext["n_start_2"])[1:] == [("${hotline_data_ticket__kind}", r"^a\.b$")]
    assert len(conditions(ext["n_start_3"])) == 1


def test_lookup_hands_over_to_the_socket_app_and_fails_open_to_error(tmp_path, target):
    flows, _ = compiled(tmp_path, target, """
  start:
    verb: lookup
    sql: {query: "SELECT 1 AS one"}
    store: r
    next: {done: a, not_found: a, error: sorry}
  a: {verb: hangup}
  sorry: {verb: hangup}
""")
    ctx = context_name("f", version(flows["f"]), "zh")
    steps = actions(extensions(tmp_path, flows)["n_start"])
    assert ("set", "hotline_app=ivr") in steps and ("set", "hotline_resume=f:start") in steps
    assert ("set", f"hotline_context={ctx}") in steps
    assert ("sched_transfer", f"+30 n_sorry XML {ctx}") in steps
    assert steps[-2:] == [("socket", "127.0.0.1:18084 async full"),
                          ("transfer", f"n_sorry XML {ctx}")]


def test_queue_outcomes_survey_callback_and_overflow(tmp_path, target):
    flows, _ = compiled(tmp_path, target, """
  start: {verb: queue, queue: repairs, callback_key: "1",
          next: {answered: rate, callback: cb, timeout: vm}}
  rate: {verb: transfer, to: flow, target: f}
  cb: {verb: callback, queue: repairs, next: {done: bye}}
  vm: {verb: voicemail, box: repairs}
  bye: {verb: hangup}
""")
    ext = extensions(tmp_path, flows)
    ctx = context_name("f", version(flows["f"]), "zh")
    join = f"q_start XML {ctx}"
    sets = [("set", "hotline_queue=repairs"), ("set", "hangup_after_bridge=false"),
            ("set", "RECORD_BRIDGE_REQ=true"), ("set", f"hotline_after_agent=o_start:XML:{ctx}"),
            ("set", "cc_exit_keys=1")]
    # a sticky queue (the waiting service pushes the flag) asks the sticky app first
    assert conditions(ext["n_start"])[1] == ("${hotline_sticky_repairs}", "^[1-9]")
    assert actions(ext["n_start"])[1:] == sets + [
        ("set", "hotline_app=sticky"), ("set", f"hotline_sticky_next={join}"),
        ("sched_transfer", f"+30 {join}"), ("socket", "127.0.0.1:18084 async full"),
        ("transfer", join)]
    assert actions(ext["n_start"], "anti-action")[1:] == sets + [("transfer", join)]
    assert actions(ext["q_start"]) == [("callcenter", "repairs@default"),
                                       ("transfer", f"o_start XML {ctx}")]
    assert (conditions(ext["o_start_0"])[1], actions(ext["o_start_0"])) == (
        ("${cc_cause}", "^answered$"), [("transfer", f"n_rate XML {ctx}")])
    assert (conditions(ext["o_start_1"])[1], actions(ext["o_start_1"])) == (
        ("${cc_cancel_reason}", "^EXIT_WITH_KEY$"), [("transfer", f"n_cb XML {ctx}")])
    assert actions(ext["o_start_2"]) == [("transfer", f"n_vm XML {ctx}")]


def test_queue_answered_unmapped_hangs_up(tmp_path, target):
    flows, _ = compiled(tmp_path, target, "  start: {verb: queue, queue: q}\n")
    ext = extensions(tmp_path, flows)
    assert actions(ext["o_start_0"]) == [("hangup", "NORMAL_CLEARING")]
    assert actions(ext["o_start_2"]) == [("transfer", FALLBACK)]


def test_language_subflow_and_return(tmp_path, target):
    sub = "name: sub\nentry: s\nnodes:\n  s: {verb: play, text: {zh: 子, en: sub}, next: {done: return}}\n"
    flows, _ = compiled(tmp_path, target, """
  start: {verb: language, language: en, next: {done: call}}
  call: {verb: subflow, flow: sub, next: {done: bye}}
  bye: {verb: hangup}
""", sub=sub)
    zh, en = extensions(tmp_path, flows), extensions(tmp_path, flows, language="en")
    en_ctx = context_name("f", version(flows["f"]), "en")
    sub_en = context_name("sub", version(flows["sub"]), "en")
    assert actions(zh["n_start"])[-1] == ("transfer", f"n_call XML {en_ctx}")
    assert actions(en["n_call"])[1:] == [("set", f"hotline_ret_sub=n_bye XML {en_ctx}"),
                                         ("transfer", f"n_s XML {sub_en}")]
    back = extensions(tmp_path, flows, "sub", "en")["r_return"]
    assert actions(back) == [("transfer", "${hotline_ret_sub}")]
    assert actions(back, "anti-action") == [("transfer", FALLBACK)]


def test_entry_and_dids(tmp_path, target):
    target.inline_depth = 12
    flows, _ = compiled(tmp_path, target, "  start: {verb: hangup}\n")
    entry = ET.parse(tmp_path / "dialplan/flows/00_entry.xml").getroot().find("context")
    assert entry.get("name") == ENTRY_CONTEXT
    names = [e.get("name") for e in entry.findall("extension")]
    assert names == ["flow_f_en", "flow_f_zh", "flow_unknown"]   # the flow's own language last
    zh = entry.find("extension[@name='flow_f_zh']")
    assert len(conditions(zh)) == 1
    # the entry node (a hangup) is copied in after the answer: no transfer
    assert actions(zh)[-2:] == [("answer", ""), ("hangup", "NORMAL_CLEARING")]
    assert ("set", "hotline_path=${hotline_path} f:start") in actions(zh)
    assert actions(zh)[0] == ("set", "hotline_data_caller=${caller_id_number}")
    dids = ET.parse(tmp_path / "dialplan/public/55_flow_dids.xml").getroot()
    ext = dids.find("extension")
    assert conditions(ext) == [("destination_number", r"^\+?88001234$")]
    # a flow file's DID enters the flow straight away, as the entry context would
    assert actions(ext)[:2] == [actions(zh)[0], ("set", "hotline_did=88001234")]
    # (the DID is known here: the multiset writes it in place of ${hotline_did})
    assert actions(ext)[2:] == [("set", "hotline_data_did=88001234")
                                if a == ("set", "hotline_data_did=${hotline_did}") else a
                                for a in actions(zh)[1:]]


def test_socket_mode_entry_hands_the_flow_to_the_app(tmp_path, target):
    target.mode = "socket"
    compiled(tmp_path, target, "  start: {verb: hangup}\n")
    entry = ET.parse(tmp_path / "dialplan/flows/00_entry.xml").getroot()
    steps = actions(entry.find("context/extension[@name='flow_f']"))
    assert ("set", "hotline_app=ivr") in steps
    assert steps[-2:] == [("socket", "127.0.0.1:18084 async full"), ("transfer", FALLBACK)]
    did = ET.parse(tmp_path / "dialplan/public/55_flow_dids.xml").getroot().find("extension")
    assert actions(did)[-1] == ("transfer", f"flow_f XML {ENTRY_CONTEXT}")


def test_an_edit_is_a_new_version_and_the_old_one_stays_a_while(tmp_path, target):
    flows, _ = compiled(tmp_path, target, "  start: {verb: hangup}\n")
    old = tmp_path / "dialplan/flows" / f"f.{version(flows['f'])}.xml"
    (tmp_path / "flows/f.yaml").write_text(HEAD + "  start: {verb: hangup, cause: USER_BUSY}\n")
    new_flows, _ = load_flows(tmp_path / "flows")
    compile_flows(new_flows, target, tmp_path / "dialplan")
    assert version(new_flows["f"]) != version(flows["f"])
    assert old.exists()          # calls in progress keep their version
    hour_ago = time.time() - 3700
    os.utime(old, (hour_ago, hour_ago))
    compile_flows(new_flows, target, tmp_path / "dialplan")
    assert not old.exists()


def test_values_that_could_reach_the_preprocessor_are_refused(tmp_path, target):
    with pytest.raises(CompileError, match="cannot go into the dialplan"):
        compiled(tmp_path, target, """
  start: {verb: set, section: a, key: b, value: "x $${hack}", next: {done: bye}}
  bye: {verb: hangup}
""")


def test_xml_special_characters_are_escaped(tmp_path, target):
    flows, _ = compiled(tmp_path, target, """
  start: {verb: set, section: a, key: b, value: "<\\"&'>", next: {done: bye}}
  bye: {verb: hangup}
""")
    assert actions(extensions(tmp_path, flows)["n_start"])[1] == (
        "set", "hotline_data_a__b=<\"&'>")


def test_inlining_copies_plain_nodes_in_place_of_transfers(tmp_path, target):
    """What the switch gets: a straight run of nodes is one extension; a menu's
    dispatch and a node others transfer to keep their own extensions."""
    target.inline_depth = 12
    flows, _ = compiled(tmp_path, target, """
  start: {verb: play, text: {zh: 你好, en: hi}, next: {done: menu}}
  menu: {verb: menu, prompt: {text: {zh: 按1, en: press 1}}, retries: 1,
         next: {"1": thanks, timeout: menu_again, invalid: bye}}
  menu_again: {verb: play, text: {zh: 再来, en: again}, next: {done: menu}}
  thanks: {verb: play, text: {zh: 谢谢, en: thanks}, next: {done: bye}}
  bye: {verb: hangup}
""")
    ext = extensions(tmp_path, flows)
    ctx = context_name("f", version(flows["f"]), "zh")
    apps = [a for a, _ in actions(ext["n_start"])]
    # start -> menu inlined: one extension runs the greeting and the menu
    assert apps.count("play_and_get_digits") == 1 and apps[-1] == "transfer"
    assert actions(ext["n_start"])[-1] == ("transfer", f"o_menu XML {ctx}")
    paths = [d for a, d in actions(ext["n_start"]) if d.startswith("hotline_path=")]
    assert paths == ["hotline_path=${hotline_path} f:start", "hotline_path=${hotline_path} f:menu"]
    # "1" -> thanks -> bye, all in the dispatch extension
    assert actions(ext["o_menu_0"])[-1] == ("hangup", "NORMAL_CLEARING")
    assert [d for a, d in actions(ext["o_menu_0"]) if d.startswith("hotline_path=")] == [
        "hotline_path=${hotline_path} f:thanks", "hotline_path=${hotline_path} f:bye"]
    # the loop menu_again -> menu -> (o_menu) stops at the dispatch; nothing runs twice
    again = actions(ext["o_menu_2"])
    assert sum(a == "play_and_get_digits" for a, _ in again) == 1
    assert again[-1] == ("transfer", f"o_menu XML {ctx}")
    # every node still has its own extension for calls that land on it
    assert {"n_start", "n_menu", "n_menu_again", "n_thanks", "n_bye"} <= set(ext)
    # the entry extension (another context) runs the same chain up to the menu's
    # dispatch, which names the version's context
    entry = ET.parse(tmp_path / "dialplan/flows/00_entry.xml").getroot()
    zh = entry.find("context/extension[@name='flow_f_zh']")
    assert [a for a, _ in actions(zh)].count("play_and_get_digits") == 1
    assert actions(zh)[-1] == ("transfer", f"o_menu XML {ctx}")


def test_inlining_never_loops_and_stops_at_conditions(tmp_path, target):
    target.inline_depth = 12
    flows, compiler = compiled(tmp_path, target, """
  start: {verb: play, text: {zh: 一, en: one}, next: {done: q}}
  q: {verb: queue, queue: repairs}
""")
    ext = extensions(tmp_path, flows)
    ctx = context_name("f", version(flows["f"]), "zh")
    # the queue node has a condition of its own (the sticky flag): a transfer stays
    assert actions(ext["n_start"])[-1] == ("transfer", f"n_q XML {ctx}")
    # a loop of plain nodes (flow checks refuse those; the compiler must not hang)
    a, b = f"n_a XML {ctx}", f"n_b XML {ctx}"
    bodies = {a: [("playback", "a"), ("transfer", b)], b: [("playback", "b"), ("transfer", a)]}
    assert compiler.inline([("transfer", a)], bodies) == [
        ("playback", "a"), ("playback", "b"), ("transfer", a)]
    assert compiler.inline([("transfer", "n_a XML public")], bodies) == [
        ("transfer", "n_a XML public")]


def test_inlining_keeps_the_runtime_path_of_the_samples(tmp_path):
    """Inlined or not, every sample flow compiles to the same set of node
    extensions and dispatches; inlining only shortens the hops between them."""
    flows, errors = load_flows(data_dir("ivr_flows"))
    assert not errors
    kw = dict(prompts_dir=tmp_path / "prompts", recordings_dir=tmp_path / "rec")
    plain = FlowCompiler(flows, Target(inline_depth=0, **kw))
    inlined = FlowCompiler(flows, Target(**kw))
    for name, flow in flows.items():
        a, b = ET.fromstring(plain.flow_xml(flow)), ET.fromstring(inlined.flow_xml(flow))
        assert ([e.get("name") for e in a.iter("extension")]
                == [e.get("name") for e in b.iter("extension")])
        hops = lambda root: sum(1 for x in root.iter("action")   # noqa: E731
                                if x.get("application") == "transfer")
        assert hops(b) < hops(a), name


def test_leading_sets_run_inline_the_rest_in_order(tmp_path, target):
    """Sets before an extension's first application run while the switch hunts the
    dialplan (no application run, no events); a set after one must wait its turn."""
    target.inline_depth = 12
    flows, _ = compiled(tmp_path, target, """
  start: {verb: play, text: {zh: 你好, en: hi}, next: {done: bye}}
  bye: {verb: hangup}
""")
    path = tmp_path / "dialplan/flows" / f"f.{version(flows['f'])}.xml"
    ext = extensions(tmp_path, flows)["n_start"]
    marked = [(a.get("application"), a.get("inline"))
              for a in ext.findall("condition")[-1].findall("action")]
    assert marked == [("set", "true"), ("playback", None), ("set", None), ("hangup", None)]
    dids = ET.parse(tmp_path / "dialplan/public/55_flow_dids.xml").getroot().find("extension")
    inline = [a.get("application") for a in dids.iter("action") if a.get("inline")]
    # the caller's number on its own, every other set (the entry node's too) as one
    assert inline == ["set", "multiset"] and path.exists()
    assert [a.get("application") for a in dids.iter("action") if not a.get("inline")] == [
        "answer", "playback", "set", "hangup"]

