"""The screen-pop pipeline: switch events on the agent's leg -> a pop payload ->
the agent's desk connections (server-sent events, webui.desk).

``PopHub`` is a per-agent publish/subscribe in memory: each open desk page holds
one subscription (a bounded queue) under the agent's extension; a publish puts
the payload on every subscription of that extension and never blocks (a desk
that stopped reading loses pops, not the event socket). Its primitives are the
threading ones, which ``hotline run`` has monkey-patched into gevent's.

``DeskEvents`` is the one event consumer for the desk (all its subscriptions in
``subscribe``). mod_callcenter originates the agent's leg with cc_agent
(EXT@default), cc_queue and cc_member_session_uuid (the caller's leg, the call
the note and the call record belong to), and copies the IVR's hotline_data_*
variables to it (cc_export_vars). CHANNEL_ANSWER and CHANNEL_BRIDGE both come for
one call: the first one pops, the second is dropped.

The caller-ID name and every call-data value come from the caller: the payload
carries them as plain text, and the desk's script only ever puts them into the
page as text (textContent), never as markup.
"""
import collections
import json
import logging
import queue
import threading
import time

import gevent
from peewee import JOIN

from db.models import CallNote, CallRecord, Customer, CustomerPhone, NoteCategory
from db.phone import try_e164
from esl_apps.ivr import calldata

log = logging.getLogger(__name__)

POP_EVENTS = ("CHANNEL_ANSWER", "CHANNEL_BRIDGE")
LAST_CALLS = 5
TEXT_MAX = 256


class Subscription:
    def __init__(self, hub: "PopHub", ext: str, maxsize: int):
        self.hub, self.ext = hub, ext
        self.queue = queue.Queue(maxsize=maxsize)

    def get(self, timeout: float | None = None):
        """The next payload (a dict), or None after `timeout` seconds."""
        try:
            return self.queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self) -> None:
        self.hub.unsubscribe(self)

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self.close()


