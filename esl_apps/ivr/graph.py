"""Checks of one flow beyond its schema: transitions, reachability, loops, prompts.

Each check returns (path, message) pairs; the path is where in the file the
problem is (("nodes", "menu", "next", "1")), which the loader turns into a line
and column.
"""
from pathlib import Path

from esl_apps.ivr.verbs import VERBS
from esl_apps.ivr.verbs.base import DIGIT_KEYS, RETURN, iter_prompts


def check_flow(flow, prompt_dirs=()) -> list[tuple[tuple, str]]:
    return (check_transitions(flow) + check_reachable(flow) + check_loops(flow)
            + check_prompts(flow, prompt_dirs))


def edges(node) -> list[str]:
    return list(dict.fromkeys(node.next.values()))


def check_transitions(flow):
    problems = []
    if flow.entry not in flow.nodes:
        problems.append((("entry",), f"entry node '{flow.entry}' is not defined"))
    for name, node in flow.nodes.items():
        here = ("nodes", name)
        if name == RETURN:
            problems.append((here, f"'{RETURN}' is reserved for leaving the flow; "
                                   "rename this node"))
        outcomes = node.outcomes()
        for outcome, target in node.next.items():
            at = here + ("next", outcome)
            if outcome not in outcomes:
                expected = ", ".join(outcomes) or "none (it ends the call)"
                problems.append((at, f"node '{name}': {node.verb} has no outcome '{outcome}'; "
                                     f"expected one of: {expected}"))
            elif target != RETURN and target not in flow.nodes:
                problems.append((at, f"node '{name}': outcome '{outcome}' goes to "
                                     f"unknown node '{target}'"))
        missing = [o for o in node.required() if o not in node.next]
        if missing:
            at = here + ("next",) if node.next else here
            problems.append((at, f"node '{name}': no transition for "
                                 + ", ".join(f"'{o}'" for o in missing)))
        if node.verb == "menu" and not any(k in DIGIT_KEYS for k in node.next):
            problems.append((here, f"node '{name}': the menu maps no digit"))
    return problems


def reachable(flow, start) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name in seen or name not in flow.nodes:
            continue
        seen.add(name)
        todo.extend(edges(flow.nodes[name]))
    return seen


def check_reachable(flow):
    if flow.entry not in flow.nodes:
        return []
    seen = reachable(flow, flow.entry)
    return [(("nodes", name), f"node '{name}' is unreachable from entry '{flow.entry}'")
            for name in flow.nodes if name not in seen]


def _is_exit(node) -> bool:
    """A call-ending verb, a subflow (which may end the call) or a `return`."""
    return VERBS[node.verb].ENDS_CALL or node.verb == "subflow" or RETURN in node.next.values()


def check_loops(flow):
    """Strongly connected sets of nodes none of which can reach a way out."""
    if flow.entry not in flow.nodes:
        return []
    live = reachable(flow, flow.entry)
    can_exit = {name for name in live if _is_exit(flow.nodes[name])}
    changed = True
    while changed:
        changed = False
        for name in live - can_exit:
            if any(t in can_exit for t in edges(flow.nodes[name])):
                can_exit.add(name)
                changed = True
    trapped = [name for name in flow.nodes if name in live and name not in can_exit]
    reach = {name: reachable(flow, name) for name in trapped}
    problems, done = [], set()
    for name in trapped:
        if name in done:
            continue
        group = [other for other in trapped if other in reach[name] and name in reach[other]]
        done.update(group)
        if len(group) > 1 or name in edges(flow.nodes[name]):
            problems.append((("nodes", name), "loop with no way out: " + ", ".join(group)
                             + " (none reaches a call-ending verb or 'return')"))
    return problems


def find_prompt(file: str, dirs) -> Path | None:
    for base in dirs:
        candidate = Path(base) / file
        if candidate.is_file():
            return candidate
    return None


def check_prompts(flow, prompt_dirs):
    dirs = [flow.path.parent] if flow.path else []
    dirs += [Path(d) for d in prompt_dirs]
    problems = []
    for name, node in flow.nodes.items():
        for path, prompt in iter_prompts(node):
            if prompt.file is not None and find_prompt(prompt.file, dirs) is None:
                problems.append((("nodes", name) + path + ("file",),
                                 f"prompt file not found: {prompt.file} (looked in "
                                 + ", ".join(str(d) for d in dirs) + ")"))
    return problems
