"""`hotline flow draw`: DOT text, Graphviz rendering and the command."""
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from esl_apps.ivr import draw
from esl_apps.ivr.loader import load_flows
from esl_apps.ivr.verbs.base import RETURN
from esl_apps.paths import data_dir

HOTLINE = str(Path(sys.executable).with_name("hotline"))
SVG = "{http://www.w3.org/2000/svg}"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz is not installed (apt-get install graphviz)")

NASTY = """\
name: nasty
description: 'quotes " and '' <b>not bold</b> & ampersands \\ backslash'
entry: node
nodes:
  node:
    verb: menu
    prompt: {text: {zh: "请按\\"1\\" <确认> & 继续", en: "Press \\"1\\" <ok> & go"}}
    next: {"1": edge, "2": graph, timeout: edge, invalid: graph}
  edge:
    verb: play
    text: {en: "a < b > c & \\"d\\" 'e' \\\\ f"}
    next: {done: graph}
  graph:
    verb: set
    section: x
    key: y
    value: '<&">'
    next: {done: return}
"""


def big_flow(sections=4, per=6) -> str:
    """A menu of `sections` branches of `per` nodes each, plus start, back and bye."""
    lines = ["name: big", "entry: start", "nodes:", "  start:", "    verb: menu",
             '    prompt: {text: {zh: "主菜单，请按1到4"}}',
             "    next: {" + ", ".join(f'"{i + 1}": s{i}_0' for i in range(sections))
             + ", timeout: bye, invalid: bye}"]
    for s in range(sections):
        for k in range(per):
            name = f"s{s}_{k}"
            following = f"s{s}_{k + 1}" if k + 1 < per else "bye"
            if k == 2:
                lines += [f"  {name}:", "    verb: menu",
                          f'    prompt: {{text: {{zh: "第{s}组，重听请按1，返回请按0"}}}}',
                          f'    next: {{"1": s{s}_0, "0": start, "2": {following}, '
                          f"timeout: {following}, invalid: {following}}}"]
            elif k == 4:
                lines += [f"  {name}:", "    verb: branch", "    when: {business_hours: default}",
                          f"    next: {{true: {following}, false: back}}"]
            else:
                lines += [f"  {name}:", "    verb: play", f'    text: {{zh: "第{s}组第{k}条"}}',
                          f"    next: {{done: {following}}}"]
    lines += ["  back:", "    verb: play", '    text: {en: "Going back"}',
              "    next: {done: return}", "  bye:", "    verb: hangup"]
    return "\n".join(lines) + "\n"


def load_one(tmp_path, text, name):
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    flows, errors = load_flows(path)
    assert errors == [], errors
    return flows[name]


def expected_edges(flow):
    """(from, to) -> label, the way the drawing names its nodes."""
    out = {}
    for name, node in flow.nodes.items():
        for target, outcomes in draw.edges(node).items():
            out[(name, "__return" if target == RETURN else target)] = ", ".join(outcomes)
        for other, how in draw.flow_links(node):
            out[(name, f"__flow_{other}")] = how
    out[("__entry", flow.entry)] = "entry"
    return out


def svg_graph(svg: bytes):
    """({node title}, {(tail, head): edge label}) read back from Graphviz's SVG."""
    root = ET.fromstring(svg)
    nodes, edges = set(), {}
    for group in root.iter(f"{SVG}g"):
        title = group.find(f"{SVG}title")
        if group.get("class") == "node":
            nodes.add(title.text)
        elif group.get("class") == "edge":
            tail, head = title.text.split("->")
            edges[(tail, head)] = "".join(t.text or "" for t in group.iter(f"{SVG}text"))
    return nodes, edges


def test_edges_merge_outcomes_to_one_target(tmp_path):
    flow = load_one(tmp_path, big_flow(), "big")
    assert draw.edges(flow.nodes["start"])["bye"] == ["timeout", "invalid"]
    assert draw.edges(flow.nodes["s0_2"]) == {"s0_0": ["1"], "start": ["0"],
                                              "s0_3": ["2", "timeout", "invalid"]}


def test_dot_has_every_node_and_edge_of_the_samples():
    flows, errors = load_flows(data_dir("ivr_flows"))
    assert errors == []
    for flow in flows.values():
        text = draw.to_dot(flow)
        for name in flow.nodes:
            assert f'\n  "{name}" [' in text, (flow.name, name)
        for (tail, head), label in expected_edges(flow).items():
            assert f'  "{tail}" -> "{head}" [' in text, (flow.name, tail, head)
            assert f"label=<{label}>" in text or f'label="{label}"' in text


