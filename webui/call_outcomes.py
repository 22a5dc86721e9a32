"""What a finished call leaves behind besides its CallRecord, read from the channel
variables the IVR set (they arrive in the CDR's <variables>):

- per-day IVR counts: IvrNodeStat (entered, hung_up) and IvrTransitionStat (taken);
- a VoicemailMessage when the caller left a message;
- a CallbackRequest when the caller asked to be called back.

- a Recording of the agent call (mod_callcenter's record-template), or a counted
  failure;
- a SurveyResult when the caller rated the agent after the agent hung up.

webui.cdr calls `record_outcomes` inside the transaction that inserts the call's
record, and only when that insert made a new row, so a CDR that mod_xml_cdr posts
again never counts twice. The counters are upserts that add to the stored value in
the database (INSERT ... ON CONFLICT DO UPDATE SET n = n + EXCLUDED.n, on SQLite and
PostgreSQL alike), so concurrent posts of different calls cannot lose an increment.

Rules
-----
Day: the call's start time in the configured timezone (locale.timezone).

Path: `hotline_path` is `flow:node` items separated by spaces, in order. Each item
counts once in `entered` (a node passed three times counts three), each consecutive
pair once in `taken`. A pair inside one flow is stored as (flow, from, to); a pair
that crosses flows (heating_main:agent -> to_agent:hold) is stored under the *from*
node's flow with the qualified target as to_node ("to_agent:hold"), so every edge
leaving a node is found under that node's flow and a to_node with ':' always means
another flow. An item that is not `flow:node` with names of at most 64 characters
is skipped with a warning, and no pair is counted across it.

Hung up: the path's last node gets hung_up += 1 when the *caller* ended the call
and the call was never connected to anyone:
  - the caller ended it: sip_hangup_disposition is recv_bye (BYE from the caller)
    or recv_cancel (CANCEL before answer); without a SIP disposition, only
    hangup_cause ORIGINATOR_CANCEL counts. send_bye/send_refuse (the switch hung
    up, e.g. a hangup node or after voicemail) never count;
  - never connected: bridge_epoch is 0 and mod_callcenter's cc_cause is not
    "answered". A caller who hangs up after talking to an agent, or to a number a
    transfer node reached, did not give up in the IVR.
  A caller who hangs up while waiting in a queue node is counted at that node:
  that is where they gave up (the queue's abandoned calls).

Voicemail: `hotline_voicemail_file` set and the file there not empty. Its length
comes from the WAV header (seconds = round(frames / rate)); a header of zero
frames (the caller hung up before speaking) or a missing or empty file leaves no
message and logs a warning. A non-empty file whose header cannot be read is kept
with seconds 0 (and a warning): a person can still try to play it, and losing a
caller's message is worse than an unknown length.

Queue (`queue_fields`, CallRecord columns, on the caller's leg that mod_callcenter
served): queue_joined_at from cc_queue_joined_epoch; queue_result is cc_cause
("answered" or "cancel"); queue_cancel_reason is cc_cancel_reason; wait_seconds
runs from joining to cc_queue_answered_epoch (answered) or cc_queue_canceled_epoch
(cancel). Abandoned: cc_cause "cancel" with reason BREAK_OUT, i.e. the caller hung
up while waiting (mod_callcenter sets BREAK_OUT when the member leaves without an
agent and without a timeout or exit key). Timeouts and the callback key are not
abandoned calls: Hotline sent those callers somewhere else. The agent is cc_agent
(EXTENSION@default), found by extension among Hotline's agents (None if unknown).

Recording: `cc_record_filename` set (mod_callcenter sets it when an agent answers
a queue with a record-template, just before it starts record_session on the
caller's leg; the file is closed when that leg hangs up, before the CDR is made).
The file must exist and its WAV header give more than 0 seconds; then a Recording
row links it to the CallRecord (and CallRecord.recording_path/_seconds are set,
recording_status "ok"). Otherwise the call's recording_status is "missing" or
"empty", RecordingFailure counts it for the day (an upsert adding 1) and a warning
is logged; the call itself went on regardless (record_session failing does not
end a call unless RECORD_HANGUP_ON_ERROR is set, which Hotline never sets).

Survey: `hotline_data_score` (the survey flow's menu stores `score`) holding a
digit 1-5 on a call that an agent answered (cc_cause "answered"). The survey flow
runs only when the agent hung up first (the queue node goes on after the bridge);
a caller who hangs up first never reaches it and leaves no score. Stored once per
call and question: inserted with ON CONFLICT DO NOTHING on (call_uuid, question),
on top of the new-row rule, so a CDR re-imported from the error-log directory
after a post that did get through adds nothing either.

Callback: `hotline_callback_queue` set. The number is `hotline_callback_number`
(the caller ID when that is empty, as the callback verb's default), normalised to
E.164 in locale.default_region. A number that does not normalise leaves no request
(status 'failed' is kept for an agent's failed attempts) and logs a warning with
the raw number; the CallRecord still has it in call_data.
"""
import datetime
import re
import wave
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from peewee import EXCLUDED, chunked

