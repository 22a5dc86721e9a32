"""Load flow files and report every problem as `file:line:column: message`.

A file is parsed once into YAML nodes (for their line/column marks) and Python
data; the data is checked against the Flow model, then by graph.py, then
against the other flows loaded with it (subflow names, flow names, DIDs). A
flow with any error is rejected whole; the others load.
"""
import logging
import re
import types
import typing
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError

from esl_apps.ivr import graph
from esl_apps.ivr.flow import Flow
from esl_apps.ivr.verbs import VERBS
from esl_apps.ivr.verbs.base import outcome_name

log = logging.getLogger(__name__)

SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class FlowError:
    file: Path
    line: int
    column: int
    message: str
    flow: str | None = None  # the flow's name, when the file got far enough to tell

    def __str__(self):
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class Source:
    """One flow file: its YAML node tree, its data, and the errors found in it."""

    def __init__(self, path: Path):
        self.path = path
        self.root = None
        self.data = None
        self.flow: Flow | None = None
        self.errors: list[FlowError] = []

    @property
    def name(self):
        if self.flow is not None:
            return self.flow.name
        if isinstance(self.data, dict) and isinstance(self.data.get("name"), str):
            return self.data["name"]
        return None

    def locate(self, path) -> tuple[int, int]:
        """Line and column (1-based) of the key at `path`, or of its nearest parent."""
        node, mark = self.root, None
        for part in path:
            if isinstance(node, yaml.MappingNode):
                for key, value in node.value:
                    if key.value == str(part):
                        node, mark = value, key.start_mark
                        break
                else:
                    break
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) \
                    and part < len(node.value):
                node = node.value[part]
                mark = node.start_mark
            else:
                break
        if mark is None:
            mark = self.root.start_mark if self.root is not None else None
        return (mark.line + 1, mark.column + 1) if mark else (1, 1)

    def error(self, path, message):
        line, column = self.locate(path)
        self.errors.append(FlowError(self.path, line, column, message, self.name))

    def mark_error(self, mark, message):
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        self.errors.append(FlowError(self.path, line, column, message))


def parse(source: Source) -> None:
    try:
        text = source.path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        source.mark_error(None, f"not UTF-8 text: {exc.reason}")
        return
    loader = yaml.SafeLoader(text)
    try:
        source.root = loader.get_single_node()
        if source.root is not None:
            _duplicate_keys(source, source.root)
            _same_outcomes(source, source.root)
            source.data = loader.construct_document(source.root)
    except yaml.MarkedYAMLError as exc:
        message = f"YAML syntax error: {exc.problem}"
        if exc.context:
            message += f" ({_context(exc)})"
        source.mark_error(exc.problem_mark or exc.context_mark, message)
    except yaml.YAMLError as exc:
        source.mark_error(None, f"YAML error: {exc}")
    finally:
        loader.dispose()
    if not source.errors and not isinstance(source.data, dict):
        source.mark_error(source.root.start_mark if source.root else None,
                          "expected a mapping with name, entry and nodes")


def _context(exc) -> str:
    """PyYAML's "while parsing a flow mapping", said with where that mapping started."""
    match = re.match(r"while (?:parsing|scanning) an? (?:flow |block )?(.+)$", exc.context)
    if exc.context_mark is None or match is None:
        return exc.context
    mark = exc.context_mark
    return f"the {match[1]} started at {mark.line + 1}:{mark.column + 1}"


