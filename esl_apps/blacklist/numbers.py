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
those of locale.default_region (CN above), taken from phonenumbers' metadata; a
region without a trunk prefix (HK) has no third rule. Known limits: a caller ID sent as 8613800138000
(country code without '+' or 00) is read as a national number and matches nothing;
a local landline number without its area code (62345678) is keyed as 8662345678,
so block such callers by prefix or with the area code the trunk sends. Anything
else (anonymous, letters, more than 15 digits) is never looked up: it passes.

Entries: a full number goes through db.phone.to_e164 (so "138 0013 8000" and
"+86 138-0013-8000" are the same entry); a number to_e164 calls invalid (a short
service number such as 95598) and every prefix go through the dialplan's rules,
so an entry is keyed exactly as a caller would be.
"""
import functools
import re
from dataclasses import dataclass

import phonenumbers

from db.phone import PhoneNumberError, to_e164

MAX_DIGITS = 15   # E.164; also the number of prefix lengths the dialplan looks up
_DIGITS_ONLY = re.compile(r"^[0-9]{1,4}$")


@dataclass(frozen=True)
class Dialing:
    """How callers of a region write their numbers: country code, trunk prefix
    (national, e.g. 0) and international prefix (e.g. 00)."""
    country_code: str
    trunk_prefix: str
    intl_prefix: str

    def rules(self) -> tuple:
        """(regex, what goes before the captured digits), the first match wins."""
        national = 14 - len(self.country_code)   # digits after the first, to 15 in all
        rules = [(re.compile(r"^\+([1-9][0-9]{0,14})$"), ""),
                 (re.compile(f"^{self.intl_prefix}([1-9][0-9]{{0,14}})$"), "")]
        if self.trunk_prefix:
            rules.append((re.compile(f"^{self.trunk_prefix}([1-9][0-9]{{0,{national}}})$"),
                          self.country_code))
        rules.append((re.compile(f"^([1-9][0-9]{{0,{national}}})$"), self.country_code))
        return tuple(rules)


@functools.lru_cache(maxsize=None)
def dialing(region: str = "CN") -> Dialing:
    meta = phonenumbers.PhoneMetadata.metadata_for_region((region or "").upper())
    if meta is None:
        raise NumberError(f"unknown region {region!r} (locale.default_region)")
    intl = meta.preferred_international_prefix or meta.international_prefix or "00"
    trunk = meta.national_prefix or ""
    return Dialing(str(meta.country_code),
                   trunk if _DIGITS_ONLY.match(trunk) else "",
                   intl if _DIGITS_ONLY.match(intl) else "00")


@functools.lru_cache(maxsize=None)
def region_rules(region: str) -> tuple:
    return dialing(region).rules()


RULES = region_rules("CN")
KEY_DIGITS = re.compile(r"^[1-9][0-9]{0,14}$")
_SEPARATORS = re.compile(r"[\s\-().]")
_PLAIN = re.compile(r"^\+?[0-9]{1,20}$")
DID_RE = re.compile(r"^\+?([0-9]{1,31})$")


class NumberError(ValueError):
    """An entry that cannot be a blacklist number or prefix; one line for the user."""


def caller_key(caller_id: str, region: str = "CN") -> str | None:
    """The key digits of a caller ID exactly as the dialplan computes them, or None."""
    for pattern, prefix in region_rules(region):
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
        key = caller_key(digits, region)
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