from db.models import (Agent, CallbackRequest, CallRecord, IvrNodeStat, IvrTransitionStat,
                       Recording, RecordingFailure, SurveyResult, VoicemailMessage)
from db.phone import PhoneNumberError, to_e164
from esl_apps.calllog import call_logger
from esl_apps.ivr import calldata

PATH_ITEM = re.compile(r"^([A-Za-z_][A-Za-z0-9_]{0,63}):([A-Za-z_][A-Za-z0-9_]{0,63})$")
NAME_MAX = 64            # IvrNodeStat/IvrTransitionStat name columns
FILE_PATH_MAX = 512      # VoicemailMessage.file_path
CALLER_DISPOSITIONS = {"recv_bye", "recv_cancel"}
ROWS_PER_STATEMENT = 100
SURVEY_VARIABLE = calldata.var_name("score")   # hotline_data_score
SURVEY_QUESTION = "satisfaction"
SURVEY_SCORES = range(1, 6)
ABANDONED_REASON = "BREAK_OUT"


def ivr_data(variables: dict) -> dict:
    """The IVR's call data: {"account": ..., "bill.amount_due": ...}."""
    data = {}
    for name, value in variables.items():
        key = calldata.key_of(name)
        if key:
            data[key] = value
    return data


def call_day(start_utc: datetime.datetime, timezone: str, log=None) -> datetime.date:
    """The local date of a naive-UTC start time; UTC if the zone is unknown."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        if log is not None:
            log.warning("unknown timezone %r (locale.timezone); counting the day in UTC",
                        timezone)
        zone = datetime.UTC
    return start_utc.replace(tzinfo=datetime.UTC).astimezone(zone).date()


def parse_path(text: str, log=None) -> list[tuple[str, str] | None]:
    """`hotline_path` as (flow, node) items; None where an item is malformed."""
    items = []
    for item in (text or "").split():
        match = PATH_ITEM.match(item)
        if match is None and log is not None:
            log.warning("hotline_path item %r is not flow:node; not counted", item)
        items.append(match.groups() if match else None)
    return items


def caller_hung_up_in_ivr(variables: dict) -> bool:
    """True when the caller ended the call before it was connected (see the rules)."""
    disposition = variables.get("sip_hangup_disposition", "")
    if disposition:
        by_caller = disposition in CALLER_DISPOSITIONS
    else:
        by_caller = variables.get("hangup_cause") == "ORIGINATOR_CANCEL"
    bridged = (variables.get("bridge_epoch", "0") not in ("", "0")
               or variables.get("cc_cause") == "answered")
    return by_caller and not bridged


def count_path(items, hung_up: bool, log=None) -> tuple[dict, Counter]:
    """({(flow, node): [entered, hung_up]}, Counter{(flow, from, to): taken}) for one
    call's path items (None items break the chain)."""
    nodes, edges = {}, Counter()
    previous = None
    for item in items:
        if item is not None:
            nodes.setdefault(item, [0, 0])[0] += 1
            if previous is not None:
                to = item[1] if item[0] == previous[0] else f"{item[0]}:{item[1]}"
                if len(to) <= NAME_MAX:
                    edges[(previous[0], previous[1], to)] += 1
                elif log is not None:
                    log.warning("transition %s:%s -> %s: target name too long; not counted",
                                previous[0], previous[1], to)
        previous = item
    if hung_up and items and items[-1] is not None:
        nodes[items[-1]][1] += 1
    return nodes, edges


