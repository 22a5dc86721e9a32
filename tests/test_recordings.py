"""Agent-call recordings and the queue columns of a call record, from the CDR
(webui/call_outcomes.py), on both databases. The CDRs are built like
tests/test_call_outcomes.py builds them: the real line-test CDR with the variables
mod_callcenter leaves on the caller's leg."""
import datetime
import wave
from decimal import Decimal

import pytest

from db.models import Agent, CallRecord, Recording, RecordingFailure
from tests.test_call_outcomes import LOCAL_DAY, START, body, cdr, make_app, ok
from tests.test_cdr import post

RATE = 8000


def write_wav(path, seconds: float, rate: int = RATE):
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(b"\x10\x00\xf0\xff" * int(seconds * rate / 2))
    return path


def agent_call(uuid, recording=None, agent="1001@default", **variables):
    """A caller's leg that an agent of queue default answered after 12 s of waiting."""
    cc = {"cc_queue": "default@default", "cc_agent": agent, "cc_cause": "answered",
          "cc_queue_joined_epoch": START + 5, "cc_queue_answered_epoch": START + 17,
          "cc_member_uuid": f"m-{uuid}", "hotline_queue": "default",
          "bridge_epoch": START + 17, "sip_hangup_disposition": "send_bye"}
    if recording is not None:
        cc["cc_record_filename"] = str(recording)
    return cdr(uuid, **{**cc, **variables})


@pytest.fixture
def client(db):
    return make_app().test_client()


@pytest.fixture
def agent(db):
    return Agent.create(extension="1001", display_name="Agent One", sip_password="x" * 16)


# recordings ----------------------------------------------------------------------
def test_a_checked_recording_is_linked_to_its_call_record(client, agent, tmp_path):
    path = write_wav(tmp_path / "2026-11-23" / "r-1.wav", 23.5)
    ok(client, agent_call("r-1", path))
    call = CallRecord.get(call_uuid="r-1")
    rec = Recording.get()
    assert rec.call_id == call.id and rec.call_uuid == "r-1"
    assert rec.path == str(path) and rec.format == "wav"
    assert rec.seconds == Decimal("23.50") and rec.size_bytes == path.stat().st_size
    assert rec.agent_id == agent.id and rec.agent_name == "1001@default"
    assert rec.queue == "default" and rec.deleted_at is None
    assert call.recording_path == str(path) and call.recording_seconds == Decimal("23.50")
    assert call.recording_status == "ok" and call.agent_id == agent.id
    assert list(call.recordings) == [rec]
    assert RecordingFailure.select().count() == 0


def test_a_retried_post_keeps_one_recording(client, tmp_path):
    path = write_wav(tmp_path / "r-2.wav", 3)
    for _ in range(3):
        ok(client, agent_call("r-2", path))
    assert Recording.select().count() == 1
    assert Recording.get().agent is None          # an agent Hotline does not know


@pytest.mark.parametrize("kind", ["missing", "empty", "zero_frames", "not_wav"])
def test_a_failed_recording_is_counted_and_the_call_kept(client, tmp_path, kind, caplog):
    path = tmp_path / "bad.wav"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "zero_frames":
        write_wav(path, 0)
    elif kind == "not_wav":
        path.write_bytes(b"garbage" * 100)
    ok(client, agent_call("r-bad", path))
    call = CallRecord.get(call_uuid="r-bad")
    status = "missing" if kind == "missing" else "empty"
    assert call.recording_status == status and call.recording_path == ""
    assert Recording.select().count() == 0
    assert [(f.day, f.reason, f.count) for f in RecordingFailure.select()] == \
        [(LOCAL_DAY, status, 1)]
    assert "recording of the agent call not kept" in caplog.text


def test_failures_add_up_per_day_and_a_retry_counts_once(client, tmp_path):
    for uuid in ("f-1", "f-2", "f-1"):
        ok(client, agent_call(uuid, tmp_path / f"{uuid}.wav"))
    assert RecordingFailure.get().count == 2


def test_a_call_without_a_record_template_has_no_recording_status(client):
    ok(client, agent_call("r-none"))
    assert CallRecord.get().recording_status == ""
    assert RecordingFailure.select().count() == 0


# the queue columns: wait time, abandoned calls -----------------------------------
def test_an_answered_call_has_its_wait_time(client):
    ok(client, agent_call("q-1"))
    call = CallRecord.get()
    assert call.queue == "default" and call.queue_result == "answered"
    assert call.queue_joined_at == datetime.datetime(2026, 11, 22, 17, 0, 5)
    assert call.wait_seconds == 12 and not call.abandoned and call.queue_cancel_reason == ""


@pytest.mark.parametrize("reason, abandoned", [("BREAK_OUT", True), ("TIMEOUT", False),
                                               ("NO_AGENT_TIMEOUT", False),
                                               ("EXIT_WITH_KEY", False)])
def test_a_call_that_left_the_queue(client, reason, abandoned):
    ok(client, cdr("q-2", cc_queue="default@default", cc_cause="cancel",
                   cc_cancel_reason=reason, cc_queue_joined_epoch=START + 5,
                   cc_queue_canceled_epoch=START + 35, sip_hangup_disposition="recv_bye"))
    call = CallRecord.get()
    assert call.queue_result == "cancel" and call.queue_cancel_reason == reason
    assert call.wait_seconds == 30 and call.abandoned is abandoned
    assert call.agent is None and call.recording_status == ""


def test_a_call_that_never_queued_has_no_queue_columns(client):
    ok(client, cdr("q-3"))
    call = CallRecord.get()
    assert call.queue_joined_at is None and call.queue_result == ""
    assert call.wait_seconds is None and not call.abandoned


def test_a_retried_post_keeps_the_queue_columns(db):
    client = make_app().test_client()
    for _ in range(2):
        assert post(client, body(cdr("q-4", cc_queue="default@default", cc_cause="cancel",
                                     cc_cancel_reason="BREAK_OUT",
                                     cc_queue_joined_epoch=START,
                                     cc_queue_canceled_epoch=START + 7))).status_code == 200
    call = CallRecord.get()
    assert call.abandoned and call.wait_seconds == 7
