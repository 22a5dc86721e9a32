"""Hotline's view of queues, agents and tiers (the database) against
mod_callcenter's (`callcenter_config agent list`, `tier list`, `queue list`,
`queue list members`): every difference is healed and logged, one line each
saying what and why. The same pass is the full sync after (re)connecting.

Who wins:
- agents, their contact and times, tiers, queues: the database (Hotline added them);
- an agent's status: the newer change. mod_callcenter's last_status_change is newer
  than the agent's last logged change when a feature code was used while Hotline
  was not listening: the switch's status is taken into the database; otherwise the
  database's is pushed.
- two known mod_callcenter races, healed once seen on two passes in a row:
  an agent left in state Reserved with nothing offered (freeswitch#2540, ring-all
  with reserve-agents) is set back to Waiting; a member left Answered (or Trying)
  after its call ended (freeswitch#1973) is removed from mod_callcenter's members
  table, which has no API for it.
"""
import datetime
import logging
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from esl_apps.acd import commands as cc
from esl_apps.acd.store import Store
from esl_apps.waiting.sticky import STICKY_LEVEL

log = logging.getLogger(__name__)

STALE_MEMBER_STATES = ("Answered", "Trying")


@dataclass(frozen=True)
class Heal:
    what: str
    why: str

    def __str__(self):
        return f"{self.what} ({self.why})"