def add_ivr_counts(day: datetime.date, items, hung_up: bool, log=None) -> None:
    """Add one call's path to the day's counters. Rows go in sorted order so two
    transactions on PostgreSQL lock the same counters in the same order."""
    nodes, edges = count_path(items, hung_up, log)
    node_rows = [{"day": day, "flow": flow, "node": node, "entered": entered,
                  "hung_up": hung} for (flow, node), (entered, hung) in sorted(nodes.items())]
    for rows in chunked(node_rows, ROWS_PER_STATEMENT):
        (IvrNodeStat.insert_many(rows)
         .on_conflict(conflict_target=[IvrNodeStat.day, IvrNodeStat.flow, IvrNodeStat.node],
                      update={IvrNodeStat.entered: IvrNodeStat.entered + EXCLUDED.entered,
                              IvrNodeStat.hung_up: IvrNodeStat.hung_up + EXCLUDED.hung_up})
         .as_rowcount().execute())
    edge_rows = [{"day": day, "flow": flow, "from_node": src, "to_node": dst, "taken": n}
                 for (flow, src, dst), n in sorted(edges.items())]
    T = IvrTransitionStat
    for rows in chunked(edge_rows, ROWS_PER_STATEMENT):
        (T.insert_many(rows)
         .on_conflict(conflict_target=[T.day, T.flow, T.from_node, T.to_node],
                      update={T.taken: T.taken + EXCLUDED.taken})
         .as_rowcount().execute())


def wav_seconds(path: Path) -> float | None:
    """The length a WAV header gives, or None when it cannot be read."""
    try:
        with wave.open(str(path), "rb") as wav:
            frames, rate = wav.getnframes(), wav.getframerate()
    except (OSError, EOFError, wave.Error):
        return None
    return frames / rate if rate else 0.0


def add_voicemail(fields: dict, variables: dict, data: dict, log) -> VoicemailMessage | None:
    name = variables.get("hotline_voicemail_file", "")
    if not name:
        return None
    box = variables.get("hotline_voicemail_box", "")[:NAME_MAX] or "default"
    path = Path(name)
    if len(name) > FILE_PATH_MAX:
        log.warning("voicemail file path is longer than %d characters; no message: %s",
                    FILE_PATH_MAX, name)
        return None
    try:
        size = path.stat().st_size if path.is_file() else None
    except OSError:
        size = None
    if not size:
        log.warning("voicemail in box %s: %s %s; no message", box, name,
                    "is missing" if size is None else "is empty")
        return None
    duration = wav_seconds(path)
    if duration is None:
        log.warning("voicemail in box %s: cannot read the WAV header of %s; "
                    "kept with an unknown length", box, name)
        duration = 0.0
    elif duration <= 0:
        log.warning("voicemail in box %s: %s holds no sound; no message", box, name)
        return None
    message = VoicemailMessage.create(
        call_uuid=fields["call_uuid"], box=box, caller=fields["caller"], did=fields["did"],
        file_path=name, seconds=round(duration), call_data=data)
    log.info("voicemail in box %s, %s s: %s", box, message.seconds, name)
    return message


def add_callback(fields: dict, variables: dict, data: dict, start: datetime.datetime,
                 region: str, log) -> CallbackRequest | None:
    queue = variables.get("hotline_callback_queue", "")
    if not queue:
        return None
    raw = variables.get("hotline_callback_number", "").strip() or fields["caller"]
    try:
        number = to_e164(raw, region)
    except PhoneNumberError as exc:
        log.warning("callback for queue %s not stored: %s", queue, exc)
        return None
    # a caller who left a queue for a callback keeps the place they had in it
    joined = _epoch_of(variables, "cc_queue_joined_epoch")
    request = CallbackRequest.create(
        call_uuid=fields["call_uuid"], queue=queue[:NAME_MAX], number=number,
        caller=fields["caller"], call_data=data,
        position_time=_utc(joined) if joined else start)
    log.info("callback request for queue %s to %s", queue, number)
    return request


def _epoch_of(variables: dict, name: str) -> int | None:
    try:
        value = int(variables.get(name) or 0)
    except ValueError:
        return None
    return value if value > 0 else None


def _utc(seconds: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).replace(tzinfo=None)


def queue_fields(variables: dict) -> dict:
    """The CallRecord columns mod_callcenter's variables give (see the rules); empty
    for a call that never joined a queue."""
    joined = _epoch_of(variables, "cc_queue_joined_epoch")
    if joined is None:
        return {}
    result = variables.get("cc_cause", "")[:16]
    reason = variables.get("cc_cancel_reason", "")[:32] if result == "cancel" else ""
    left = _epoch_of(variables, "cc_queue_answered_epoch" if result == "answered"
                     else "cc_queue_canceled_epoch")
    return {"queue_joined_at": _utc(joined), "queue_result": result,
            "queue_cancel_reason": reason,
            "abandoned": result == "cancel" and reason == ABANDONED_REASON,
            "wait_seconds": max(0, left - joined) if left else None}


