"""The ACD service inside `hotline run`: a full sync whenever the inbound client
(re)connects, a reconcile pass every `reconcile_seconds`, and the agent state log
fed from mod_callcenter's callcenter::info events."""
import datetime
import logging

import gevent
from gevent.lock import Semaphore

from esl_apps.acd import commands as cc
from esl_apps.acd.reconciler import Reconciler
from esl_apps.acd.store import Store
from esl_apps.inbound import EslUnavailable

log = logging.getLogger(__name__)

WRAP_UP = "Wrap Up"


def event_time(headers: dict):
    """The event's own time (Event-Date-Timestamp, microseconds) as naive UTC."""
    try:
        micros = int(headers["Event-Date-Timestamp"])
    except (KeyError, ValueError):
        return None
    return datetime.datetime.fromtimestamp(micros / 1e6, datetime.timezone.utc).replace(tzinfo=None)


class AgentEvents:
    """callcenter::info agent-status-change / agent-state-change -> AgentStateLog.

    A status change Hotline asked for is already in the database (the CLI and the
    reconciler write it before they push it), so its echo is not logged twice; any
    other status change came from the agent's phone (feature codes *21-*24) or from
    mod_callcenter itself (max-no-answer). State changes come from calls (source
    "switch"); Idle with status Available is the wrap-up time."""

    def __init__(self, store: Store, later=gevent.spawn_later):
        self.store = store
        self.later = later   # later(seconds, fn, *args): the end of a wrap-up

    def handle(self, headers: dict) -> None:
        action = headers.get("CC-Action")
        if action not in ("agent-status-change", "agent-state-change", "bridge-agent-end"):
            return
        ext = cc.split_cc_name(headers.get("CC-Agent", ""))
        agent = self.store.agent(ext) if ext else None
        if agent is None:
            return
        at = event_time(headers)
        if action == "agent-status-change":
            status = headers.get("CC-Agent-Status", "")
            if status not in cc.STATUSES or status == agent.state:
                return
            self.store.record(agent, status, self.store.last_state(agent), "phone", at=at)
            log.info("acd: agent %s status %s (from the phone)", ext, status)
        elif action == "bridge-agent-end":
            # mod_callcenter has no wrap-up state: the agent goes straight back to
            # Waiting and is not offered calls for wrap_up_time seconds. Hotline logs
            # "Wrap Up" here and "Waiting" wrap_up_time later, unless something else
            # happened to the agent in between (a restart of Hotline loses the end).
            row = self.store.record(agent, agent.state, WRAP_UP, "switch", at=at)
            self.later(max(int(agent.wrap_up_time or 0), 0), self.wrap_up_over, ext, row.id)
        else:
            state = headers.get("CC-Agent-State", "")
            if state not in cc.STATES:
                return
            if state == "Waiting" and self.store.last_state(agent) == WRAP_UP:
                return
            self.store.record(agent, agent.state, state, "switch",
                              reason=agent.break_reason if agent.state == "On Break" else "",
                              at=at)


    def wrap_up_over(self, ext: str, wrap_row_id: int) -> None:
        try:
            agent = self.store.agent(ext)
            last = self.store.last_entry(agent) if agent is not None else None
            if last is None or last.id != wrap_row_id:
                return   # a call, a break or a logout came first: that is logged instead
            seconds = int(agent.wrap_up_time or 0)
            self.store.record(agent, agent.state, "Waiting", "switch",
                              at=last.at + datetime.timedelta(seconds=seconds))
            log.info("acd: agent %s wrap-up over", ext)
        except Exception:
            log.exception("acd: end of agent %s's wrap-up not logged", ext)


class AcdService:
    def __init__(self, esl, database, domain: str, files=None, callcenter_db=None,
                 reconcile_seconds: float = 5.0, sticky_held=None):
        self.esl = esl
        self.store = Store(database)
        self.events = AgentEvents(self.store)
        self.reconciler = Reconciler(esl.api, self.store, domain, files=files,
                                     callcenter_db=callcenter_db, sticky_held=sticky_held)
        self.reconcile_seconds = reconcile_seconds
        self._lock = Semaphore()
        self._loop = None
        self.subscribe()

    def subscribe(self) -> None:
        """Every subscription of the ACD, in one place."""
        self.esl.on("callcenter::info", self.on_callcenter)
        self.esl.on_connect.append(self.resync)

    def on_callcenter(self, event) -> None:
        try:
            self.events.handle(event.headers)
        except Exception:
            log.exception("acd: callcenter event not handled")

    def start(self) -> None:
        self._loop = gevent.spawn(self._run)

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.kill()

    def resync(self) -> None:
        heals = self.reconcile()
        if heals is not None:
            log.info("acd: synced with mod_callcenter (%d change(s))", len(heals))

    def reconcile(self):
        """One pass; the heals, or None when the switch could not be asked."""
        with self._lock:
            try:
                return self.reconciler.run_once()
            except EslUnavailable as exc:
                log.debug("acd: no reconcile pass: %s", exc)
            except (cc.SwitchRefused, cc.InvalidValue) as exc:
                log.error("acd: reconcile pass stopped: %s", exc)
            except Exception:
                log.exception("acd: reconcile pass failed")
            return None

    def _run(self) -> None:
        while True:
            gevent.sleep(self.reconcile_seconds)
            if self.esl.connected.is_set():
                self.reconcile()