@needs_dot
def test_svg_of_a_30_node_flow_has_every_node_and_edge(tmp_path):
    flow = load_one(tmp_path, big_flow(), "big")
    assert len(flow.nodes) == 27
    nodes, edges = svg_graph(draw.render(draw.to_dot(flow), "svg"))
    assert set(flow.nodes) | {"__entry", "__return"} == nodes
    want = expected_edges(flow)
    assert set(edges) == set(want)
    for key, label in want.items():
        assert edges[key] == label, key


@needs_dot
def test_subflow_and_transfer_targets_are_flow_nodes():
    flows, _ = load_flows(data_dir("ivr_flows"))
    flow = flows["heating_main"]
    text = draw.to_dot(flow)
    assert f'"__flow_to_agent" [{draw.FLOW_STYLE}' in text
    nodes, edges = svg_graph(draw.render(text, "svg"))
    assert "__flow_to_agent" in nodes
    assert edges[("agent", "__flow_to_agent")] == "subflow"
    assert edges[("complaint_agent", "__flow_to_agent")] == "transfer"
    assert edges[("main_menu", "agent")] == "0, timeout, invalid"


@needs_dot
def test_quotes_and_markup_in_labels(tmp_path):
    flow = load_one(tmp_path, NASTY, "nasty")
    svg = draw.render(draw.to_dot(flow), "svg")
    root = ET.fromstring(svg)  # well-formed
    texts = [t.text for t in root.iter(f"{SVG}text") if t.text]
    assert "“请按\"1\" <确认> & 继续”" in texts
    assert "“a < b > c & \"d\" 'e' \\ f”" in texts
    assert "x.y = <&\">" in texts
    assert any("<b>not bold</b> & ampersands" in t for t in texts)
    nodes, edges = svg_graph(svg)
    assert {"node", "edge", "graph", "__return"} <= nodes  # DOT keywords as node names
    assert edges[("node", "edge")] == "1, timeout"


def test_clip_counts_wide_characters_twice():
    assert draw.clip("abc", 3) == "abc"
    assert draw.clip("abcd", 3) == "ab…"
    assert draw.clip("一二三四五六", 6) == "一二…"
    assert draw.clip("一二三", 6) == "一二三"
    assert draw.clip("line one\nline  two", 40) == "line one line two"


@needs_dot
def test_png_output(tmp_path):
    flow = load_one(tmp_path, big_flow(), "big")
    assert draw.render(draw.to_dot(flow), "png").startswith(PNG_SIGNATURE)


def test_format_from_the_suffix():
    assert [draw.format_of(n) for n in ("a.svg", "b.PNG", "c.dot")] == ["svg", "png", "dot"]
    with pytest.raises(draw.DrawError, match="unknown picture format"):
        draw.format_of("a.pdf")


# --- the command ----------------------------------------------------------------

@pytest.fixture
def home(tmp_path):
    (tmp_path / "data" / "prompts").mkdir(parents=True)
    (tmp_path / "hotline.toml").write_text(f'[paths]\ndata_dir = "{tmp_path / "data"}"\n')
    return tmp_path


def hotline(home, *args, env=None):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    environ["HOTLINE_CONFIG"] = str(home / "hotline.toml")
    environ.update(env or {})
    return subprocess.run([HOTLINE, *args], capture_output=True, text=True, env=environ,
                          timeout=60, cwd=home)


def assert_one_line_error(result, *words):
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("hotline: error: "), result.stderr
    for word in words:
        assert word in lines[0]


@needs_dot
def test_command_default_svg_here(home):
    result = hotline(home, "flow", "draw", "heating_main")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "wrote heating_main.svg\n"
    nodes, _ = svg_graph((home / "heating_main.svg").read_bytes())
    assert "main_menu" in nodes


@needs_dot
def test_command_png_and_dot_and_a_flow_file(home):
    assert hotline(home, "flow", "draw", "survey", "-o", "s.png").returncode == 0
    assert (home / "s.png").read_bytes().startswith(PNG_SIGNATURE)
    (home / "big.yaml").write_text(big_flow(), encoding="utf-8")
    result = hotline(home, "flow", "draw", "big.yaml", "-o", "big.dot")
    assert result.returncode == 0, result.stderr
    assert (home / "big.dot").read_text(encoding="utf-8").startswith('digraph "big" {')


def test_command_unknown_flow_is_one_line_exit_2(home):
    result = hotline(home, "flow", "draw", "no_such_flow")
    assert_one_line_error(result, "no flow named 'no_such_flow'", "heating_main")
    assert not list(home.glob("*.svg"))


def test_command_unknown_format_is_one_line_exit_2(home):
    assert_one_line_error(hotline(home, "flow", "draw", "survey", "-o", "s.pdf"),
                          "unknown picture format")


def test_command_without_graphviz_is_one_line_exit_2(home, tmp_path):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    assert_one_line_error(hotline(home, "flow", "draw", "survey", env={"PATH": str(empty)}),
                          "apt-get install graphviz")