class PopHub:
    def __init__(self, maxsize: int = 64):
        self.maxsize = maxsize
        self._lock = threading.Lock()
        self._subs: dict[str, set[Subscription]] = {}

    def subscribe(self, ext: str) -> Subscription:
        sub = Subscription(self, ext, self.maxsize)
        with self._lock:
            self._subs.setdefault(ext, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            subs = self._subs.get(sub.ext)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subs[sub.ext]

    def listeners(self, ext: str) -> int:
        with self._lock:
            return len(self._subs.get(ext, ()))

    def publish(self, ext: str, payload: dict) -> int:
        """Hand the payload to every desk of `ext`; how many took it."""
        with self._lock:
            subs = list(self._subs.get(ext, ()))
        taken = 0
        for sub in subs:
            try:
                sub.queue.put_nowait(payload)
                taken += 1
            except queue.Full:
                log.warning("desk of agent %s is not reading; pop dropped", ext)
        return taken


def sse_message(payload: dict, event: str = "pop") -> str:
    """One server-sent event; JSON never holds a raw line break."""
    return f"event: {event}\ndata: {json.dumps(payload, ensure_ascii=False)}\n\n"


def _text(value, limit: int = TEXT_MAX) -> str:
    return calldata.clean(value)[:limit]


def agent_extension(headers: dict) -> str | None:
    """The agent of a leg: cc_agent (EXT@domain), else the dialled user."""
    name = headers.get("variable_cc_agent") or headers.get("variable_dialed_user") or ""
    ext = name.split("@", 1)[0]
    return ext or None


def call_data_of(headers: dict) -> dict:
    data = {}
    for name, value in headers.items():
        if name.startswith("variable_"):
            key = calldata.key_of(name[len("variable_"):])
            if key is not None:
                data[_text(key, 64)] = _text(value)
    return dict(sorted(data.items()))


def customer_card(customer: Customer, e164: str | None) -> dict:
    """What the desk shows of a known caller: the customer and their last calls."""
    query = CallRecord.select().where(
        (CallRecord.customer == customer) | (CallRecord.caller_e164 == e164) if e164
        else (CallRecord.customer == customer))
    calls = list(query.order_by(CallRecord.start_at.desc()).limit(LAST_CALLS))
    notes = collections.defaultdict(list)
    if calls:
        for note in (CallNote.select(CallNote, NoteCategory)
                     .join(NoteCategory, JOIN.LEFT_OUTER)
                     .where(CallNote.call.in_([c.id for c in calls]))
                     .order_by(CallNote.created_at)):
            notes[note.call_id].append(_note(note))
    return {
        "id": customer.id, "name": customer.name, "address": customer.address,
        "region": customer.region, "community": customer.community,
        "account_no": customer.account_no or "",
        "calls": [{"call_uuid": c.call_uuid,
                   "at": c.start_at.strftime("%Y-%m-%d %H:%M") + " UTC",
                   "queue": c.queue, "talk_seconds": c.talk_seconds,
                   "notes": notes.get(c.id, [])} for c in calls],
        "work_orders": [],  # the work-order module is not built yet
    }


def _note(note: CallNote) -> dict:
    category = note.category
    return {"text": note.text,
            "category_zh": category.name_zh if category else "",
            "category_en": category.name_en if category else ""}


def find_customer(e164: str | None) -> Customer | None:
    if not e164:
        return None
    phone = (CustomerPhone.select(CustomerPhone, Customer).join(Customer)
             .where(CustomerPhone.e164 == e164).order_by(CustomerPhone.id).first())
    return phone.customer if phone else None


def build_pop(headers: dict, region: str = "CN") -> dict | None:
    """The pop payload for an agent-leg event, or None when it is not one.
    Needs a database connection."""
    ext = agent_extension(headers)
    if ext is None:
        return None
    own = headers.get("Unique-ID", "")
    call_uuid = headers.get("variable_cc_member_session_uuid") or own
    number = _text(headers.get("Caller-Caller-ID-Number")
                   or headers.get("variable_hotline_data_caller") or "", 64)
    e164 = try_e164(number, region) if number else None
    customer = find_customer(e164)
    return {
        "agent": ext,
        "call_uuid": _text(call_uuid, 64),
        "leg_uuid": _text(own, 64),
        "queue": _text(headers.get("variable_cc_queue", "").split("@", 1)[0], 64),
        "caller": number,
        "caller_name": _text(headers.get("Caller-Caller-ID-Name", ""), 128),
        "e164": e164 or "",
        "did": _text(headers.get("variable_hotline_did", ""), 32),
        "flow": _text(headers.get("variable_hotline_flow", ""), 64),
        "path": _text(headers.get("variable_hotline_path", "")),
        "data": call_data_of(headers),
        "customer": customer_card(customer, e164) if customer else None,
        "event_at": _event_seconds(headers),
    }


def _event_seconds(headers: dict) -> float | None:
    try:
        return int(headers["Event-Date-Timestamp"]) / 1e6
    except (KeyError, ValueError):
        return None


class DeskEvents:
    """CHANNEL_ANSWER / CHANNEL_BRIDGE of an agent's leg -> a pop on their desk."""

    def __init__(self, esl, hub: PopHub, database, region: str = "CN", remember: int = 4096):
        self.esl, self.hub, self.database, self.region = esl, hub, database, region
        self._seen: collections.OrderedDict = collections.OrderedDict()
        self._remember = remember
        self.subscribe()

    def subscribe(self) -> None:
        """Every subscription of the desk, in one place."""
        for name in POP_EVENTS:
            self.esl.on(name, self.on_channel)

    def on_channel(self, event) -> None:
        try:
            self.handle(event.headers)
        except Exception:
            log.exception("desk: screen pop not sent")

    def handle(self, headers: dict) -> dict | None:
        """The payload published (None when nothing popped)."""
        ext = agent_extension(headers)
        if ext is None or self.hub.listeners(ext) == 0:
            return None
        if headers.get("variable_cc_side", "agent") != "agent":
            return None  # the caller's leg: its agent pops from their own leg's event
        key = (ext, headers.get("variable_cc_member_session_uuid") or headers.get("Unique-ID"))
        if key in self._seen:
            return None
        self._seen[key] = True
        while len(self._seen) > self._remember:
            self._seen.popitem(last=False)
        # The consumer's greenlet keeps its own connection (opening one per event
        # doubles the cost of a pop); a failed query drops it for the next event.
        self.database.connect(reuse_if_open=True)
        try:
            payload = build_pop(headers, self.region)
        except Exception:
            self.database.close()
            raise
        payload["sent_at"] = time.time()
        self.hub.publish(ext, payload)
        log.info("desk: pop for agent %s, call %s", ext, payload["call_uuid"])
        gevent.sleep(0)  # let the desks' streams write it before the next event is handled
        return payload
