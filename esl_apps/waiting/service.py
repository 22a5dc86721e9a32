"""The waiting-caller service in `hotline run`.

It follows the members of every queue from mod_callcenter's callcenter::info
events (member-queue-start/resume/end, agent-offering, bridge-agent-start) and,
on every (re)connect, from `callcenter_config member list`. Once a second it
announces position, estimated wait and the callback offer (when the queue node
set cc_exit_keys) to every member whose queue's announce_frequency has passed
since its last announcement, with uuid_displace so mod_callcenter keeps the
caller's digits (see say.py). A member of a queue with sticky_agent_days gets its
last agent first (sticky.py).

Every value that goes into an API command is checked first: UUIDs by pattern,
numbers as ints, names by pattern, paths without spaces or '!'."""
import logging
import re
import time

import gevent

from db.models import Queue, utcnow
from esl_apps.inbound import EslUnavailable
from esl_apps.waiting import sticky
from esl_apps.waiting.announce import (UUID_RE, WAITING_STATES, Member, WaitEstimator,
                                       announcement, file_string, language_of, position)

log = logging.getLogger(__name__)

QUEUE_REFRESH = 30.0   # seconds between reads of the queues' settings
FLAG_NAME_RE = re.compile(r"^[A-Za-z0-9_]{1,64}$")


def _float(value, default=None):
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def parse_member_list(text: str) -> list[dict]:
    """Rows of `callcenter_config member list` (a '|' table with a header line)."""
    lines = [line for line in text.splitlines() if "|" in line]
    if not lines:
        return []
    head = lines[0].split("|")
    return [dict(zip(head, line.split("|"))) for line in lines[1:]
            if len(line.split("|")) == len(head)]


