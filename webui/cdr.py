"""Call records posted by FreeSWITCH's mod_xml_cdr (encode=textxml, basic auth).

mod_xml_cdr retries a failed post, so a record is upserted by call UUID: the
same CDR posted twice leaves one row. A CDR that cannot be parsed gets a 400
and is kept by mod_xml_cdr in its error-log directory for a later look.
"""
import datetime
import hmac
import logging
import xml.etree.ElementTree as ET
from urllib.parse import unquote

from flask import Blueprint, Response, current_app, request

from db.models import CallRecord, database
from db.phone import try_e164
from esl_apps.calllog import call_logger

log = logging.getLogger(__name__)
bp = Blueprint("cdr", __name__, url_prefix="/api")

# Machine-to-machine routes: they check their own credentials, not a login.
PUBLIC_ENDPOINTS = {"cdr.receive"}
CALL_DATA_PREFIX = "hotline_"


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


def parse_cdr(xml_text: str, region: str = "CN") -> dict:
    """The CallRecord fields carried by one mod_xml_cdr document."""
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
        "call_data": {k[len(CALL_DATA_PREFIX):]: val for k, val in v.items()
                      if k.startswith(CALL_DATA_PREFIX)},
    }


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
    try:
        fields = parse_cdr(text, config.locale.default_region)
    except CdrError as exc:
        log.warning("rejected a CDR from %s: %s", request.remote_addr, exc)
        return Response(f"bad CDR: {exc}\n", 400)
    if fields["start_at"] is None:
        fields.pop("start_at")
    with database.atomic():
        updated = (CallRecord.update(**fields)
                   .where(CallRecord.call_uuid == fields["call_uuid"]).execute())
        if not updated:
            CallRecord.create(**fields)
    call_logger(__name__, fields["call_uuid"]).info(
        "CDR stored (%s, %s)", fields["hangup_cause"], "updated" if updated else "new")
    return Response("ok\n", 200)
