"""Call records posted by FreeSWITCH's mod_xml_cdr (encode=textxml, basic auth).

mod_xml_cdr retries a failed post, so a record is upserted by call UUID: the
same CDR posted twice leaves one row. A CDR that cannot be parsed gets a 400
and is kept by mod_xml_cdr in its error-log directory for a later look.

What the call left besides its record (IVR counts, a voicemail message, a callback
request; webui.call_outcomes) is written in the same transaction as the record's
INSERT and only when that INSERT made the row, so a retried post adds nothing.

CallRecord.call_data holds the call's hotline_* channel variables without the
prefix ("app", "flow", "path", "linetest_digit", ...), except the IVR's call data
(hotline_data_<key>, hotline_data_<section>__<key>), which is under "ivr" by its
own key: {"ivr": {"account": "...", "bill.amount_due": "..."}, "path": "...", ...}.
"""
import datetime
import hmac
import logging
import xml.etree.ElementTree as ET
from urllib.parse import unquote

from flask import Blueprint, Response, current_app, request

from db.models import CallNote, CallRecord, database, utcnow
from db.phone import try_e164
from esl_apps.calllog import call_logger
from esl_apps.ivr import calldata
from webui.call_outcomes import agent_of, ivr_data, queue_fields, record_outcomes
from webui.blocked import record_blocked

log = logging.getLogger(__name__)
bp = Blueprint("cdr", __name__, url_prefix="/api")

# Machine-to-machine routes: they check their own credentials, not a login.
PUBLIC_ENDPOINTS = {"cdr.receive"}
CALL_DATA_PREFIX = "hotline_"
IVR_DATA_KEY = "ivr"  # call_data["ivr"]: the IVR's call data, {"bill.amount_due": ...}


class CdrError(ValueError):
    pass


def _epoch(variables, name):
    value = variables.get(name, "0")
    try:
        seconds = int(value)
    except ValueError:
        raise CdrError(f"variable {name} is not a number: {value!r}") from None
    if seconds <= 0:
        return None
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).replace(tzinfo=None)


def read_cdr(xml_text: str) -> tuple[dict, dict]:
    """(variables, first caller profile) of one mod_xml_cdr document; variables
    URL-decoded."""
    try:
        root = ET.fromstring(xml_text)
    except ET.ParseError as exc:
        raise CdrError(f"not XML: {exc}") from None
    node = root.find("variables")
    if root.tag != "cdr" or node is None:
        raise CdrError("not a mod_xml_cdr document (no <cdr><variables>)")
    v = {child.tag: unquote(child.text or "") for child in node}
    if not v.get("uuid"):
        raise CdrError("the CDR has no uuid variable")
    # Callflows are listed newest first; the last one holds the number first dialled.
    # Their fields are XML-escaped only (variables are URL-encoded as well).
    profiles = root.findall("callflow/caller_profile")
    first = {c.tag: c.text or "" for c in profiles[-1]} if profiles else {}
    return v, first


def call_data(variables: dict) -> dict:
    data = {name[len(CALL_DATA_PREFIX):]: value for name, value in variables.items()
            if name.startswith(CALL_DATA_PREFIX) and calldata.key_of(name) is None}
    data[IVR_DATA_KEY] = ivr_data(variables)
    return data


def record_fields(v: dict, first: dict, region: str = "CN") -> dict:
    """The CallRecord fields carried by a CDR's variables and first caller profile."""
    caller = first.get("caller_id_number") or v.get("sip_from_user", "")
    answer, end = _epoch(v, "answer_epoch"), _epoch(v, "end_epoch")
    context = v.get("user_context") or v.get("context", "")
    return {
        "call_uuid": v["uuid"],
        "direction": "inbound" if v.get("hotline_did") or context == "public" else (
            "outbound" if v.get("direction") == "outbound" else "internal"),
        "caller": caller[:64],
        "caller_e164": try_e164(caller, region),
        "caller_name": first.get("caller_id_name", "")[:128],
        "callee": first.get("destination_number", "")[:64],
        "did": v.get("hotline_did", "")[:32],
        "flow": v.get("hotline_flow", "")[:64],
        "queue": v.get("cc_queue", "").split("@")[0][:64],
        "start_at": _epoch(v, "start_epoch"),
        "answer_at": answer,
        "end_at": end,
        "hangup_cause": v.get("hangup_cause", "")[:64],
        "talk_seconds": int((end - answer).total_seconds()) if answer and end else None,
        "call_data": call_data(v),
    }