def _duplicate_keys(source, node):
    if isinstance(node, yaml.MappingNode):
        seen = {}
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in seen:
                    source.mark_error(key.start_mark, f"duplicate key '{key.value}' (first at "
                                                      f"line {seen[key.value].line + 1})")
                seen.setdefault(key.value, key.start_mark)
            _duplicate_keys(source, value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _duplicate_keys(source, item)


def _mapping_items(node):
    return node.value if isinstance(node, yaml.MappingNode) else []


def _same_outcomes(source, root):
    """Outcome keys that differ in the file but name the same outcome: YAML reads
    yes, on and True all as true, and 1 and "1" are both outcome '1'."""
    constructor = yaml.constructor.SafeConstructor()
    for key, nodes in _mapping_items(root):
        if key.value != "nodes":
            continue
        for node_key, node in _mapping_items(nodes):
            for field, transitions in _mapping_items(node):
                if field.value != "next":
                    continue
                seen = {}
                for outcome, _target in _mapping_items(transitions):
                    if not isinstance(outcome, yaml.ScalarNode):
                        continue
                    try:
                        name = outcome_name(constructor.construct_object(outcome))
                    except yaml.YAMLError:
                        continue
                    first = seen.setdefault(name, outcome)
                    if first is not outcome and first.value != outcome.value:
                        source.mark_error(outcome.start_mark, (
                            f"node '{node_key.value}': outcomes '{_spelling(first)}' and "
                            f"'{_spelling(outcome)}' both mean '{name}'"))


def _spelling(node) -> str:
    quote = node.style if node.style in ("'", '"') else ""
    return f"{quote}{node.value}{quote}"


def _unwrap(tp):
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(members) != 1:
                return tp
            tp = members[0]
        else:
            return tp


def _fields_at(loc) -> list[str]:
    """Field names of the model at `loc` (a pydantic error location, verb tag included)."""
    tp = Flow
    for part in loc:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(part)
            if field is None:
                return []
            tp = field.annotation
        elif typing.get_origin(tp) is dict:
            tp = typing.get_args(tp)[1]
        elif typing.get_origin(tp) is list:
            tp = typing.get_args(tp)[0]
        elif part in VERBS:
            tp = VERBS[part]
        else:
            return []
    tp = _unwrap(tp)
    return list(tp.model_fields) if isinstance(tp, type) and issubclass(tp, BaseModel) else []


def _schema_error(source, err):
    loc = err["loc"]
    path = list(loc)
    if len(path) > 2 and path[0] == "nodes" and path[2] in VERBS:
        del path[2]  # the discriminated union puts the verb tag in the location
    if path and path[-1] == "[key]":
        path.pop()
    kind = err["type"]
    if kind == "union_tag_invalid":
        path.append("verb")
    dotted = ".".join(str(p) for p in path)
    parent = ".".join(str(p) for p in path[:-1])
    if kind == "extra_forbidden":
        fields = _fields_at(loc[:-1])
        message = f"unknown key '{path[-1]}'"
        if fields:
            message += "; expected one of: " + ", ".join(fields)
        message = f"{parent}: {message}" if parent else message
    elif kind == "union_tag_invalid":
        message = (f"{dotted}: unknown verb '{err['ctx']['tag']}'; expected one of: "
                   + ", ".join(VERBS))
    elif kind == "union_tag_not_found":
        message = f"{dotted}: missing 'verb'; expected one of: " + ", ".join(VERBS)
    elif kind == "missing":
        message = f"missing key '{path[-1]}'"
        message = f"{parent}: {message}" if parent else message
        path.pop()
    elif kind == "model_attributes_type" and len(path) == 2 and path[0] == "nodes":
        verb = err["input"] if isinstance(err["input"], str) and err["input"] in VERBS \
            else "hangup"
        message = f"node '{path[1]}' must be a mapping with a verb, e.g. {{verb: {verb}}}"
    else:
        message = f"{dotted}: " + err["msg"].removeprefix("Value error, ")
        if kind not in ("value_error",) and not isinstance(err.get("input"), (dict, list)):
            message += f" (got {err['input']!r})"
        if kind == "string_type" and isinstance(err.get("input"), (int, float)):
            message += f"; write it quoted: \"{err['input']}\""
    source.error(path, message)


def check_file(path: Path, prompt_dirs=()) -> Source:
    """Parse, validate against the schema and run the graph checks on one file."""
    source = Source(Path(path))
    parse(source)
    if source.errors:
        return source
    try:
        flow = Flow.model_validate(source.data)
    except ValidationError as exc:
        for err in exc.errors():
            _schema_error(source, err)
        return source
    flow._path = source.path
    flow._locate = source.locate
    source.flow = flow
    for where, message in graph.check_flow(flow, prompt_dirs):
        source.error(where, message)
    return source


def flow_refs(flow: Flow):
    """(path, kind, name) for every other flow this one names."""
    for node_name, node in flow.nodes.items():
        if node.verb == "subflow":
            yield ("nodes", node_name, "flow"), "subflow", node.flow
        elif node.verb == "transfer" and node.to == "flow":
            yield ("nodes", node_name, "target"), "flow", node.target


def subflow_cycles(flows: dict) -> list[tuple[str, tuple, list[str]]]:
    """(flow name, path of the subflow node, [flow, ..., flow]) for every subflow
    node that leads back to its own flow. Only `subflow` counts: a transfer to a
    flow does not come back, so it may loop."""
    calls = {name: [(where, target) for where, kind, target in flow_refs(flow)
                    if kind == "subflow" and target in flows]
             for name, flow in flows.items()}
    found = []
    for name in flows:
        for where, target in calls[name]:
            way = _path_to(calls, target, name)
            if way is not None:
                found.append((name, where, [name] + way))
    return found


def _path_to(calls, start, goal) -> list[str] | None:
    """The shortest chain of subflow calls from flow `start` to flow `goal`."""
    before, todo = {start: None}, [start]
    for name in todo:
        if name == goal:
            way = []
            while name is not None:
                way.append(name)
                name = before[name]
            return way[::-1]
        for _where, target in calls[name]:
            if target not in before:
                before[target] = name
                todo.append(target)
    return None


def cycle_message(where, way) -> str:
    return (f"node '{where[1]}': subflow cycle: {' -> '.join(way)} (a subflow may not "
            "call itself, even through others)")


def flow_files(paths) -> list[Path]:
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix in SUFFIXES and p.is_file())
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such file or directory")
    return files


def load_flows(*paths, prompts_dir=None):
    """Load every flow file in `paths` (files or directories) together.

    Returns ({name: Flow}, [FlowError]) with the errors of every file."""
    prompt_dirs = [prompts_dir] if prompts_dir else []
    sources = [check_file(path, prompt_dirs) for path in flow_files(paths)]
    names = {s.name for s in sources if s.name}
    first: dict[str, Source] = {}
    dids: dict[str, str] = {}
    for source in sources:
        flow = source.flow
        if flow is None:
            continue
        if flow.name in first:
            source.error(("name",), f"flow name '{flow.name}' is already used by "
                                    f"{first[flow.name].path}")
            continue
        first[flow.name] = source
        for index, did in enumerate(flow.dids):
            if did in dids:
                source.error(("dids", index), f"DID {did} is already mapped to flow "
                                              f"'{dids[did]}'")
            dids.setdefault(did, flow.name)
        for where, kind, name in flow_refs(flow):
            if name not in names:
                source.error(where, f"node '{where[1]}': unknown {kind} '{name}'")
    for name, where, way in subflow_cycles({name: s.flow for name, s in first.items()}):
        first[name].error(where, cycle_message(where, way))
    flows, errors = {}, []
    for source in sources:
        errors += sorted(source.errors, key=lambda e: (e.line, e.column))
        if source.flow is not None and not source.errors:
            flows[source.flow.name] = source.flow
    for error in errors:
        log.debug("%s", error)
    return flows, errors