class Reconciler:
    def __init__(self, api, store: Store, domain: str, files=None,
                 callcenter_db: Path | None = None, sticky_held=None):
        """api(command) -> reply text; files: SwitchFiles (None: queues are not
        re-rendered); callcenter_db: mod_callcenter's SQLite file (stale members)."""
        self.api = api
        self.store = store
        self.domain = domain
        self.files = files
        self.callcenter_db = Path(callcenter_db) if callcenter_db else None
        # sticky_held(queue, ext): a sticky caller holds this tier at level 0 right now
        self.sticky_held = sticky_held or (lambda queue, ext: False)
        self._reserved_seen: dict[str, str] = {}  # ext -> last_offered_call
        self._stale_seen: set[str] = set()  # member uuids
        self.passes = 0

    # -- helpers --------------------------------------------------------------
    def _run(self, command: str) -> str:
        return cc.check_ok(self.api(command), command)

    def _table(self, command: str) -> list[dict]:
        return cc.parse_table(self.api(command), command)

    def _heal(self, heals: list, what: str, why: str) -> None:
        heal = Heal(what, why)
        heals.append(heal)
        log.warning("acd: healed %s: %s", what, why)

    # -- the pass ---------------------------------------------------------------
    def run_once(self) -> list[Heal]:
        heals: list[Heal] = []
        want = self.store.desired()
        self._queues(want, heals)
        fs_agents = {cc.split_cc_name(r["name"]): r for r in self._table(cc.AGENT_LIST)}
        fs_agents.pop(None, None)
        self._agents(want, fs_agents, heals)
        self._tiers(want, heals)
        self._reserved(fs_agents, want, heals)
        self._members(want, heals)
        self.passes += 1
        return heals

    def _queues(self, want, heals):
        have = {r["name"]: r for r in self._table(cc.QUEUE_LIST)}
        todo = []
        for name, settings in sorted(want.queues.items()):
            row = have.get(cc.cc_queue(name))
            if row is None:
                todo.append((name, "load", "queue in Hotline's database, not in mod_callcenter"))
                continue
            differ = [f"{key} {row[key]} in the switch, {value} in Hotline"
                      for key, value in settings.items() if row.get(key, "") not in ("", value)]
            if differ:
                todo.append((name, "reload", "; ".join(differ)))
        if not todo:
            return
        if self.files is not None:
            self.files.render_from_database()
        self._run("reloadxml")
        for name, action, why in todo:
            command = cc.queue_load(name) if action == "load" else cc.queue_reload(name)
            self._run(command)
            self._heal(heals, f"queue {name} {action}ed", why)

    def push_agent(self, agent, fs_row: dict | None = None) -> list[str]:
        """Make mod_callcenter's agent match the database row; what was changed."""
        ext = agent.extension
        done = []
        if fs_row is None:
            self._run(cc.agent_add(ext))
            done.append("added")
            fs_row = {}
        contact = f"user/{ext}@{self.domain}"
        if fs_row.get("contact") != contact:
            self._run(cc.agent_contact(ext, self.domain))
            done.append("contact")
        for key in cc.AGENT_TIMES:
            value = getattr(agent, key)
            if fs_row.get(key) != str(value):
                self._run(cc.agent_time(ext, key, value))
                done.append(key)
        return done

    def _agents(self, want, fs_agents, heals):
        for ext, agent in sorted(want.agents.items()):
            row = fs_agents.get(ext)
            done = self.push_agent(agent, row)
            if "added" in done:
                self._run(cc.agent_status(ext, agent.state))
                self._heal(heals, f"agent {ext} added with status {agent.state}",
                           "in Hotline's database, not in mod_callcenter")
                continue
            if done:
                self._heal(heals, f"agent {ext} {', '.join(done)} set",
                           "mod_callcenter's values differed from Hotline's")
            if row["status"] != agent.state:
                self._status(agent, row, heals)
        for ext in sorted(set(fs_agents) - set(want.agents)):
            self._run(cc.agent_del(ext))
            self._heal(heals, f"agent {ext} deleted", "in mod_callcenter, not in Hotline")

    def _status(self, agent, row, heals):
        ext, theirs, ours = agent.extension, row["status"], agent.state
        switch_at = int(row.get("last_status_change") or 0)
        ours_at = self.store.last_change(agent)
        # the pass read `agent` at its start: a status button pressed since then has
        # already set the row and pushed the new status; writing either way now would
        # put the stale value back (compare-and-set on the row, re-read before a push)
        changed = "acd: agent %s status changed during the pass; left to the next one"
        if self.store.changed_since(agent):
            return log.info(changed, ext)
        if theirs in cc.STATUSES and ours_at is not None and switch_at > int(
                ours_at.replace(tzinfo=datetime.timezone.utc).timestamp()):
            if self.store.record(agent, theirs, row.get("state", ""), "reconciler",
                                 reason="switch-newer", if_unchanged=True) is None:
                return log.info(changed, ext)
            self._heal(heals, f"agent {ext} status {ours} -> {theirs} in Hotline",
                       "mod_callcenter's change is newer (made while Hotline was not listening)")
        else:
            self._run(cc.agent_status(ext, ours))
            if self.store.record(agent, ours, row.get("state", ""), "reconciler",
                                 reason=agent.break_reason if ours == "On Break" else "",
                                 if_unchanged=True) is None:
                # a button pressed while this push was under way: its own push may
                # have reached the switch before this one, leaving the switch on the
                # stale status; the row holds the press, so push that
                fresh = self.store.agent(ext)
                if fresh is not None:
                    self._run(cc.agent_status(ext, fresh.state))
                return log.info(changed, ext)
            self._heal(heals, f"agent {ext} status {theirs} -> {ours} in mod_callcenter",
                       "Hotline's change is newer")

    def _tiers(self, want, heals):
        have = {}
        for row in self._table(cc.TIER_LIST):
            queue, ext = cc.split_cc_name(row["queue"]), cc.split_cc_name(row["agent"])
            if queue and ext:
                have[(queue, ext)] = (int(row["level"]), int(row["position"]))
        for (queue, ext), (level, position) in sorted(want.tiers.items()):
            got = have.get((queue, ext))
            if got is None:
                self._run(cc.tier_add(queue, ext, level, position))
                self._heal(heals, f"tier {queue}/{ext} added (level {level}, position {position})",
                           "in Hotline's database, not in mod_callcenter")
                continue
            for key, theirs, ours in (("level", got[0], level), ("position", got[1], position)):
                if (key == "level" and theirs == STICKY_LEVEL and ours != STICKY_LEVEL
                        and self.sticky_held(queue, ext)):
                    continue   # raised for a sticky caller; the waiting service puts it back
                if theirs != ours:
                    self._run(cc.tier_set(key, queue, ext, ours))
                    self._heal(heals, f"tier {queue}/{ext} {key} {theirs} -> {ours}",
                               "mod_callcenter's value differed from Hotline's")
        for queue, ext in sorted(set(have) - set(want.tiers)):
            if ext in want.agents or queue in want.queues:
                self._run(cc.tier_del(queue, ext))
                self._heal(heals, f"tier {queue}/{ext} deleted", "in mod_callcenter, not in Hotline")

    def _reserved(self, fs_agents, want, heals):
        seen = {}
        for ext, row in fs_agents.items():
            if row.get("state") != "Reserved" or ext not in want.agents:
                continue
            mark = row.get("last_offered_call", "")
            if self._reserved_seen.get(ext) == mark:
                self._run(cc.agent_state(ext, "Waiting"))
                self._heal(heals, f"agent {ext} state Reserved -> Waiting",
                           "stuck in Reserved with no call offered since the last pass "
                           "(freeswitch#2540)")
            else:
                seen[ext] = mark
        self._reserved_seen = seen

    def _members(self, want, heals):
        suspects = set()
        for name in sorted(want.queues):
            for row in self._table(cc.queue_members(name)):
                if row.get("state") not in STALE_MEMBER_STATES:
                    continue
                session = row.get("session_uuid", "")
                alive = bool(session) and self.api(cc.uuid_exists(session)).strip() == "true"
                if alive:
                    continue
                uuid = row["uuid"]
                if uuid not in self._stale_seen:
                    suspects.add(uuid)
                elif self._delete_member(uuid):
                    self._heal(heals, f"member {uuid} of queue {name} removed",
                               f"left {row['state']} after its call ended (freeswitch#1973)")
        self._stale_seen = suspects

    def _delete_member(self, uuid: str) -> bool:
        if self.callcenter_db is None or not self.callcenter_db.exists():
            log.error("acd: member %s is stale, but mod_callcenter's database is not "
                      "reachable here; left as it is", uuid)
            return False
        with sqlite3.connect(self.callcenter_db, timeout=5) as conn:
            conn.execute("DELETE FROM members WHERE uuid = ? AND state IN (?, ?)",
                         (cc._match(cc.UUID_RE, uuid, "member uuid"), *STALE_MEMBER_STATES))
        return True
