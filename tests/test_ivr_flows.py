"""Loading IVR flows: every error kind at its file:line:column, the samples,
the reload that keeps a working flow, the JSON Schema."""
import json
import textwrap

import pytest

from esl_apps.ivr.flow import json_schema
from esl_apps.ivr.flowset import FlowSet
from esl_apps.ivr.loader import load_flows
from esl_apps.ivr.verbs import VERBS
from esl_apps.ivr.verbs.base import NAME_PATTERN
from esl_apps.paths import data_dir

GOOD = """\
name: t
entry: start
nodes:
  start:
    verb: menu
    prompt: {text: {zh: "请按1"}}
    next: {"1": bye, timeout: bye, invalid: bye}
  bye:
    verb: hangup
"""


def write(directory, name, text):
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def errors_in(tmp_path, text, **kwargs):
    """The errors of one flow file, as 'line:col: message' (the file name is checked)."""
    path = write(tmp_path, "t.yaml", text)
    flows, errors = load_flows(tmp_path, **kwargs)
    assert all(str(e).startswith(f"{path}:") for e in errors)
    if errors:
        assert flows == {}
    return [str(e).removeprefix(f"{path}:") for e in errors]


def test_good_flow_loads(tmp_path):
    assert errors_in(tmp_path, GOOD) == []
    flows, _ = load_flows(tmp_path)
    assert flows["t"].nodes["start"].next["1"] == "bye"
    assert flows["t"].path == tmp_path / "t.yaml"


@pytest.mark.parametrize("text, expected", [
    ("name: t\nentry: [start\n", "3:1: YAML syntax error: expected ',' or ']', but got "
                                 "'<stream end>' (the sequence started at 2:8)"),
    ('name: t\nentry: "start\n', "3:1: YAML syntax error: found unexpected end of stream "
                                "(the quoted scalar started at 2:8)"),
    ("name: t\n  entry: x\n", "2:8: YAML syntax error: mapping values are not allowed here"),
    ("- a\n- b\n", "1:1: expected a mapping with name, entry and nodes"),
    ("", "1:1: expected a mapping with name, entry and nodes"),
    (GOOD + "  bye:\n    verb: hangup\n", "10:3: duplicate key 'bye' (first at line 8)"),
    (GOOD.replace('"1": bye', "1: bye").replace("timeout: bye", '"1": start'),
     "7:20: duplicate key '1' (first at line 7)"),
])
def test_yaml_errors(tmp_path, text, expected):
    assert errors_in(tmp_path, text) == [expected]


@pytest.mark.parametrize("old, new, expected", [
    ("    prompt: {text:", "    prompt: {txt:",
     "6:14: nodes.start.prompt: unknown key 'txt'; expected one of: file, text"),
    ("    verb: menu\n", "    verb: menu\n    timeout: -1\n",
     "6:5: nodes.start.timeout: Input should be greater than 0 (got -1)"),
    ("    verb: menu\n", "    verb: menu\n    tiemout: 3\n",
     "6:5: nodes.start: unknown key 'tiemout'; expected one of: verb, next, prompt, timeout, "
     "retries, invalid_prompt, store"),
    ("verb: hangup", "verb: hang_up",
     "9:5: nodes.bye.verb: unknown verb 'hang_up'; expected one of: " + ", ".join(VERBS)),
    ("    verb: hangup", "    cause: NORMAL_CLEARING",
     "8:3: nodes.bye: missing 'verb'; expected one of: " + ", ".join(VERBS)),
    ("{zh: \"请按1\"}", "{zh: \"  \"}", "6:21: nodes.start.prompt.text.zh: empty TTS text"),
    ("entry: start\n", "", "1:1: missing key 'entry'"),
    ("entry: start\n", "dids: [8001]\nentry: start\n",
     "2:8: dids.0: Input should be a valid string (got 8001); write it quoted: \"8001\""),
    ("  bye:\n", "  bye-bye:\n",
     "8:3: nodes.bye-bye: 'bye-bye' is not a valid name; use letters, digits and _ , not "
     "starting with a digit"),
    ("name: t", "name: 2t",
     "1:1: name: '2t' is not a valid name; use letters, digits and _ , not starting with "
     "a digit"),
    ("    verb: hangup\n", "    verb: hangup\n  spare: [verb, hangup]\n",
     "10:3: node 'spare' must be a mapping with a verb, e.g. {verb: hangup}"),
    ("{zh: \"请按1\"}", "{zh: \"请按${digit\"}",
     "6:21: nodes.start.prompt.text.zh: TTS text cannot contain call data (${digit); speak "
     "values with a `say` node"),
    ("entry: start\n", "dids: [\"8001\", \"+8001 \"]\nentry: start\n",
     "2:16: dids.1: '+8001 ' is not a phone number (digits, optional leading +)"),
])
def test_schema_errors_point_at_the_key(tmp_path, old, new, expected):
    assert old in GOOD
    assert errors_in(tmp_path, GOOD.replace(old, new, 1)) == [expected]


