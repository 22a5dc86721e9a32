"""The blacklist inside `hotline run`: the switch's mod_hash realm kept equal to the
active entries in the database.

- Whenever the event socket (re)connects (a FreeSWITCH restart empties mod_hash),
  and every `resync_seconds` as a safety net, a full sync: `hash_dump db hotline_bl`
  says what the switch holds, and only the difference is sent (hash insert/delete).
- Every `poll_seconds` a cheap query (count, highest id, newest creation) tells
  whether an entry was added or removed (`hotline blacklist add/remove` write the
  database only); if so, a sync. So a change reaches the switch within poll_seconds.
- An entry leaves the switch when it expires: the loop wakes at the next expiry
  (or the next poll, whichever is first) and syncs.
- The configured message: when the file <prompts_dir>/blacklist/blocked.wav exists,
  its path is pushed as the global variable hotline_blocked_prompt and blocked
  callers hear it (answered, then hung up); without it they get busy (486).

Fail-open: until Hotline has connected since the switch started, the realm is
empty and nobody is blocked (and nobody is marked VIP).

Every key and value is checked against a strict pattern before it goes into an
ESL command (esl_apps.blacklist.entries.KEY_RE / VALUE_RE).
"""
import logging
import re
from pathlib import Path

import gevent
from gevent.lock import Semaphore

from db.models import utcnow
from esl_apps.blacklist import entries
from esl_apps.inbound import EslUnavailable

log = logging.getLogger(__name__)

PROMPT_VAR = "hotline_blocked_prompt"
SAFE_PATH = re.compile(r"^/[A-Za-z0-9_./+-]{1,400}$")
DUMP_LINE = re.compile(r"^D/" + entries.REALM + r"_([^/]+)/(.*)$")


class BlacklistService:
    def __init__(self, esl, database, prompts_dir=None, poll_seconds: float = 2.0,
                 resync_seconds: float = 300.0):
        self.esl = esl
        self.database = database
        self.prompt = Path(prompts_dir) / "blacklist" / "blocked.wav" if prompts_dir else None
        self.poll_seconds = poll_seconds
        self.resync_seconds = resync_seconds
        self.syncs = 0
        self._fingerprint = None
        self._pushed_expiry = None
        self._lock = Semaphore()
        self._greenlet = None

    def start(self):
        self.esl.on_connect.append(self.sync)
        self._greenlet = gevent.spawn(self._loop)

    def stop(self):
        if self._greenlet is not None:
            self._greenlet.kill()

    # the switch --------------------------------------------------------------
    def sync(self) -> bool:
        """Make the switch's realm equal to the active entries; False if the switch
        could not be reached (the next connect or poll tries again)."""
        with self._lock:
            try:
                with self.database.connection_context():
                    now = utcnow()
                    fingerprint = entries.fingerprint()
                    wanted = entries.switch_keys(now)
                    next_expiry = entries.next_expiry(now)
                held = self._held()
                deletes = [k for k in held if k not in wanted]
                inserts = [(k, v) for k, v in wanted.items() if held.get(k) != v]
                for key in deletes:
                    self._api(f"hash delete/{entries.REALM}/{key}")
                for key, value in inserts:
                    self._api(f"hash insert/{entries.REALM}/{key}/{value}")
                self._push_prompt()
            except EslUnavailable as exc:
                log.info("blacklist not pushed (%s); it is pushed on connect", exc)
                self._fingerprint = None
                return False
            self._fingerprint = fingerprint
            # the first pushed entry to expire: the loop syncs again then, even if
            # it only learns of the entry after that moment has passed
            self._pushed_expiry = next_expiry
            self.syncs += 1
            if deletes or inserts:
                log.info("blacklist pushed to the switch: %d set, %d removed, %d active",
                         len(inserts), len(deletes), len(wanted))
            return True

    def _held(self) -> dict[str, str]:
        held = {}
        for line in self.esl.api(f"hash_dump db {entries.REALM}", timeout=30).splitlines():
            m = DUMP_LINE.match(line)
            if m:
                held[m.group(1)] = m.group(2)
        return held

    def _api(self, command: str) -> str:
        # realm/key/value were checked by the patterns; check again where it counts
        parts = command.split("/")
        if len(parts) > 2 and not entries.KEY_RE.match(parts[2]):
            raise ValueError(f"refusing a blacklist key {parts[2]!r}")
        if len(parts) > 3 and not entries.VALUE_RE.match(parts[3]):
            raise ValueError(f"refusing a blacklist value {parts[3]!r}")
        reply = self.esl.api(command, timeout=10)
        if reply.startswith("-ERR") and not command.startswith("hash delete"):
            log.warning("switch refused %r: %s", command, reply.strip())
        return reply

    def _push_prompt(self):
        path = str(self.prompt) if self.prompt and self.prompt.is_file() else ""
        if path and not SAFE_PATH.match(path):
            log.warning("blocked-caller message %s: path not usable in the dialplan; busy "
                        "instead", path)
            path = ""
        self.esl.api(f"global_setvar {PROMPT_VAR}={path}", timeout=10)

    # the loop ----------------------------------------------------------------
    def _changed(self) -> bool:
        with self.database.connection_context():
            return entries.fingerprint() != self._fingerprint

    def _due(self):
        with self.database.connection_context():
            upcoming = entries.next_expiry(utcnow())
        pushed = self._pushed_expiry
        return min(d for d in (upcoming, pushed) if d is not None) \
            if upcoming or pushed else None

    def _loop(self):
        since_full = 0.0
        while True:
            wait = self.poll_seconds
            try:
                expiry = self._due()
                if expiry is not None:
                    wait = min(wait, max(0.05, (expiry - utcnow()).total_seconds() + 0.05))
            except Exception:
                log.exception("cannot read the blacklist")
            gevent.sleep(wait)
            since_full += wait
            if not self.esl.connected.is_set():
                continue
            try:
                expired = expiry is not None and expiry <= utcnow()
                if expired or since_full >= self.resync_seconds or self._changed():
                    since_full = 0.0
                    self.sync()
            except Exception:
                log.exception("blacklist sync failed")
