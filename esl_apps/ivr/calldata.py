"""Call data: what the IVR learns about a call, as `key` or `section.key`.

On the switch each item is a channel variable, so it travels with the call to
the agent's leg, the screen pop and the call record:

    account          -> hotline_data_account
    bill.amount_due  -> hotline_data_bill__amount_due
"""
import re

from esl_apps.ivr.verbs.base import REF

PREFIX = "hotline_data_"
# mod_callcenter copies the variables named here to the agent's leg (no wildcards),
# so the screen pop and the agent's call record see what the IVR learnt.
EXPORTS = "cc_export_vars"
BASE_EXPORTS = ("hotline_did", "hotline_flow", "hotline_language", "hotline_path",
                PREFIX + "caller", PREFIX + "did")
_UNSAFE = re.compile(r"[\r\n\x00]")


def var_name(key: str) -> str:
    return PREFIX + key.replace(".", "__")


def key_of(variable: str) -> str | None:
    """The call-data key of a channel variable, or None if it is not call data."""
    if not variable.startswith(PREFIX):
        return None
    return variable[len(PREFIX):].replace("__", ".")


def clean(value) -> str:
    """A value as call data: text, one line, at most 1,000 characters, and never
    a ${...} the switch would expand (values come from callers and lookups)."""
    text = _UNSAFE.sub(" ", "" if value is None else str(value))[:1000]
    return text.replace("${", "$ {")


def expand(text: str, data: dict) -> str:
    """Replace each ${key} by its value (empty when the call has none)."""
    return REF.sub(lambda m: data.get(m.group(1), ""), text)


def to_switch(text: str) -> str:
    """The same text with each ${key} as the switch's ${hotline_data_...}."""
    return REF.sub(lambda m: "${" + var_name(m.group(1)) + "}", text)
