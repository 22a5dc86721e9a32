"""Blacklist entries in the database, and the mod_hash keys the switch gets for them.

Each active entry (no expiry, or expiring later than now) is one key in the
realm `hotline_bl`:

    x_<scope>_<digits>   a full number      value A<entry id> (allow) or B<entry id>
    p_<scope>_<digits>   a prefix           (block)

<scope> is `any` for every DID or the DID's digits; <digits> the key form of
esl_apps.blacklist.numbers. Two entries with the same key: the allow entry wins,
else the lower id.

The dialplan does for a call what `lookup` does here: it looks up the exact key
(this DID, then every DID), then each prefix of the caller's digits from the
longest to one digit (this DID, then every DID), and strings the values it finds
together. Any A: the caller is a VIP and skips the blacklist. Else the first B
(the most specific) blocks the call. At most 2 + 2 x 15 lookups, whatever the
size of the list.
"""
import datetime
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from db.models import BlacklistEntry, database, utcnow
from esl_apps.blacklist.numbers import (
    MAX_DIGITS,
    NumberError,
    caller_key,
    did_key,
    parse_did,
    parse_pattern,
)

REALM = "hotline_bl"
ANY = "any"
KEY_RE = re.compile(r"^[xp]_(any|[0-9]{1,31})_[1-9][0-9]{0,14}$")
VALUE_RE = re.compile(r"^[AB][0-9]{1,18}$")
_DURATION = re.compile(r"^([1-9][0-9]{0,4})([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


@dataclass(frozen=True)
class Match:
    allow: bool
    entry_id: int


def entry_key(entry) -> str:
    scope = entry.did or ANY
    return f"{'p' if entry.is_prefix else 'x'}_{scope}_{entry.pattern}"


def entry_value(entry) -> str:
    return f"{'A' if entry.allow else 'B'}{entry.id}"


def active(now: datetime.datetime | None = None):
    now = now or utcnow()
    return BlacklistEntry.select().where(
        BlacklistEntry.expires_at.is_null() | (BlacklistEntry.expires_at > now))


def switch_keys(now: datetime.datetime | None = None) -> dict[str, str]:
    """{key: value} for every active entry: what the switch's realm should hold."""
    keys: dict[str, str] = {}
    # allow entries last, each id order: a later write is the winner
    for entry in active(now).order_by(BlacklistEntry.allow, BlacklistEntry.id.desc()):
        key, value = entry_key(entry), entry_value(entry)
        if KEY_RE.match(key) and VALUE_RE.match(value):
            keys[key] = value
    return keys


def next_expiry(now: datetime.datetime | None = None) -> datetime.datetime | None:
    now = now or utcnow()
    row = (BlacklistEntry.select(BlacklistEntry.expires_at)
           .where(BlacklistEntry.expires_at > now)
           .order_by(BlacklistEntry.expires_at).first())
    return row.expires_at if row else None


def fingerprint() -> tuple:
    """Changes whenever an entry is added or removed (add replaces, never updates)."""
    from peewee import fn
    return tuple(BlacklistEntry.select(fn.COUNT(BlacklistEntry.id), fn.MAX(BlacklistEntry.id),
                                       fn.MAX(BlacklistEntry.created_at)).scalar(as_tuple=True))


def lookup(keys: dict[str, str], caller_id: str, destination: str,
           region: str = "CN") -> Match | None:
    """What the dialplan decides for this caller ID calling this DID number."""
    digits = caller_key(caller_id, region)
    if digits is None:
        return None
    did = did_key(destination) or ""
    names = [f"x_{did}_{digits}", f"x_{ANY}_{digits}"]
    for length in range(min(len(digits), MAX_DIGITS), 0, -1):
        names += [f"p_{did}_{digits[:length]}", f"p_{ANY}_{digits[:length]}"]
    hits = "".join(keys.get(name, "") for name in names)
    allow = re.search(r"A([0-9]+)", hits)
    if allow:
        return Match(True, int(allow.group(1)))
    block = re.search(r"B([0-9]+)", hits)
    return Match(False, int(block.group(1))) if block else None


def parse_expiry(text: str | None, now: datetime.datetime | None = None,
                 timezone: str = "Asia/Shanghai") -> datetime.datetime | None:
    """'7d', '12h', '30m' from now; 'YYYY-MM-DD' the end of that day in `timezone`.
    Returned as naive UTC, as the models store times."""
    if text is None:
        return None
    now = now or utcnow()
    text = text.strip()
    m = _DURATION.match(text)
    if m:
        return now + datetime.timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})
    try:
        day = datetime.date.fromisoformat(text)
    except ValueError:
        raise NumberError(f"expiry {text!r}: give a date (2026-12-31) or a duration "
                          "(30m, 12h, 7d)") from None
    end = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(),
                                    ZoneInfo(timezone))
    expires = end.astimezone(datetime.UTC).replace(tzinfo=None)
    if expires <= now:
        raise NumberError(f"expiry {text!r} is in the past")
    return expires


def add(text: str, did: str | None = None, expires_at=None, reason: str = "",
        allow: bool = False, region: str = "CN", user=None) -> tuple[BlacklistEntry, bool]:
    """Add an entry; one with the same number/prefix and scope is replaced (a new id,
    so the running service sees the change). (entry, replaced)."""
    pattern, is_prefix = parse_pattern(text, region)
    scope = parse_did(did)
    if len(reason) > 255 or any(c in reason for c in "\r\n\0"):
        raise NumberError("the reason must be one line of at most 255 characters")
    with database.atomic():
        replaced = (BlacklistEntry.delete()
                    .where(BlacklistEntry.pattern == pattern,
                           BlacklistEntry.is_prefix == is_prefix,
                           (BlacklistEntry.did == scope) if scope is not None
                           else BlacklistEntry.did.is_null())
                    .execute())
        entry = BlacklistEntry.create(pattern=pattern, is_prefix=is_prefix, allow=allow,
                                      did=scope, reason=reason, expires_at=expires_at,
                                      created_by=user)
    return entry, bool(replaced)


def remove(text: str, did: str | None = None, every_did: bool = False,
           region: str = "CN") -> int:
    """Remove entries by id ('#12' or '12' when it is not a number form) or by number
    or prefix in one scope (every scope with every_did); how many were removed."""
    text = text.strip()
    if text.startswith("#") and text[1:].isdigit():
        return BlacklistEntry.delete().where(BlacklistEntry.id == int(text[1:])).execute()
    pattern, is_prefix = parse_pattern(text, region)
    query = BlacklistEntry.delete().where(BlacklistEntry.pattern == pattern,
                                          BlacklistEntry.is_prefix == is_prefix)
    if not every_did:
        scope = parse_did(did)
        query = query.where((BlacklistEntry.did == scope) if scope is not None
                            else BlacklistEntry.did.is_null())
    return query.execute()
