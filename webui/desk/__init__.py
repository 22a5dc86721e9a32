"""The agent desk: the agent's own status (Ready / Break with a reason / Log out,
through the ACD layer: webui.desk.control), the screen pop pushed by server-sent
events (webui.events), the call note, the blacklist in one click, a new customer
for an unknown caller, and the agent's recent calls.

Open to agents and supervisors; what the desk shows and changes is the signed-in
user's own agent (Agent.user). Every form is CSRF-protected; the desk's script
(static/desk.js) sends them with fetch and gets JSON back, and each works as a
plain form too (a redirect back to the desk).
"""
import logging

import peewee
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from db.models import (
    Agent,
    CallNote,
    CallRecord,
    Customer,
    CustomerPhone,
    NoteCategory,
    database,
    utcnow,
)
from db.phone import try_e164
from esl_apps.acd import commands as cc
from esl_apps.blacklist import entries
from esl_apps.blacklist.numbers import NumberError
from webui import audit
from webui.access import role_required
from webui.admin.blacklist import push as push_blacklist
from webui.desk.control import AgentControl
from webui.events import PopHub, customer_card, sse_message

log = logging.getLogger(__name__)
bp = Blueprint("desk", __name__, url_prefix="/desk")
PUBLIC_ENDPOINTS: set[str] = set()

ROLES = ("agent", "supervisor")
HEARTBEAT_SECONDS = 15.0
RECENT_CALLS = 20
NOTE_MAX = 4000
BREAK_REASONS = {"rest": _l("Rest"), "lunch": _l("Lunch"), "meeting": _l("Meeting"),
                 "training": _l("Training")}
STATUS_NAMES = {"Available": _l("Ready"), "On Break": _l("On break"),
                "Logged Out": _l("Logged out"), "Wrap Up": _l("Wrap-up")}
ACTIONS = {"ready": "Available", "break": "On Break", "logout": "Logged Out"}


def pop_hub(app=None) -> PopHub:
    """The app's hub: HOTLINE_POP_HUB from the composition root, else one of its own."""
    app = app or current_app
    hub = app.config.get("HOTLINE_POP_HUB")
    if hub is None:
        hub = app.extensions.setdefault("hotline_pop_hub", PopHub())
    return hub


def agent_control():
    control = current_app.config.get("HOTLINE_AGENT_CONTROL")
    if control is None:
        control = current_app.extensions.setdefault("hotline_agent_control",
                                                    AgentControl(database))
    return control


def region() -> str:
    config = current_app.config.get("HOTLINE_CONFIG")
    return config.locale.default_region if config is not None else "CN"


def my_agent() -> Agent | None:
    return Agent.get_or_none(Agent.user == current_user.record.id)


def wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def reply(message: str, code: int = 200, **fields):
    """JSON for the desk's script, else a flash message and back to the desk."""
    if wants_json():
        return {"ok": code < 400, "message": message, **fields}, code
    flash(message, "info" if code < 400 else "error")
    return redirect(url_for("desk.index"))


def category_options() -> list[tuple[int, str, int]]:
    """(id, name, depth) of the active note categories, depth-first by position."""
    name = "name_zh" if str(_locale()).startswith("zh") else "name_en"
    rows = list(NoteCategory.select().where(NoteCategory.active)
                .order_by(NoteCategory.position, NoteCategory.id))
    children: dict = {}
    for row in rows:
        children.setdefault(row.parent_id, []).append(row)
    known = {row.id for row in rows}
    out = []

    def walk(parent, depth):
        for row in children.get(parent, []):
            out.append((row.id, getattr(row, name), depth))
            walk(row.id, depth + 1)

    walk(None, 0)
    for parent in children:  # children of an inactive parent still show, at the top
        if parent is not None and parent not in known:
            walk(parent, 0)
    return out


def _locale():
    from flask_babel import get_locale
    return get_locale()


@bp.get("")
@role_required(*ROLES)
def index():
    agent = my_agent()
    calls = []
    if agent is not None:
        calls = list(CallRecord.select().where(CallRecord.agent == agent)
                     .order_by(CallRecord.start_at.desc()).limit(RECENT_CALLS))
    return render_template("desk/index.html", agent=agent, calls=calls,
                           status_names=STATUS_NAMES, break_reasons=BREAK_REASONS,
                           categories=category_options())


