"""The desk's call controls (hang up, hold, blind and attended transfer, 3-way,
click-to-dial) and the agent's recent calls with their recordings.

The controls go through the CallControl the composition root injects as
HOTLINE_CALL_CONTROL (webui.desk.call_control); a panel without a switch answers
that the switch is not reachable. An agent (or a supervisor at the desk) controls
only a leg the switch says is theirs; the desk names the call it shows (the pop's
call UUID), and the server finds the agent's own leg of it.

The controls are a partial (desk/_call_controls.html) that htmx swaps in place;
the same routes answer JSON (Accept: application/json) and plain form posts (a
redirect back to the desk). Recordings play only for the agent's own calls, with
the same file checks and audit entry as Admin → Recordings.
"""
import logging
import time
from pathlib import Path

from flask import abort, current_app, render_template, request, send_file
from flask_babel import lazy_gettext as _l

from db.models import Agent, Did, Queue, Recording
from webui import audit
from webui.access import role_required
from webui.admin.recordings import MIME, recording_file
from webui.desk import ROLES, bp, my_agent, region, reply, wants_json
from webui.desk.call_control import (
    TARGET_KINDS,
    UUID_RE,
    CallError,
    parse_target,
)

log = logging.getLogger(__name__)

ERRORS = {
    "no_switch": _l("The switch is not reachable. Try again in a moment."),
    "no_agent": _l("Your user has no agent extension."),
    "bad_leg": _l("No call to control."),
    "no_call": _l("This call has ended."),
    "not_yours": _l("This call is not yours."),
    "bad_state": _l("Not possible while the call is in this state."),
    "no_caller": _l("This call has no caller to transfer."),
    "bad_target": _l("Choose who to transfer to: an agent, a queue, a flow or a number."),
    "unknown_target": _l("There is no such agent, queue or flow."),
    "bad_number": _l("Enter a phone number (digits only)."),
    "no_gateway": _l("No outbound gateway is configured ([freeswitch] outbound_gateway), "
                     "so outside numbers cannot be dialled."),
    "target_gone": _l("The person you consulted has hung up. Go back to the caller."),
    "not_answered": _l("The person you consulted has not answered yet."),
    "refused": _l("The switch refused the command."),
}
STATUS = {"no_switch": 503, "no_agent": 409, "no_call": 410, "not_yours": 403,
          "bad_state": 409, "no_caller": 409, "target_gone": 409, "not_answered": 409,
          "refused": 502, "no_gateway": 409}
DONE = {"hangup": _l("Call ended."), "hold": _l("The caller is on hold."),
        "resume": _l("Back to the caller."), "transfer": _l("Call transferred."),
        "consult": _l("Calling the target; the caller is on hold."),
        "complete": _l("Call transferred."), "cancel": _l("Back to the caller."),
        "conference": _l("Calling the third party into the call."),
        "leave": _l("The third party was dropped."),
        "dial": _l("Your phone rings first; answer it to call the number.")}
WITH_TARGET = ("transfer", "consult", "conference")
ACTIONS = ("hangup", "hold", "resume", "transfer", "consult", "complete", "cancel",
           "conference", "leave")
METHODS = {"leave": "leave_conference"}
FLOW_CACHE_SECONDS = 30.0
DIAL_TEMPLATE = "desk/_dial_result.html"


def call_control():
    """The injected CallControl, or None (a panel with no switch)."""
    return current_app.config.get("HOTLINE_CALL_CONTROL")


def _control():
    control = call_control()
    if control is None:
        raise CallError("no_switch", "no call control in this panel")
    return control


def _extension() -> str:
    agent = my_agent()
    if agent is None:
        raise CallError("no_agent")
    return agent.extension


# -- targets offered on the card --------------------------------------------------
_flow_cache: dict = {"at": 0.0, "names": []}


def flow_names() -> list[str]:
    """Flows a caller can be sent to: those with a DID in the database and those
    loaded from the flows directory (read at most every FLOW_CACHE_SECONDS)."""
    names = {d.flow for d in Did.select(Did.flow).distinct() if d.flow}
    now = time.monotonic()
    if now - _flow_cache["at"] > FLOW_CACHE_SECONDS:
        try:
            from webui.admin.flows import loaded_flow_names
            _flow_cache["names"] = loaded_flow_names()
        except Exception:   # a broken flows directory must not break the desk
            log.exception("desk: flows not read")
            _flow_cache["names"] = []
        _flow_cache["at"] = now
    return sorted(names | set(_flow_cache["names"]))


def queue_names() -> list[str]:
    return [q.name for q in Queue.select(Queue.name).order_by(Queue.name)]


def desk_call_targets() -> dict:
    """What the transfer select offers (a template function for the partial)."""
    me = my_agent()
    agents = [(a.extension, a.display_name) for a in
              Agent.select(Agent.extension, Agent.display_name).order_by(Agent.extension)
              if me is None or a.extension != me.extension]
    return {"agents": agents, "queues": queue_names(), "flows": flow_names()}


def _target(action: str):
    """The target from the form: the typed number when there is one, else the
    select's "kind:value" (which must name an agent, queue or flow that exists)."""
    number = request.form.get("number", "").strip()
    if number:
        return parse_target("number", number, region())
    kind, _sep, value = request.form.get("target", "").partition(":")
    if kind not in TARGET_KINDS or kind == "number":
        raise CallError("bad_target", kind)
    target = parse_target(kind, value, region())
    known = {"agent": lambda v: Agent.get_or_none(Agent.extension == v) is not None,
             "queue": lambda v: v in queue_names() or v == _fallback_queue(),
             "flow": lambda v: v in flow_names()}[kind]
    if not known(target.value):
        raise CallError("unknown_target", target.label)
    return target