@pytest.mark.parametrize("old, new, expected", [
    ('"1": bye', '"1": by', ["7:12: node 'start': outcome '1' goes to unknown node 'by'"]),
    ("invalid: bye}", "invalid: bye, done: bye}",
     ["7:50: node 'start': menu has no outcome 'done'; expected one of: timeout, invalid, "
      "error, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, *, #"]),
    (", invalid: bye", "", ["7:5: node 'start': no transition for 'invalid'"]),
    ('"1": bye, ', "", ["4:3: node 'start': the menu maps no digit"]),
    ("entry: start", "entry: begin", ["2:1: entry node 'begin' is not defined"]),
    ("    verb: hangup\n", "    verb: hangup\n  spare:\n    verb: hangup\n",
     ["10:3: node 'spare' is unreachable from entry 'start'"]),
    ("  bye:\n", "  return:\n    verb: hangup\n  bye:\n",
     ["8:3: 'return' is reserved for leaving the flow; rename this node",
      "8:3: node 'return' is unreachable from entry 'start'"]),
])
def test_graph_errors(tmp_path, old, new, expected):
    assert old in GOOD
    assert errors_in(tmp_path, GOOD.replace(old, new, 1)) == expected


LOOP = """\
name: t
entry: start
nodes:
  start:
    verb: play
    text: {zh: "您好"}
    next: {done: menu}
  menu:
    verb: menu
    prompt: {text: {zh: "按1重听"}}
    next: {"1": again, timeout: menu, invalid: menu}
  again:
    verb: play
    text: {zh: "重听"}
    next: {done: menu}
"""


def test_loop_with_no_way_out(tmp_path):
    assert errors_in(tmp_path, LOOP) == [
        "8:3: loop with no way out: menu, again (none reaches a call-ending verb or 'return')"]


@pytest.mark.parametrize("way_out", ["timeout: agent", "timeout: return"])
def test_loop_with_a_way_out(tmp_path, way_out):
    text = LOOP.replace("timeout: menu", way_out) + "  agent: {verb: queue, queue: default}\n"
    if way_out.endswith("return"):
        text = text.replace("  agent: {verb: queue, queue: default}\n", "")
    assert errors_in(tmp_path, text) == []


def test_self_loop(tmp_path):
    text = GOOD.replace('"1": bye, timeout: bye, invalid: bye', '"1": start, timeout: start, '
                        'invalid: start').replace("  bye:\n    verb: hangup\n", "")
    assert errors_in(tmp_path, text) == [
        "4:3: loop with no way out: start (none reaches a call-ending verb or 'return')"]


FILE_PROMPT = GOOD.replace('prompt: {text: {zh: "请按1"}}', "prompt: {file: menu.wav}")


def test_missing_prompt_file(tmp_path):
    prompts = tmp_path / "prompts"
    flows = tmp_path / "flows"
    flows.mkdir()
    assert errors_in(flows, FILE_PROMPT, prompts_dir=prompts) == [
        f"6:14: prompt file not found: menu.wav (looked in {flows}, {prompts})"]


@pytest.mark.parametrize("where", ["flows", "prompts"])
def test_prompt_file_found_beside_the_flow_or_in_the_prompts_dir(tmp_path, where):
    (tmp_path / "flows").mkdir()
    (tmp_path / where).mkdir(exist_ok=True)
    (tmp_path / where / "menu.wav").write_bytes(b"RIFF")
    assert errors_in(tmp_path / "flows", FILE_PROMPT, prompts_dir=tmp_path / "prompts") == []


SUB = GOOD.replace("    verb: hangup\n", "    verb: subflow\n    flow: shared\n")


def test_unknown_subflow(tmp_path):
    assert errors_in(tmp_path, SUB) == ["10:5: node 'bye': unknown subflow 'shared'"]


