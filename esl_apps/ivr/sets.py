"""Runs of `set` actions as one `multiset`.

Every application the switch runs, inline ones included, fires CHANNEL_EXECUTE and
CHANNEL_EXECUTE_COMPLETE, each a copy of all of the channel's variables (measured
on 1.11.1: ~8.6 KB and 170 variables per copy on a menu call). A run of sets costs
two such copies per set; `multiset ^^|a=1|b=2` costs two for the whole run.

multiset expands its whole argument once, before it assigns anything, and then
splits it on the delimiter. So a set joins a run only when that cannot change what
it stores:
- its value names no variable but those Hotline itself fills with plain words
  (SAFE_REFS: node names, digits, variable names) or one set earlier in the run,
  whose value is then written in its place (the run sees the values from before
  it, as a chain of sets would);
- neither the value nor anything it refers to can hold the delimiter. A caller's
  number or a looked-up value never joins: it could carry a `|` and with it a
  second assignment.
"""
import re

DELIM = "|"
SAFE_REFS = frozenset({"hotline_path", "hotline_did", "hotline_input", "cc_export_vars",
                       "hotline_flow", "hotline_language"})
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_REF = re.compile(r"\$\{([^{}]*)\}")


def merge(actions: list) -> list:
    """`actions` with every run of two or more mergeable sets as one multiset."""
    out, run = [], {}

    def flush():
        if len(run) == 1:
            (name, value), = run.items()
            out.append(("set", f"{name}={value}"))
        elif run:
            out.append(("multiset", "^^" + DELIM + DELIM.join(f"{n}={v}" for n, v in run.items())))
        run.clear()

    for app, data in actions:
        pair = _joinable(app, data, run)
        if pair is None:
            flush()
            out.append((app, data))
            continue
        name, value = pair
        run.pop(name, None)      # the later assignment wins, as it would in a chain
        run[name] = value
    flush()
    return out


def _joinable(app, data, run) -> tuple[str, str] | None:
    if app != "set" or "=" not in data:
        return None
    name, value = data.split("=", 1)
    if not _NAME.match(name) or DELIM in value or "^^" in value:
        return None
    for ref in _REF.findall(value):
        if ref not in run and ref not in SAFE_REFS:
            return None
    if "${" in _REF.sub("", value):
        return None              # a reference the pattern does not read: leave it alone
    return name, _REF.sub(lambda m: run.get(m[1], m[0]), value)


def unmerge(actions: list) -> list:
    """The inverse for readers of compiled dialplan (tests, tools): every multiset
    as the sets it holds."""
    out = []
    for app, data in actions:
        if app == "multiset" and data.startswith("^^") and len(data) > 3:
            out += [("set", part) for part in data[3:].split(data[2])]
        else:
            out.append((app, data))
    return out