def agent_of(variables: dict) -> tuple[Agent | None, str]:
    """(Hotline's agent, the switch's name) for cc_agent EXTENSION@DOMAIN."""
    name = variables.get("cc_agent", "")[:NAME_MAX]
    extension = name.split("@", 1)[0]
    if not extension:
        return None, name
    return Agent.get_or_none(Agent.extension == extension), name


def queue_of(variables: dict) -> str:
    return (variables.get("cc_queue", "").split("@", 1)[0]
            or variables.get("hotline_queue", ""))[:NAME_MAX]


def count_recording_failure(day: datetime.date, reason: str) -> None:
    (RecordingFailure.insert(day=day, reason=reason, count=1)
     .on_conflict(conflict_target=[RecordingFailure.day, RecordingFailure.reason],
                  update={RecordingFailure.count: RecordingFailure.count + EXCLUDED.count})
     .as_rowcount().execute())


def add_recording(call: CallRecord, variables: dict, day: datetime.date,
                  log) -> Recording | None:
    name = variables.get("cc_record_filename", "")
    if not name:
        return None
    path = Path(name)
    try:
        size = path.stat().st_size if path.is_file() else None
    except OSError:
        size = None
    seconds = wav_seconds(path) if size else None
    if size is None or len(name) > FILE_PATH_MAX:
        status = "missing"
    elif not seconds or seconds <= 0:
        status = "empty"
    else:
        status = "ok"
    if status != "ok":
        log.warning("recording of the agent call not kept (%s): %s", status, name)
        count_recording_failure(day, status)
        CallRecord.update(recording_status=status).where(CallRecord.id == call.id).execute()
        return None
    agent, agent_name = agent_of(variables)
    seconds = round(seconds, 2)
    recording = Recording.create(
        call=call, call_uuid=call.call_uuid, path=name, seconds=seconds,
        size_bytes=size, agent=agent, agent_name=agent_name, queue=queue_of(variables))
    (CallRecord.update(recording_path=name, recording_seconds=seconds, recording_status="ok")
     .where(CallRecord.id == call.id).execute())
    log.info("recording %s s: %s", seconds, name)
    return recording


def add_survey(fields: dict, variables: dict, log) -> SurveyResult | None:
    raw = variables.get(SURVEY_VARIABLE, "").strip()
    if not raw:
        return None
    if variables.get("cc_cause") != "answered":
        log.warning("survey score %r on a call no agent answered; not counted", raw)
        return None
    if not raw.isdigit() or int(raw) not in SURVEY_SCORES:
        log.warning("survey score %r is not 1-5; not counted", raw)
        return None
    agent, agent_name = agent_of(variables)
    queue = queue_of(variables)
    added = (SurveyResult.insert(call_uuid=fields["call_uuid"], question=SURVEY_QUESTION,
                                 score=int(raw), agent=agent, queue=queue)
             .on_conflict(action="nothing",
                          conflict_target=[SurveyResult.call_uuid, SurveyResult.question])
             .as_rowcount().execute())
    if not added:
        log.info("survey score for this call already stored; not counted again")
        return None
    log.info("survey score %s for agent %s, queue %s", raw, agent_name or "-", queue or "-")
    return SurveyResult.get(call_uuid=fields["call_uuid"], question=SURVEY_QUESTION)


def record_outcomes(fields: dict, variables: dict, start: datetime.datetime,
                    timezone: str, region: str) -> None:
    """Everything one new call adds; the caller holds the transaction."""
    log = call_logger(__name__, fields["call_uuid"])
    data = ivr_data(variables)
    day = call_day(start, timezone, log)
    items = parse_path(variables.get("hotline_path", ""), log)
    if items:
        add_ivr_counts(day, items, caller_hung_up_in_ivr(variables), log)
    add_voicemail(fields, variables, data, log)
    add_callback(fields, variables, data, start, region, log)
    if variables.get("cc_record_filename"):
        call = CallRecord.get(CallRecord.call_uuid == fields["call_uuid"])
        add_recording(call, variables, day, log)
    add_survey(fields, variables, log)