def parse_cdr(xml_text: str, region: str = "CN") -> dict:
    """The CallRecord fields carried by one mod_xml_cdr document."""
    return record_fields(*read_cdr(xml_text), region)


def link_notes(call_uuid: str) -> int:
    """Notes the agent wrote during the call (no call record then) join it now; a
    record without a customer takes the one the latest such note names (a caller
    the agent added or picked while talking)."""
    call = CallRecord.get(CallRecord.call_uuid == call_uuid)
    linked = (CallNote.update(call=call.id)
              .where(CallNote.call_uuid == call_uuid, CallNote.call.is_null()).execute())
    if linked and call.customer_id is None:
        named = (CallNote.select(CallNote.customer)
                 .where(CallNote.call == call.id, CallNote.customer.is_null(False))
                 .order_by(CallNote.id.desc()).scalar())
        if named:
            CallRecord.update(customer=named).where(CallRecord.id == call.id).execute()
    return linked


def store_cdr(variables: dict, fields: dict, config) -> bool:
    """Store one parsed CDR (record_fields) and, when its row is new, what the call
    left (webui.call_outcomes); True when the row is new. The one way in for a
    posted CDR and for one re-imported from the error-log directory (esl_apps.jobs)."""
    fields = dict(fields, **queue_fields(variables))
    cdr_start = fields.pop("start_at")
    start = cdr_start or utcnow()
    with database.atomic():
        fields["agent"] = agent_of(variables)[0]
        # ON CONFLICT DO NOTHING: a concurrent retry waits for this one, then adds nothing
        new = (CallRecord.insert(start_at=start, **fields)
               .on_conflict(action="nothing", conflict_target=[CallRecord.call_uuid])
               .as_rowcount().execute())
        if new:
            record_outcomes(fields, variables, start, config.locale.timezone,
                            config.locale.default_region)
            record_blocked(fields, variables, start)
            link_notes(fields["call_uuid"])
        else:
            if cdr_start is not None:
                fields["start_at"] = cdr_start
            (CallRecord.update(**fields)
             .where(CallRecord.call_uuid == fields["call_uuid"]).execute())
    call_logger(__name__, fields["call_uuid"]).info(
        "CDR stored (%s, %s)", fields["hangup_cause"], "new" if new else "updated")
    return bool(new)


def import_cdr(text: str, config) -> bool:
    """Parse and store one CDR document as the POST does; raises CdrError."""
    variables, first = read_cdr(text)
    return store_cdr(variables, record_fields(variables, first, config.locale.default_region),
                     config)


def _authorised() -> bool:
    config = current_app.config["HOTLINE_CONFIG"]
    expected = config.freeswitch.cdr_password
    auth = request.authorization
    if not expected or auth is None or auth.type != "basic":
        return False
    return (hmac.compare_digest(auth.username or "", "hotline")
            & hmac.compare_digest(auth.password or "", expected))


@bp.post("/cdr")
def receive():
    if not _authorised():
        return Response("authentication required\n", 401,
                        {"WWW-Authenticate": 'Basic realm="hotline-cdr"'})
    if request.mimetype == "text/xml":
        text = request.get_data(as_text=True)
    else:
        text = request.form.get("cdr", "")
    config = current_app.config["HOTLINE_CONFIG"]
    region = config.locale.default_region
    try:
        variables, first = read_cdr(text)
        fields = record_fields(variables, first, region)
    except CdrError as exc:
        log.warning("rejected a CDR from %s: %s", request.remote_addr, exc)
        return Response(f"bad CDR: {exc}\n", 400)
    store_cdr(variables, fields, config)
    return Response("ok\n", 200)
