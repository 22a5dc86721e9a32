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
import time

import gevent

from db.models import Queue, utcnow
from esl_apps.inbound import EslUnavailable
from esl_apps.waiting import sticky
from esl_apps.waiting.announce import (UUID_RE, WAITING_STATES, Member, WaitEstimator,
                                       announcement, file_string, language_of, position)

log = logging.getLogger(__name__)

QUEUE_REFRESH = 30.0   # seconds between reads of the queues' settings


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
            member = self.members.pop(session, None)
            if member is not None:
                self._end_sticky(member, "left the queue")
        elif action == "agent-offering":
            member = self.members.get(session)
            if member is not None:
                member.state = "Trying"
                self._end_sticky(member, "offered", headers.get("CC-Agent", ""))
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
                self._start_sticky(member, settings["sticky_agent_days"])
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
    def _start_sticky(self, member: Member, days: int) -> None:
        caller = sticky.caller_key(member.caller, self.region)
        if caller is None:
            return
        queue_name, _, domain = member.queue.partition("@")
        with self.database.connection_context():
            found = sticky.sticky_tier(caller, queue_name, days, utcnow())
        if found is None:
            return
        ext, level = found
        agent = f"{ext}@{domain}"
        if member.state != "Waiting" or member.session_uuid not in self.members:
            log.info("[%s] sticky agent %s missed: already offered", member.session_uuid, agent)
            return
        self.esl.api(sticky.set_level_command(member.queue, agent, sticky.STICKY_LEVEL))
        member.sticky = {"agent": agent, "level": level}
        log.info("[%s] sticky agent %s offered first", member.session_uuid, agent)
        gevent.spawn_later(self.sticky_seconds, self._end_sticky, member, "timed out")

    def _end_sticky(self, member: Member, why: str, offered_to: str = "") -> None:
        if not member.sticky:
            return
        agent, level = member.sticky["agent"], member.sticky["level"]
        member.sticky = {}
        try:
            self.esl.api(sticky.set_level_command(member.queue, agent, level))
        except (EslUnavailable, ValueError) as exc:
            log.warning("[%s] sticky tier %s not restored: %s", member.session_uuid, agent, exc)
        if offered_to and offered_to != agent:
            log.info("[%s] sticky agent %s missed: offered to %s", member.session_uuid, agent,
                     offered_to)
        else:
            log.info("[%s] sticky agent %s: %s", member.session_uuid, agent, why)

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
        """The members mod_callcenter has now (after a restart of either side)."""
        try:
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
            if self.members and self.esl.connected.is_set():
                try:
                    self.announce_due()
                except Exception:
                    log.exception("waiting: announcement pass failed")
