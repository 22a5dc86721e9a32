"""A flow as a Graphviz graph: `hotline flow draw FLOW`.

Each node is a box with its name, its verb and a short summary (the prompt's first
words, the queue, the target); each edge carries the outcomes that take it, merged
("1, timeout") when several go to the same node. Other flows a node enters
(subflow, transfer to a flow) are folders, `return` is an exit node, and the
entry is marked by a start point. The DOT text is rendered to SVG or PNG by
Graphviz's `dot` (Debian package graphviz).
"""
import shutil
import subprocess
import unicodedata
from pathlib import Path

from esl_apps.ivr.verbs.base import RETURN

FONT = "Noto Sans CJK SC,WenQuanYi Zen Hei,sans-serif"  # CJK glyphs (fonts-noto-cjk)
FORMATS = {".svg": "svg", ".png": "png", ".dot": "dot"}
DOT_TIMEOUT = 60

# verb -> node attributes
STYLE = {
    "menu": 'shape=box style="rounded,filled" fillcolor="#dbeafe"',
    "collect": 'shape=box style="rounded,filled" fillcolor="#dbeafe"',
    "play": 'shape=box style="rounded,filled" fillcolor="#f1f5f9"',
    "say": 'shape=box style="rounded,filled" fillcolor="#f1f5f9"',
    "record_notice": 'shape=box style="rounded,filled" fillcolor="#f1f5f9"',
    "branch": 'shape=hexagon style=filled fillcolor="#fef9c3"',
    "lookup": 'shape=cylinder style=filled fillcolor="#ede9fe"',
    "set": 'shape=box style="rounded,filled" fillcolor="#ffffff"',
    "language": 'shape=box style="rounded,filled" fillcolor="#ffffff"',
    "queue": 'shape=box style="filled,bold" fillcolor="#fed7aa"',
    "transfer": 'shape=box style="filled,bold" fillcolor="#fed7aa"',
    "voicemail": 'shape=box style="filled" fillcolor="#fce7f3"',
    "callback": 'shape=box style="filled" fillcolor="#fce7f3"',
    "subflow": 'shape=box style="filled" fillcolor="#dcfce7" peripheries=2',
    "hangup": 'shape=octagon style=filled fillcolor="#e5e7eb"',
}
DEFAULT_STYLE = 'shape=box style="rounded"'
FLOW_STYLE = 'shape=folder style=filled fillcolor="#bbf7d0"'
RETURN_STYLE = ('shape=doublecircle style=filled fillcolor="#e5e7eb" fontsize=10 width=0.6 '
                'fixedsize=true')
MISSING_STYLE = 'shape=box style=dashed color="#dc2626" fontcolor="#dc2626"'


class DrawError(Exception):
    """Graphviz is missing or refused the graph."""


def clip(text: str, width: int = 26) -> str:
    """The start of `text` on one line, `width` columns at most (a CJK character is two)."""
    text = " ".join(str(text).split())
    cost = [2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text]
    if sum(cost) <= width:
        return text
    used, end = 0, 0
    while used + cost[end] <= width - 1:  # a column for the ellipsis
        used += cost[end]
        end += 1
    return text[:end].rstrip() + "…"


def html(text: str) -> str:
    """Text for a Graphviz HTML-like label: XML escapes, no control characters."""
    text = "".join(c if c.isprintable() else " " for c in str(text))
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


def quote(name: str) -> str:
    """A DOT ID in double quotes (node names may be DOT keywords such as `node`)."""
    return '"' + str(name).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _prompt(prompt, language) -> str:
    if prompt is None:
        return ""
    if getattr(prompt, "file", None):
        return f"♪ {prompt.file}"
    text = getattr(prompt, "text", None)
    if text is None:
        return ""
    words = getattr(text, language, None) or text.zh or text.en
    return f"“{words}”"


def summary(node, language: str = "zh") -> str:
    """What the node does, in a few words."""
    verb = node.verb
    if verb == "play":
        return _prompt(node, language)
    if verb == "menu":
        return _prompt(node.prompt, language)
    if verb == "collect":
        return f"→ {node.store}: {_prompt(node.prompt, language)}"
    if verb == "record_notice":
        return _prompt(node.prompt, language) or "built-in notice"
    if verb == "say":
        return f"{node.kind} {node.value}"
    if verb == "lookup":
        source = "sql" if getattr(node, "sql", None) is not None else "http"
        return f"{source} → {node.store}"
    if verb == "branch":
        if node.when is not None:
            return _condition(node.when)
        return ", ".join(node.cases)
    if verb == "set":
        return f"{node.section}.{node.key} = {node.value}"
    if verb == "language":
        return f"→ {node.language}"
    if verb == "queue":
        return f"queue {node.queue}"
    if verb == "transfer":
        return f"{node.to} {node.target}"
    if verb == "voicemail":
        return f"box {node.box}"
    if verb == "callback":
        return f"queue {node.queue}"
    if verb == "subflow":
        return f"flow {node.flow}"
    if verb == "hangup":
        return node.cause
    return ""


