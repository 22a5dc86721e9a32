"""Caller numbers as the blacklist keys them: E.164 digits without the '+'.

The switch sees a caller ID in whatever form the trunk sends. The dialplan
(dialplan/public/05_blacklist.xml) turns it into the key form with four rules,
the first that matches wins; `caller_key` below is the same rules in Python, and
the tests hold the two together:

    +8613800138000      ^\\+([1-9]\\d{0,14})$      -> 8613800138000
    008613800138000     ^00([1-9]\\d{0,14})$       -> 8613800138000
    01012345678         ^0([1-9]\\d{0,12})$        -> 86 + 1012345678
    13800138000         ^([1-9]\\d{0,12})$         -> 86 + 13800138000

The country code (86), the trunk prefix (0) and the international prefix (00) are
China's (locale.default_region CN). Known limits: a caller ID sent as 8613800138000
(country code without '+' or 00) is read as a national number and matches nothing;
a local landline number without its area code (62345678) is keyed as 8662345678,
so block such callers by prefix or with the area code the trunk sends. Anything
else (anonymous, letters, more than 15 digits) is never looked up: it passes.

Entries: a full number goes through db.phone.to_e164 (so "138 0013 8000" and
"+86 138-0013-8000" are the same entry); a number to_e164 calls invalid (a short
service number such as 95598) and every prefix go through the dialplan's rules,
so an entry is keyed exactly as a caller would be.
"""
import re

from db.phone import PhoneNumberError, to_e164

COUNTRY_CODE = "86"
MAX_DIGITS = 15   # E.164; also the number of prefix lengths the dialplan looks up
RULES = (
    (re.compile(r"^\+([1-9][0-9]{0,14})$"), ""),
    (re.compile(r"^00([1-9][0-9]{0,14})$"), ""),
    (re.compile(r"^0([1-9][0-9]{0,12})$"), COUNTRY_CODE),
    (re.compile(r"^([1-9][0-9]{0,12})$"), COUNTRY_CODE),
)
KEY_DIGITS = re.compile(r"^[1-9][0-9]{0,14}$")
_SEPARATORS = re.compile(r"[\s\-().]")
_PLAIN = re.compile(r"^\+?[0-9]{1,20}$")
DID_RE = re.compile(r"^\+?([0-9]{1,31})$")


class NumberError(ValueError):
    """An entry that cannot be a blacklist number or prefix; one line for the user."""


def caller_key(caller_id: str) -> str | None:
    """The key digits of a caller ID exactly as the dialplan computes them, or None."""
    for pattern, prefix in RULES:
        m = pattern.match(caller_id or "")
        if m:
            return prefix + m.group(1)
    return None


def parse_pattern(text: str, region: str = "CN") -> tuple[str, bool]:
    """'138 0013 8000' -> ('8613800138000', False); '+86 1380013*' -> ('861380013', True)."""
    raw = (text or "").strip()
    is_prefix = raw.endswith("*")
    digits = _SEPARATORS.sub("", raw[:-1] if is_prefix else raw)
    if not digits:
        raise NumberError(f"{text!r}: give a number, or a prefix ending in '*'")
    key = None
    if not is_prefix and _PLAIN.match(digits):
        try:
            key = to_e164(digits, region).lstrip("+")
        except PhoneNumberError:
            key = None
    if key is None:
        key = caller_key(digits)
    if key is None or not KEY_DIGITS.match(key):
        what = "prefix" if is_prefix else "number"
        raise NumberError(f"{text!r} is not a phone {what} (digits, optionally after + or 00; "
                          f"at most {MAX_DIGITS} digits with the country code)")
    return key, is_prefix


def parse_did(text: str | None) -> str | None:
    """A DID for an entry's scope: its digits without '+'; None for every DID."""
    if text is None:
        return None
    m = DID_RE.match(text.strip())
    if not m:
        raise NumberError(f"DID {text!r} must be digits, optionally after '+'")
    return m.group(1)


def did_key(destination_number: str) -> str | None:
    """The DID scope of a call, as the dialplan takes it from destination_number."""
    m = DID_RE.match(destination_number or "")
    return m.group(1) if m else None


def display(pattern: str, is_prefix: bool) -> str:
    return f"+{pattern}{'*' if is_prefix else ''}"