class WaitingService:
    def __init__(self, esl, database, prompts_dir, region: str = "CN", clock=time.time,
                 tick: float = 1.0, sticky_seconds: float = sticky.STICKY_SECONDS):
        self.esl = esl
        self.database = database
        self.prompts_dir = prompts_dir
        self.region = region
        self.clock = clock
        self.tick = tick
        self.sticky_seconds = sticky_seconds
        self.members: dict[str, Member] = {}      # by session uuid
        self.estimator = WaitEstimator(clock)
        self._queues: dict[str, dict] = {}
        self._flags: dict[str, int] = {}          # hotline_sticky_<queue> pushed
        self.holds: dict[str, dict] = {}          # session uuid -> sticky tier held at 0
        self._queues_read = -QUEUE_REFRESH
        self._loop = None
        self.subscribe()

    def subscribe(self) -> None:
        """Every subscription of the service, in one place."""
        self.esl.on("callcenter::info", self.on_callcenter)
        self.esl.on_connect.append(self.resync)

    # -- settings
    def queue_settings(self, cc_queue: str) -> dict:
        now = self.clock()
        if now - self._queues_read >= QUEUE_REFRESH:
            try:
                with self.database.connection_context():
                    self._queues = {q.name: {"announce_frequency": q.announce_frequency or 0,
                                             "sticky_agent_days": q.sticky_agent_days or 0}
                                    for q in Queue.select()}
                self._queues_read = now
                self.push_sticky_flags()
            except EslUnavailable as exc:
                log.debug("waiting: sticky flags not pushed: %s", exc)
            except Exception:
                log.exception("waiting: queue settings not read")
        return self._queues.get(cc_queue.split("@")[0],
                                {"announce_frequency": 0, "sticky_agent_days": 0})

    # -- events
    def on_callcenter(self, event) -> None:
        try:
            self.handle(event.headers)
        except Exception:
            log.exception("waiting: callcenter event not handled")

    def handle(self, headers: dict) -> None:
        action = headers.get("CC-Action", "")
        session = headers.get("CC-Member-Session-UUID", "")
        if not UUID_RE.match(session):
            return
        if action in ("member-queue-start", "member-queue-resume"):
            member = Member(session_uuid=session, member_uuid=headers.get("CC-Member-UUID", ""),
                            queue=headers.get("CC-Queue", ""), joined=self.clock(),
                            caller=headers.get("CC-Member-CID-Number", ""))
            self.members[session] = member
            gevent.spawn(self._joined, member)
        elif action == "member-queue-end":
            self.members.pop(session, None)
            self._end_sticky(session, "left the queue")
        elif action == "agent-offering":
            member = self.members.get(session)
            if member is not None:
                member.state = "Trying"
            self._end_sticky(session, "offered", headers.get("CC-Agent", ""))
        elif action == "bridge-agent-start":
            member = self.members.get(session)
            joined = _float(headers.get("CC-Member-Joined-Time"))
            answered = _float(headers.get("CC-Agent-Answered-Time"), self.clock())
            queue = headers.get("CC-Queue", "") or (member.queue if member else "")
            self.estimator.answered(queue, answered, joined or (member.joined if member else None))
            if member is not None:
                member.state = "Answered"
        elif action == "bridge-agent-fail":
            member = self.members.get(session)
            if member is not None:
                member.state = "Waiting"

    def _getvar(self, uuid: str, name: str) -> str:
        value = self.esl.api(f"uuid_getvar {uuid} {name}").strip()
        return "" if value.startswith("-ERR") or value == "_undef_" else value

    def _joined(self, member: Member) -> None:
        """The sticky agent first (mod_callcenter dispatches every 100 ms), then what
        the member's channel says about it."""
        settings = self.queue_settings(member.queue)
        if settings["sticky_agent_days"] > 0:
            try:
                self._late_sticky(member)
            except Exception:
                log.exception("[%s] waiting: sticky agent not applied", member.session_uuid)
        try:
            member.language = language_of(self._getvar(member.session_uuid, "hotline_language"))
            member.exit_key = self._getvar(member.session_uuid, "cc_exit_keys")[:1]
        except EslUnavailable as exc:
            log.debug("waiting: member %s not read: %s", member.session_uuid, exc)
        if settings["announce_frequency"] > 0:
            member.next_announce = member.joined + settings["announce_frequency"]

    # -- sticky agent
    def offer_first(self, session_uuid: str, cc_queue: str, caller: str) -> str | None:
        """Give the caller's last agent of cc_queue (Q@domain) level 0 until the call is
        offered to someone, the caller leaves or sticky_seconds pass. The compiled queue
        node calls this (through the `sticky` app) before the caller joins the queue, so
        mod_callcenter's first dispatch already sees it. The agent, or None."""
        if not UUID_RE.match(session_uuid) or session_uuid in self.holds:
            return None
        days = self.queue_settings(cc_queue)["sticky_agent_days"]
        if days <= 0:
            return None
        key = sticky.caller_key(caller, self.region)
        if key is None:
            return None
        queue_name, _, domain = cc_queue.partition("@")
        with self.database.connection_context():
            found = sticky.sticky_tier(key, queue_name, days, utcnow())
        if found is None:
            return None
        ext, level = found
        agent = f"{ext}@{domain}"
        command = sticky.set_level_command(cc_queue, agent, sticky.STICKY_LEVEL)
        hold = {"agent": agent, "level": level, "queue": cc_queue}
        self.holds[session_uuid] = hold   # first: the reconciler leaves held tiers alone
        try:
            self.esl.api(command)
        except BaseException:
            self.holds.pop(session_uuid, None)
            raise
        log.info("[%s] sticky agent %s offered first", session_uuid, agent)
        gevent.spawn_later(self.sticky_seconds, self._expire, session_uuid, hold)
        return agent

    def holds_tier(self, queue: str, ext: str) -> bool:
        """Whether a sticky caller holds queue/ext (names without @domain) at level 0."""
        return any(h["queue"].partition("@")[0] == queue and h["agent"].partition("@")[0] == ext
                   for h in list(self.holds.values()))

    def _late_sticky(self, member: Member) -> None:
        """A member whose queue node did not ask first (socket mode, or the flag not yet
        pushed): best effort, it races mod_callcenter's first dispatch."""
        if member.state == "Waiting" and member.session_uuid in self.members:
            self.offer_first(member.session_uuid, member.queue, member.caller)

    def _expire(self, session_uuid: str, hold: dict) -> None:
        if self.holds.get(session_uuid) is hold:
            self._end_sticky(session_uuid, "timed out")

    def _end_sticky(self, session_uuid: str, why: str, offered_to: str = "") -> None:
        hold = self.holds.pop(session_uuid, None)
        if hold is None:
            return
        agent = hold["agent"]
        try:
            self.esl.api(sticky.set_level_command(hold["queue"], agent, hold["level"]))
        except (EslUnavailable, ValueError) as exc:
            log.warning("[%s] sticky tier %s not restored: %s", session_uuid, agent, exc)
        if offered_to and offered_to != agent:
            log.info("[%s] sticky agent %s missed: offered to %s", session_uuid, agent,
                     offered_to)
        else:
            log.info("[%s] sticky agent %s: %s", session_uuid, agent, why)

    def push_sticky_flags(self) -> None:
        """Tell the dialplan which queues want the sticky agent: the global variable
        hotline_sticky_<queue> = days (0: off). A compiled queue node asks the `sticky`
        app first only when it is set (see esl_apps.ivr.compile)."""
        for name, settings in sorted(self._queues.items()):
            days = int(settings["sticky_agent_days"])
            if not FLAG_NAME_RE.match(name) or self._flags.get(name) == days:
                continue
            self.esl.api(f"global_setvar hotline_sticky_{name}={days}")
            self._flags[name] = days

    # -- announcements
    def announce_due(self) -> int:
        now, done = self.clock(), 0
        members = list(self.members.values())
        for member in members:
            if member.state != "Waiting" or not member.next_announce or member.next_announce > now:
                continue
            frequency = self.queue_settings(member.queue)["announce_frequency"]
            member.next_announce = now + frequency if frequency > 0 else 0
            try:
                self.announce(member, members)
                done += 1
            except EslUnavailable as exc:
                log.debug("waiting: no announcement: %s", exc)
            except ValueError as exc:
                log.error("[%s] waiting: no announcement: %s", member.session_uuid, exc)
        return done

    def announce(self, member: Member, members=None) -> str:
        if not UUID_RE.match(member.session_uuid):
            raise ValueError(f"not a UUID: {member.session_uuid!r}")
        pos = position(member, members if members is not None else self.members.values())
        minutes = self.estimator.minutes(member.queue, pos)
        path = file_string(announcement(self.prompts_dir, member.language, pos, minutes,
                                        member.exit_key))
        if member.displaced:
            self.esl.api(f"uuid_displace {member.session_uuid} stop {member.displaced}")
        reply = self.esl.api(f"uuid_displace {member.session_uuid} start {path} 0")
        member.displaced = path
        log.info("[%s] announced position %d, wait %s min (%s)", member.session_uuid, pos,
                 minutes, reply.strip())
        return reply

    # -- life cycle
    def resync(self) -> None:
        """The sticky flags and the members mod_callcenter has now (after a restart of
        either side: a restarted switch has lost its global variables)."""
        try:
            self._flags.clear()
            self._queues_read = self.clock() - QUEUE_REFRESH   # read now, push every flag
            self.queue_settings("")
            rows = parse_member_list(self.esl.api("callcenter_config member list"))
        except EslUnavailable as exc:
            log.debug("waiting: no resync: %s", exc)
            return
        seen = set()
        for row in rows:
            session = row.get("session_uuid", "")
            if not UUID_RE.match(session) or row.get("state") not in WAITING_STATES + ("Answered",):
                continue
            seen.add(session)
            if session in self.members:
                self.members[session].state = row["state"]
                continue
            member = Member(session_uuid=session, member_uuid=row.get("uuid", ""),
                            queue=row.get("queue", ""),
                            joined=_float(row.get("joined_epoch"), self.clock()),
                            state=row["state"], caller=row.get("cid_number", ""))
            self.members[session] = member
            gevent.spawn(self._joined, member)
        for session in set(self.members) - seen:
            self.members.pop(session, None)

    def start(self) -> None:
        self._loop = gevent.spawn(self._run)

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.kill()

    def _run(self) -> None:
        while True:
            gevent.sleep(self.tick)
            if self.esl.connected.is_set():
                self.queue_settings("")   # re-read now and then: new sticky flags
            if self.members and self.esl.connected.is_set():
                try:
                    self.announce_due()
                except Exception:
                    log.exception("waiting: announcement pass failed")