def _fallback_queue() -> str:
    config = current_app.config.get("HOTLINE_CONFIG")
    return config.freeswitch.fallback_queue if config is not None else "default"


# -- answering ------------------------------------------------------------------
def _answer(leg=None, *, message="", error: CallError | None = None, status=None,
            template="desk/_call_controls.html"):
    code = STATUS.get(error.code, 400) if error and status is None else (status or 200)
    text = str(ERRORS.get(error.code, ERRORS["refused"])) if error else str(message)
    fields = {}
    if leg is not None:
        fields = {"leg": leg.uuid, "state": leg.state, "other": leg.other,
                  "target": leg.target}
    if error is not None:
        fields["error"] = error.code
    if request.headers.get("HX-Request"):
        # htmx swaps the card, which shows a refusal itself; a 4xx would also make
        # the browser log a failed request. JSON clients get the status code.
        return render_template(template, call=leg, message=text, error=error is not None,
                               fragment=True), 200
    if wants_json():
        return {"ok": error is None, "message": text, **fields}, code
    return reply(text, code, **fields)


def _resolve(control, extension: str, name: str):
    """The agent's own leg for what the card names: the leg itself, else (the caller's
    leg, from a queue call's pop) the leg it is bridged to or mod_callcenter gave it."""
    name = (name or "").strip().lower()
    if not UUID_RE.match(name):
        raise CallError("bad_leg")
    try:
        return control.leg(extension, name)
    except CallError as exc:
        if exc.code != "not_yours":
            raise
    fields = control.read(name) or {}
    for key in ("variable_bridge_to", "variable_cc_agent_uuid"):
        other = fields.get(key, "").lower()
        if UUID_RE.match(other) and other != name:
            try:
                return control.leg(extension, other)
            except CallError:
                continue
    raise CallError("not_yours")


@bp.get("/call")
@role_required(*ROLES)
def call_state():
    """The controls for the call the card shows (?call=UUID): read-only."""
    try:
        control, extension = _control(), _extension()
        leg = _resolve(control, extension, request.args.get("call", ""))
    except CallError as exc:
        if exc.code == "bad_leg":
            return _answer(None)    # no call on the card yet: the idle controls
        # htmx gets the card showing why (200, see _answer); JSON gets the code
        return _answer(None, error=exc)
    return _answer(leg)


@bp.post("/call")
@role_required(*ROLES)
def call_action():
    action = request.form.get("action", "")
    leg_uuid = request.form.get("leg", "").strip().lower()
    if action not in ACTIONS:
        return _answer(None, error=CallError("bad_state", action))
    try:
        control, extension = _control(), _extension()
        args = (_target(action),) if action in WITH_TARGET else ()
        leg = getattr(control, METHODS.get(action, action))(extension, leg_uuid, *args)
    except CallError as exc:
        log.info("desk: %s on leg %s refused: %s", action, leg_uuid, exc)
        current = None
        if exc.code not in ("not_yours", "no_call", "bad_leg", "no_switch", "no_agent"):
            try:
                current = control.leg(extension, leg_uuid)
            except CallError:
                current = None
        return _answer(current, error=exc)
    audit.record(f"call.{action}", object_type="call", object_id=leg.uuid,
                 detail={"caller": leg.caller, "target": leg.target, "state": leg.state})
    return _answer(leg, message=DONE[action])


@bp.post("/dial")
@role_required(*ROLES)
def dial():
    """Click-to-dial: the agent's phone rings, then the number is called."""
    try:
        control, extension = _control(), _extension()
        leg = control.dial(extension, request.form.get("number", ""))
    except CallError as exc:
        log.info("desk: dial refused: %s", exc)
        return _answer(None, error=exc, template=DIAL_TEMPLATE)
    audit.record("call.dial", object_type="call", object_id=leg.uuid,
                 detail={"target": leg.target})
    return _answer(leg, message=DONE["dial"], template=DIAL_TEMPLATE)


# -- recent calls ---------------------------------------------------------------
def desk_recordings(calls) -> dict:
    """{call id: Recording} of the calls' kept recordings (for the recent-calls list)."""
    ids = [c.id for c in calls]
    if not ids:
        return {}
    return {r.call_id: r for r in Recording.select().where(
        Recording.call.in_(ids) & Recording.deleted_at.is_null())}


def _may_play(recording: Recording) -> bool:
    agent = my_agent()
    if agent is None:
        return False
    if recording.agent_id is not None:
        return recording.agent_id == agent.id
    return recording.call.agent_id == agent.id


@bp.get("/recordings/<int:recording_id>/play")
@role_required(*ROLES)
def play_recording(recording_id):
    """The agent's own call's recording; another's is 404, as one that does not exist."""
    recording = Recording.get_or_none(Recording.id == recording_id)
    if recording is None or not _may_play(recording):
        abort(404)
    path = recording_file(recording)
    if path is None:
        abort(404)
    ranges = request.range
    if ranges is None or not ranges.ranges or ranges.ranges[0][0] == 0:
        audit.record("recording.play", object_type="recording", object_id=recording.id,
                     detail={"call_uuid": recording.call_uuid, "file": Path(path).name,
                             "from": "desk"})
    return send_file(path, mimetype=MIME[path.suffix.lower()], conditional=True,
                     download_name=path.name, max_age=0)


bp.add_app_template_global(desk_call_targets, "desk_call_targets")
bp.add_app_template_global(desk_recordings, "desk_recordings")