def test_subflow_found_among_the_flows_loaded_together(tmp_path):
    write(tmp_path, "shared.yaml", GOOD.replace("name: t", "name: shared"))
    assert errors_in(tmp_path, SUB) == []


def calling(name, flow):
    """GOOD named `name`, its node bye a subflow node calling `flow`."""
    return GOOD.replace("name: t", f"name: {name}").replace(
        "    verb: hangup\n", f"    verb: subflow\n    flow: {flow}\n    next: {{done: end}}\n"
                           "  end:\n    verb: hangup\n")


def test_subflow_calling_itself(tmp_path):
    assert errors_in(tmp_path, calling("t", "t")) == [
        "10:5: node 'bye': subflow cycle: t -> t (a subflow may not call itself, even "
        "through others)"]


def test_subflow_cycle_through_other_flows(tmp_path):
    a = write(tmp_path, "a.yaml", calling("a", "b"))
    b = write(tmp_path, "b.yaml", calling("b", "c"))
    c = write(tmp_path, "c.yaml", calling("c", "a"))
    write(tmp_path, "d.yaml", calling("d", "a"))
    flows, errors = load_flows(tmp_path)
    tail = " (a subflow may not call itself, even through others)"
    assert [str(e) for e in errors] == [
        f"{a}:10:5: node 'bye': subflow cycle: a -> b -> c -> a" + tail,
        f"{b}:10:5: node 'bye': subflow cycle: b -> c -> a -> b" + tail,
        f"{c}:10:5: node 'bye': subflow cycle: c -> a -> b -> c" + tail,
    ]
    assert list(flows) == ["d"]  # d calls into the cycle, which is not loaded


def test_subflows_may_share_a_subflow_and_transfers_may_loop(tmp_path):
    write(tmp_path, "a.yaml", calling("a", "s"))
    write(tmp_path, "b.yaml", calling("b", "s")
          .replace('"1": bye', '"1": back').replace("  end:", "  back:\n    verb: transfer\n"
                                                     "    to: flow\n    target: a\n  end:"))
    write(tmp_path, "s.yaml", GOOD.replace("name: t", "name: s")
          .replace("    verb: hangup\n", "    verb: transfer\n    to: flow\n    target: b\n"))
    flows, errors = load_flows(tmp_path)
    assert [str(e) for e in errors] == [] and set(flows) == {"a", "b", "s"}


BRANCH = """\
name: t
entry: route
nodes:
  route:
    verb: branch
    when: {business_hours: default}
    next: {NEXT}
  open:
    verb: queue
    queue: default
  closed:
    verb: hangup
"""


@pytest.mark.parametrize("outcomes, expected", [
    ("{yes: open, True: closed, false: closed}",
     "7:23: node 'route': outcomes 'yes' and 'True' both mean 'true'"),
    ("{on: open, \"true\": closed, off: closed}",
     "7:22: node 'route': outcomes 'on' and '\"true\"' both mean 'true'"),
    ("{true: open, false: closed, no: open}",
     "7:39: node 'route': outcomes 'false' and 'no' both mean 'false'"),
])
def test_outcomes_that_mean_the_same(tmp_path, outcomes, expected):
    assert errors_in(tmp_path, BRANCH.replace("{NEXT}", outcomes)) == [expected]


def test_yes_and_no_are_true_and_false(tmp_path):
    assert errors_in(tmp_path, BRANCH.replace("{NEXT}", "{yes: open, no: closed}")) == []


def test_flow_names_and_dids_are_unique(tmp_path):
    a = write(tmp_path, "a.yaml", GOOD.replace("entry:", 'dids: ["8001"]\nentry:'))
    b = write(tmp_path, "b.yaml", GOOD.replace("entry:", 'dids: ["8001"]\nentry:'))
    c = write(tmp_path, "c.yaml", GOOD.replace("name: t", "name: c")
              .replace("entry:", 'dids: ["8002", "8001"]\nentry:'))
    flows, errors = load_flows(tmp_path)
    assert [str(e) for e in errors] == [
        f"{b}:1:1: flow name 't' is already used by {a}",
        f"{c}:2:16: DID 8001 is already mapped to flow 't'",
    ]
    assert list(flows) == ["t"]