def _condition(condition) -> str:
    parts = []
    for name in type(condition).model_fields:
        value = getattr(condition, name)
        if value is None:
            continue
        if isinstance(value, list):
            value = ",".join(value)
        elif hasattr(value, "key"):
            value = f"{value.key} {'=' if value.equals is not None else '~'} " \
                    f"{value.equals if value.equals is not None else value.regex}"
        parts.append(f"{name}: {value}")
    return "; ".join(parts)


def _label(title: str, kind: str = "", detail: str = "") -> str:
    """An HTML-like label: the title in bold, the kind in grey, the detail clipped."""
    body = f"<B>{html(title)}</B>"
    if kind:
        body += f'<BR/><FONT POINT-SIZE="9" COLOR="#64748b">{html(kind)}</FONT>'
    if detail:
        body += f'<BR/><FONT POINT-SIZE="10">{html(clip(detail))}</FONT>'
    return f"<{body}>"


def edges(node) -> dict[str, list[str]]:
    """target -> the outcomes that go there, in file order."""
    out: dict[str, list[str]] = {}
    for outcome, target in node.next.items():
        out.setdefault(target, []).append(outcome)
    return out


def flow_links(node) -> list[tuple[str, str]]:
    """(flow name, how) for every other flow this node enters."""
    if node.verb == "subflow":
        return [(node.flow, "subflow")]
    if node.verb == "transfer" and node.to == "flow":
        return [(node.target, "transfer")]
    return []


def to_dot(flow, rankdir: str = "TB") -> str:
    """The flow as DOT text."""
    language = getattr(flow, "language", "zh")
    title = clip(flow.name + (f" — {flow.description}" if flow.description else ""), 90)
    lines = [
        f"digraph {quote(flow.name)} {{",
        f'  graph [rankdir={rankdir} charset="UTF-8" fontname="{FONT}" labelloc=t '
        f'fontsize=16 nodesep=0.3 ranksep=0.45 label={_label(title)}];',
        f'  node [fontname="{FONT}" fontsize=12 margin="0.15,0.06"];',
        f'  edge [fontname="{FONT}" fontsize=10 color="#475569" arrowsize=0.7];',
        '  "__entry" [shape=circle style=filled fillcolor="#16a34a" color="#16a34a" label="" '
        'width=0.2 tooltip="entry"];',
    ]
    for name, node in flow.nodes.items():
        style = STYLE.get(node.verb, DEFAULT_STYLE)
        extra = " penwidth=2.5" if name == flow.entry else ""
        lines.append(f"  {quote(name)} [{style}{extra} "
                     f"label={_label(name, node.verb, summary(node, language))}];")
    lines.append(f"  \"__entry\" -> {quote(flow.entry)} [label=\"entry\" fontcolor=\"#16a34a\" "
                 f"color=\"#16a34a\"];")
    others, has_return, missing = {}, False, set()
    for name, node in flow.nodes.items():
        for target, outcomes in edges(node).items():
            label = html(", ".join(outcomes))
            if target == RETURN:
                has_return = True
                dest = "__return"
            elif target in flow.nodes:
                dest = target
            else:
                missing.add(target)
                dest = f"__missing_{target}"
            lines.append(f"  {quote(name)} -> {quote(dest)} [label=<{label}>];")
        for other, how in flow_links(node):
            others.setdefault(other, set()).add(how)
            lines.append(f"  {quote(name)} -> {quote('__flow_' + other)} "
                         f"[style=dashed label=<{html(how)}>];")
    for other, hows in others.items():
        lines.append(f"  {quote('__flow_' + other)} [{FLOW_STYLE} "
                     f"label={_label(other, 'flow')}];")
    if has_return:
        lines.append(f'  "__return" [{RETURN_STYLE} label="return" tooltip="leave the flow"];')
    for target in sorted(missing):
        lines.append(f"  {quote('__missing_' + target)} [{MISSING_STYLE} "
                     f"label={_label(target, 'missing node')}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def dot_binary() -> str:
    found = shutil.which("dot")
    if found is None:
        raise DrawError("Graphviz's dot is not installed (Debian: apt-get install graphviz)")
    return found


def render(dot_text: str, fmt: str) -> bytes:
    """DOT text rendered by Graphviz into `fmt` (svg or png)."""
    if fmt == "dot":
        return dot_text.encode("utf-8")
    args = [dot_binary(), f"-T{fmt}"]
    try:
        done = subprocess.run(args, input=dot_text.encode("utf-8"), capture_output=True,
                              timeout=DOT_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise DrawError(f"dot took over {DOT_TIMEOUT} s") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip() or f"exit {done.returncode}"
        raise DrawError(f"dot failed: {message}")
    return done.stdout


def format_of(path) -> str:
    """svg, png or dot, from the file name's suffix."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise DrawError(f"{path}: unknown picture format; use a name ending "
                        + ", ".join(FORMATS))
    return FORMATS[suffix]
