"""Reading digits, the way the switch's play_and_get_digits does it.

The switch is the reference: each try plays the prompt and reads; a read that
fails (nothing, too short, or not matching the regex) plays the invalid prompt
and uses up a try. Input that did not match the regex is kept as `_invalid`,
which tells `invalid` (a wrong answer) from `timeout` (no answer) at the end.
Flows compile to this same application, and the simulator and the fake call
follow this module, so the three agree.
"""
import re
from dataclasses import dataclass


def menu_regex(digits) -> str:
    keys = "".join(re.escape(d) for d in sorted(digits))
    return f"^[{keys}]$"


def collect_regex(minimum: int, maximum: int, pattern: str | None) -> str:
    length = f"^(?=[0-9*#]{{{minimum},{maximum}}}$)"
    return length + (f"(?:{pattern})" if pattern else "")


@dataclass
class Read:
    digits: str = ""      # what was accepted; empty on failure
    invalid: str = ""     # the last input that did not match


def read_like_the_switch(read_once, play_invalid, *, minimum, tries, regex) -> Read:
    """Run the try loop with `read_once()` returning one try's input (terminator
    already removed, "" for a timeout) and `play_invalid()` after each failure."""
    result = Read()
    for _ in range(tries):
        got = read_once()
        if got and len(got) >= minimum:
            if re.search(regex, got):
                result.digits = got
                return result
            result.invalid = got
        play_invalid()
    return result