def test_every_error_of_every_file_at_once(tmp_path):
    write(tmp_path, "a_good.yaml", GOOD.replace("name: t", "name: good"))
    bad = write(tmp_path, "b_bad.yaml", GOOD.replace('"1": bye', '"1": x')
                .replace("entry: start", "entry: start\nnodes_extra: 1"))
    bad2 = write(tmp_path, "c_bad.yaml", GOOD.replace("name: t", "name: bad2")
                 .replace('"1": bye', '"1": x').replace("  bye:", "  byebye:"))
    flows, errors = load_flows(tmp_path)
    assert list(flows) == ["good"]
    assert [str(e) for e in errors] == [
        f"{bad}:3:1: unknown key 'nodes_extra'; expected one of: name, description, entry, "
        "language, dids, nodes",
        f"{bad2}:7:12: node 'start': outcome '1' goes to unknown node 'x'",
        f"{bad2}:7:20: node 'start': outcome 'timeout' goes to unknown node 'bye'",
        f"{bad2}:7:34: node 'start': outcome 'invalid' goes to unknown node 'bye'",
        f"{bad2}:8:3: node 'byebye' is unreachable from entry 'start'",
    ]


def test_missing_path_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_flows(tmp_path / "nowhere")


SAMPLES = {"heating_main", "gas_main", "gov12345", "to_agent", "survey"}


def test_samples_pass():
    flows, errors = load_flows(data_dir("ivr_flows"))
    assert [str(e) for e in errors] == []
    assert set(flows) == SAMPLES
    assert {path.stem for path in data_dir("ivr_flows").glob("*.yaml")} == SAMPLES
    main = flows["heating_main"]
    assert "88001234" in main.dids
    assert {n.verb for n in main.nodes.values()} >= {"collect", "lookup", "say", "menu",
                                                      "subflow"}
    assert flows["gas_main"].dids == ["88005678"] and flows["gov12345"].dids == ["12345"]
    for path in data_dir("ivr_flows").glob("*.yaml"):
        assert path.read_text().startswith("# yaml-language-server: $schema=flow.schema.json\n")


def _nodes(flow, verb):
    return [node for node in flow.nodes.values() if node.verb == verb]


def test_samples_queues_schedules_and_lookups():
    """What the switch config and the database must provide for the samples."""
    flows, _ = load_flows(data_dir("ivr_flows"))
    queues = {n.queue for f in flows.values() for n in _nodes(f, "queue") + _nodes(f, "callback")}
    assert queues == {"default", "emergency", "gov12345"}
    schedules = {n.when.business_hours for f in flows.values() for n in _nodes(f, "branch")}
    assert schedules == {"default"}
    for flow in flows.values():
        for node in _nodes(flow, "lookup"):
            assert "FROM billing_account WHERE account_no = ? AND company = " in node.sql.query
    leak = flows["gas_main"].nodes
    assert leak["main_menu"].next["1"] == "leak_safety"
    assert "请立即关闭燃气阀门，打开门窗，不要开关电器" in leak["leak_safety"].text.zh
    assert leak[leak[leak["leak_safety"].next["done"]].next["done"]].queue == "emergency"
    gov = flows["gov12345"].nodes
    assert {gov[gov["main_menu"].next[d]].value for d in "123"} == {"consult", "complaint",
                                                                   "suggestion"}
    assert {n.box for n in _nodes(flows["gov12345"], "voicemail")} == {"gov12345"}


def test_sample_prompts_have_both_languages():
    from esl_apps.ivr.verbs.base import iter_prompts
    flows, _ = load_flows(data_dir("ivr_flows"))
    for flow in flows.values():
        for name, node in flow.nodes.items():
            for path, prompt in iter_prompts(node):
                assert prompt.text and prompt.text.zh and prompt.text.en, (flow.name, name, path)