@bp.get("/events")
@role_required(*ROLES)
def events():
    """The agent's screen pops as server-sent events."""
    agent = my_agent()
    if agent is None:
        abort(404)
    subscription = pop_hub().subscribe(agent.extension)
    heartbeat = float(current_app.config.get("HOTLINE_SSE_HEARTBEAT", HEARTBEAT_SECONDS))

    def stream():
        try:
            yield "retry: 2000\n: connected\n\n"
            while True:
                payload = subscription.get(timeout=heartbeat)
                yield ": ping\n\n" if payload is None else sse_message(payload)
        finally:
            subscription.close()

    return Response(stream(), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@bp.get("/status")
@role_required(*ROLES)
def status():
    agent = my_agent()
    if agent is None:
        abort(404)
    return _status_fields(agent)


def _status_fields(agent):
    return {"status": agent.state, "reason": agent.break_reason,
            "label": str(STATUS_NAMES.get(agent.state, agent.state))}


@bp.post("/status")
@role_required(*ROLES)
def set_status():
    agent = my_agent()
    if agent is None:
        return reply(_("Your user has no agent extension."), 409)
    wanted = ACTIONS.get(request.form.get("action", ""))
    reason = request.form.get("reason", "") if wanted == "On Break" else ""
    if wanted is None or (wanted == "On Break" and reason not in BREAK_REASONS):
        return reply(_("Choose Ready, Break with a reason, or Log out."), 400)
    try:
        problem = agent_control().set_status(agent, wanted, reason)
    except (cc.InvalidValue, cc.SwitchRefused) as exc:
        log.error("desk: agent %s status %s refused: %s", agent.extension, wanted, exc)
        return reply(_("The switch refused the change."), 502)
    agent = Agent.get_by_id(agent.id)
    message = _("Status: %(status)s", status=STATUS_NAMES[wanted])
    if problem:
        message += " " + _("(saved; the switch takes it when it is reachable)")
    return reply(message, **_status_fields(agent))


def _call_and_customer(call_uuid: str):
    call = CallRecord.get_or_none(CallRecord.call_uuid == call_uuid) if call_uuid else None
    customer = call.customer if call is not None and call.customer_id else None
    return call, customer


@bp.post("/note")
@role_required(*ROLES)
def save_note():
    call_uuid = request.form.get("call_uuid", "").strip()[:64]
    text = request.form.get("text", "").strip()
    category_id = request.form.get("category", "")
    if not text or len(text) > NOTE_MAX:
        return reply(_("Write the note (at most %(n)d characters).", n=NOTE_MAX), 400)
    category = (NoteCategory.get_or_none(NoteCategory.id == int(category_id))
                if category_id.isdigit() else None)
    if category is None:
        return reply(_("Pick a category."), 400)
    if not cc.UUID_RE.match(call_uuid):
        return reply(_("No call to note."), 400)
    call, customer = _call_and_customer(call_uuid)
    customer_id = request.form.get("customer", "")
    if customer is None and customer_id.isdigit():
        customer = Customer.get_or_none(Customer.id == int(customer_id))
    note = CallNote.create(call=call, call_uuid=call_uuid, customer=customer,
                           author=current_user.record.id, category=category, text=text)
    audit.record("note.create", object_type="call", object_id=call_uuid,
                 detail={"note": note.id, "category": category.code})
    return reply(_("Note saved."), note=note.id, linked=call is not None)


@bp.post("/blacklist")
@role_required(*ROLES)
def blacklist():
    number = request.form.get("number", "").strip()
    reason = request.form.get("reason", "").strip()
    if not reason:
        return reply(_("Give a reason."), 400)
    try:
        entry, _replaced = entries.add(number, reason=reason, region=region(),
                                       user=current_user.record.id)
    except NumberError:
        return reply(_("This caller's number cannot be blacklisted."), 400)
    audit.record("blacklist.add", object_type="blacklist", object_id=entry.id,
                 detail={"pattern": entry.pattern, "reason": reason,
                         "call_uuid": request.form.get("call_uuid", "")[:64]})
    note = push_blacklist()  # the switch turns the caller away from now on
    if note:
        return reply(note, entry=entry.id, pushed=False)
    return reply(_("Caller blacklisted."), entry=entry.id, pushed=True)


@bp.post("/customer")
@role_required(*ROLES)
def new_customer():
    """A new customer for an unknown caller (the pop's form, prefilled with the number)."""
    name = request.form.get("name", "").strip()
    phone = request.form.get("phone", "").strip()
    e164 = try_e164(phone, region())
    if not name or len(name) > 128 or e164 is None:
        return reply(_("Give a name and a valid phone number."), 400)
    fields = {k: request.form.get(k, "").strip()[:limit]
              for k, limit in (("address", 255), ("region", 64), ("community", 64))}
    try:
        with database.atomic():
            customer = Customer.create(name=name, updated_at=utcnow(), **fields)
            CustomerPhone.create(customer=customer, e164=e164)
    except peewee.IntegrityError:
        return reply(_("This customer could not be saved."), 409)
    audit.record("customer.create", object_type="customer", object_id=customer.id,
                 detail={"source": "desk"})
    return reply(_("Customer saved."), customer=customer_card(customer, e164))


from webui.desk import calls as call_controls  # noqa: F401  (call controls, recent calls)
