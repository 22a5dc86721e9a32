"""`callcenter_config` command lines, built only from validated values, and the
parsing of its replies.

mod_callcenter splits its arguments on spaces (single quotes group words), so a
value with a space or quote in it could add arguments, and a line break would end
the ESL command: every value goes through a strict pattern or a fixed set here
before it is put into a line (esl_apps.wire.check_command_line checks again).
"""
import re

from esl_apps.switch_render import CC_DOMAIN, EXTENSION_RE, TOKEN_RE

STRATEGIES = ("longest-idle-agent", "round-robin", "top-down", "ring-all",
              "agent-with-least-talk-time", "agent-with-fewest-calls")
# An agent's status (who decides: the agent) and state (what mod_callcenter is doing).
STATUSES = ("Logged Out", "Available", "On Break")
STATES = ("Waiting", "Receiving", "In a queue call", "Idle", "Reserved")
AGENT_TIMES = ("max_no_answer", "wrap_up_time", "reject_delay_time", "busy_delay_time",
               "no_answer_delay_time")
QUEUE_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,48}$")  # stricter than TOKEN_RE: no '.', '+'
DOMAIN_RE = re.compile(r"^[A-Za-z0-9.:\[\]-]{1,253}$")
REASON_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
UUID_RE = re.compile(r"^[0-9a-fA-F-]{8,64}$")
MAX_SMALL = 32767


class InvalidValue(ValueError):
    """A value that may not go into a callcenter_config command."""


class SwitchRefused(RuntimeError):
    """mod_callcenter answered -ERR."""


def _match(pattern, value, what) -> str:
    value = str(value)
    if not pattern.fullmatch(value):
        raise InvalidValue(f"{what} {value!r} is not allowed")
    return value


def _one_of(choices, value, what) -> str:
    if value not in choices:
        raise InvalidValue(f"{what} {value!r}: choose one of {', '.join(choices)}")
    return value


def number(value, what, low=0, high=MAX_SMALL) -> str:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidValue(f"{what} {value!r}: a whole number from {low} to {high}")
    return str(value)


def extension(value) -> str:
    return _match(EXTENSION_RE, value, "agent extension")


def queue_name(value) -> str:
    value = _match(QUEUE_NAME_RE, value, "queue name")
    assert TOKEN_RE.match(value)
    return value


def strategy(value) -> str:
    return _one_of(STRATEGIES, value, "strategy")


def status(value) -> str:
    return _one_of(STATUSES, value, "agent status")


def state(value) -> str:
    return _one_of(STATES, value, "agent state")


def reason(value) -> str:
    return "" if value in (None, "") else _match(REASON_RE, value, "break reason")


def agent_name(ext) -> str:
    return f"{extension(ext)}@{CC_DOMAIN}"


def cc_queue(name) -> str:
    return f"{queue_name(name)}@{CC_DOMAIN}"


def split_cc_name(name: str) -> str | None:
    """'1001@default' -> '1001'; None for a name Hotline does not manage."""
    local, _, domain = name.partition("@")
    return local if domain == CC_DOMAIN else None


def _quoted(value: str) -> str:
    # Only the fixed status/state words have spaces; they never hold a quote.
    return f"'{value}'" if " " in value else value


# -- command lines --------------------------------------------------------------
def agent_add(ext) -> str:
    return f"callcenter_config agent add {agent_name(ext)} callback"


def agent_del(ext) -> str:
    return f"callcenter_config agent del {agent_name(ext)}"


def agent_contact(ext, domain) -> str:
    domain = _match(DOMAIN_RE, domain, "SIP domain")
    return f"callcenter_config agent set contact {agent_name(ext)} user/{extension(ext)}@{domain}"


def agent_status(ext, value) -> str:
    return f"callcenter_config agent set status {agent_name(ext)} {_quoted(status(value))}"


def agent_state(ext, value) -> str:
    return f"callcenter_config agent set state {agent_name(ext)} {_quoted(state(value))}"


def agent_time(ext, key, value) -> str:
    key = _one_of(AGENT_TIMES, key, "agent setting")
    return f"callcenter_config agent set {key} {agent_name(ext)} {number(value, key)}"


def tier_add(queue, ext, level, position) -> str:
    return (f"callcenter_config tier add {cc_queue(queue)} {agent_name(ext)} "
            f"{number(level, 'tier level', 1)} {number(position, 'tier position', 1)}")


def tier_set(key, queue, ext, value) -> str:
    key = _one_of(("level", "position"), key, "tier setting")
    return (f"callcenter_config tier set {key} {cc_queue(queue)} {agent_name(ext)} "
            f"{number(value, 'tier ' + key, 1)}")


def tier_del(queue, ext) -> str:
    return f"callcenter_config tier del {cc_queue(queue)} {agent_name(ext)}"


def queue_load(name) -> str:
    return f"callcenter_config queue load {cc_queue(name)}"


def queue_reload(name) -> str:
    return f"callcenter_config queue reload {cc_queue(name)}"


def queue_members(name) -> str:
    return f"callcenter_config queue list members {cc_queue(name)}"


def uuid_exists(uuid) -> str:
    return f"uuid_exists {_match(UUID_RE, uuid, 'channel uuid')}"


AGENT_LIST = "callcenter_config agent list"
TIER_LIST = "callcenter_config tier list"
QUEUE_LIST = "callcenter_config queue list"


# -- replies --------------------------------------------------------------------
def check_ok(reply: str, command: str) -> str:
    text = reply.strip()
    if text.startswith("-ERR") or text.startswith("-USAGE"):
        raise SwitchRefused(f"{command}: {text.splitlines()[0]}")
    return text


def parse_table(reply: str, command: str = "list") -> list[dict]:
    """A `... list` reply: a '|'-separated header line, rows, then '+OK'."""
    text = check_ok(reply, command)
    lines = [line for line in text.splitlines() if line and line != "+OK"]
    if not lines:
        return []
    header = lines[0].split("|")
    rows = []
    for line in lines[1:]:
        cells = line.split("|")
        if len(cells) != len(header):  # a value holding '|' (record_template): keep ends
            head = cells[:len(header) - 1]
            cells = head + ["|".join(cells[len(header) - 1:])] if len(cells) > len(header) else \
                cells + [""] * (len(header) - len(cells))
        rows.append(dict(zip(header, cells)))
    return rows