class TestFlowSet:
    def test_broken_edit_keeps_the_working_version(self, tmp_path):
        path = write(tmp_path, "t.yaml", GOOD)
        other = write(tmp_path, "o.yaml", GOOD.replace("name: t", "name: o"))
        flows = FlowSet(tmp_path)
        assert flows.reload() == []
        working = flows.get("t")
        path.write_text(GOOD.replace('"1": bye', '"1": nowhere'))
        other.write_text(GOOD.replace("name: t", "name: o").replace("请按1", "请按2"))
        errors = flows.reload()
        assert [str(e) for e in errors] == [
            f"{path}:7:12: node 'start': outcome '1' goes to unknown node 'nowhere'"]
        assert flows.get("t") is working
        assert flows.get("o").nodes["start"].prompt.text.zh == "请按2"
        path.write_text(GOOD.replace("请按1", "新的"))
        assert flows.reload() == []
        assert flows.get("t").nodes["start"].prompt.text.zh == "新的"

    def test_yaml_syntax_error_keeps_the_working_version(self, tmp_path):
        path = write(tmp_path, "t.yaml", GOOD)
        flows = FlowSet(tmp_path)
        flows.reload()
        working = flows.get("t")
        path.write_text("name: [t\n")
        assert len(flows.reload()) == 1
        assert flows.get("t") is working

    def test_deleted_file_unloads_its_flow(self, tmp_path):
        path = write(tmp_path, "t.yaml", GOOD)
        flows = FlowSet(tmp_path)
        flows.reload()
        path.unlink()
        assert flows.reload() == [] and flows.get("t") is None

    def test_broken_new_subflow_never_loaded_keeps_its_caller_out(self, tmp_path):
        caller = write(tmp_path, "t.yaml", GOOD)
        flows = FlowSet(tmp_path)
        flows.reload()
        working = flows.get("t")
        caller.write_text(SUB)
        write(tmp_path, "shared.yaml", GOOD.replace("name: t", "name: shared")
              .replace("entry: start", "entry: nope"))
        errors = [str(e) for e in flows.reload()]
        assert errors[-1] == f"{caller}:10:5: node 'bye': flow 'shared' is not loaded"
        assert flows.get("t") is working and flows.get("shared") is None

    def test_new_version_closing_a_cycle_with_a_kept_version_is_not_taken(self, tmp_path):
        a = write(tmp_path, "a.yaml", GOOD.replace("name: t", "name: a"))
        b = write(tmp_path, "b.yaml", calling("b", "a"))
        flows = FlowSet(tmp_path)
        assert flows.reload() == []
        old_a, old_b = flows.get("a"), flows.get("b")
        a.write_text(calling("a", "b"))  # fine with the new b, which no longer calls a
        b.write_text(GOOD.replace("name: t", "name: b").replace("entry: start", "entry: nope"))
        errors = [str(e) for e in flows.reload()]
        assert errors == [
            f"{b}:2:1: entry node 'nope' is not defined",
            f"{a}:10:5: node 'bye': subflow cycle: a -> b -> a (a subflow may not call "
            "itself, even through others)",
        ]
        assert flows.get("a") is old_a and flows.get("b") is old_b

    def test_by_did(self, tmp_path):
        write(tmp_path, "t.yaml", GOOD.replace("entry:", 'dids: ["88001234"]\nentry:'))
        flows = FlowSet(tmp_path)
        flows.reload()
        assert flows.by_did("88001234").name == "t" and flows.by_did("1") is None


def _resolve(schema, ref):
    return schema["$defs"][ref.rsplit("/", 1)[1]]


def test_schema_has_a_branch_per_verb():
    schema = json_schema()
    nodes = schema["properties"]["nodes"]["patternProperties"][NAME_PATTERN]
    assert schema["properties"]["nodes"]["additionalProperties"] is False
    assert nodes["discriminator"]["propertyName"] == "verb"
    mapping = nodes["discriminator"]["mapping"]
    assert set(mapping) == set(VERBS)
    for verb, ref in mapping.items():
        definition = _resolve(schema, ref)
        assert definition["additionalProperties"] is False
        assert definition["properties"]["verb"]["const"] == verb
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"name", "entry", "nodes"}


def test_committed_schema_is_current():
    committed = json.loads((data_dir("ivr_flows") / "flow.schema.json").read_text())
    assert committed == json_schema()


def test_schema_accepts_the_samples_keys():
    """Without the jsonschema package: each sample node's keys are the schema's
    properties for its verb, and the schema's required keys are present."""
    import yaml
    schema = json_schema()
    nodes = schema["properties"]["nodes"]["patternProperties"][NAME_PATTERN]
    mapping = nodes["discriminator"]["mapping"]
    for path in data_dir("ivr_flows").glob("*.yaml"):
        data = yaml.safe_load(path.read_text())
        assert set(data) <= set(schema["properties"])
        for name, node in data["nodes"].items():
            definition = _resolve(schema, mapping[node["verb"]])
            assert set(node) <= set(definition["properties"]), (path, name)
            assert set(definition.get("required", [])) <= set(node), (path, name)
