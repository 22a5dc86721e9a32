"""Login throttling, counted from the audit log (so it holds across restarts and
processes, and needs no table of its own).

A login is refused without checking the password while, in the last LOCK_MINUTES:
- the submitted user name had MAX_FAILURES failed logins since its last successful
  login, or
- the client address had MAX_FAILURES * IP_FACTOR failed logins (one address trying
  many names).
The name is counted as typed, whether or not such a user exists, so the lock says
nothing about which names exist. Refused attempts are logged as ``login.locked``
and do not extend the lock.
"""
import datetime

from peewee import fn

from db.models import AuditLog, utcnow

MAX_FAILURES = 5
IP_FACTOR = 4
LOCK_MINUTES = 5
FAILED = "login.failed"
SUCCEEDED = "login"


def now() -> datetime.datetime:
    return utcnow()


def name_key(username: str) -> str:
    return username.strip().lower()[:64]


def locked(username: str, addr: str) -> bool:
    since = now() - datetime.timedelta(minutes=LOCK_MINUTES)
    key = name_key(username)
    last_ok = (AuditLog.select(fn.MAX(AuditLog.at))
               .where(AuditLog.action == SUCCEEDED, AuditLog.object_type == "user",
                      AuditLog.object_id == key, AuditLog.at >= since).scalar())
    by_name = (AuditLog.select()
               .where(AuditLog.action == FAILED, AuditLog.object_id == key,
                      AuditLog.at >= (last_ok if last_ok and last_ok > since else since))
               .count())
    if by_name >= MAX_FAILURES:
        return True
    by_addr = (AuditLog.select()
               .where(AuditLog.action == FAILED, AuditLog.remote_addr == addr[:64],
                      AuditLog.at >= since)
               .count())
    return by_addr >= MAX_FAILURES * IP_FACTOR
