"""What a posted CDR adds besides its CallRecord (webui/call_outcomes.py): per-day
IVR node and transition counts, voicemail messages, callback requests.

The CDRs are the real one the switch posted for the line-test call
(tests/fixtures/cdr/linetest.xml), with the variables an IVR call leaves set in its
<variables> the way mod_xml_cdr writes them (URL-encoded)."""
import datetime
import logging
import re
import threading
import wave
from urllib.parse import quote, urlencode

import pytest

from db.models import (CallbackRequest, CallRecord, IvrNodeStat, IvrTransitionStat,
                       VoicemailMessage)
from esl_apps.config import Config
from tests.test_cdr import CDR_PASSWORD, XML, post
from webui import call_outcomes, create_app

TEMPLATE_UUID = re.search(r"<uuid>([^<]+)</uuid>", XML).group(1)
# 2026-11-22 17:00:00 UTC: already the 23rd in Asia/Shanghai
START = 1795366800
LOCAL_DAY = datetime.date(2026, 11, 23)

H = "heating_main"
BILL_PATH = (f" {H}:notice {H}:hours {H}:welcome {H}:main_menu {H}:ask_account "
             f"{H}:find_bill {H}:no_account {H}:ask_account {H}:find_bill {H}:bill_intro "
             f"{H}:bill_amount {H}:bill_due_intro {H}:bill_due_date {H}:after_bill "
             f"{H}:agent to_agent:hold to_agent:queue")
BILL_DATA = {"hotline_data_caller": "13800138000", "hotline_data_did": "96069",
             "hotline_data_account": "20481357", "hotline_data_bill__amount_due": "1234.50",
             "hotline_data_bill__due_date": "2026-12-31"}
IVR_DATA = {"caller": "13800138000", "did": "96069", "account": "20481357",
            "bill.amount_due": "1234.50", "bill.due_date": "2026-12-31"}


def cdr(uuid: str, start: int = START, **variables) -> str:
    """The recorded CDR as another call: its uuid, start time, and each variable
    set (None: removed) inside <variables>, URL-encoded as mod_xml_cdr does."""
    text = XML.replace(TEMPLATE_UUID, uuid)
    head, rest = text.split("<variables>\n", 1)
    block, tail = rest.split("  </variables>", 1)
    times = {"start_epoch": start, "profile_start_epoch": start, "answer_epoch": start,
             "end_epoch": start + 40, "hotline_app": "ivr", "hotline_linetest_digit": None}
    for name, value in {**times, **variables}.items():
        element = re.compile(rf"    <{re.escape(name)}>[^<]*</{re.escape(name)}>\n")
        line = "" if value is None else f"    <{name}>{quote(str(value), safe='')}</{name}>\n"
        block, found = element.subn(lambda _m, line=line: line, block)
        if not found:
            block += line
    return head + "<variables>\n" + block + "  </variables>" + tail


def ivr_call(uuid, path=BILL_PATH, disposition="recv_bye", **variables):
    return cdr(uuid, hotline_did="96069", hotline_flow=H, hotline_path=path,
               sip_hangup_disposition=disposition, **BILL_DATA, **variables)


def body(xml: str) -> bytes:
    return urlencode({"cdr": xml}).encode()


def make_app(**locale):
    config = Config.model_validate({"freeswitch": {"cdr_password": CDR_PASSWORD},
                                    "locale": locale})
    return create_app({"SECRET_KEY": "test", "HOTLINE_CONFIG": config, "TESTING": True})


@pytest.fixture
def client(db):
    return make_app().test_client()


def ok(client, xml):
    response = post(client, body(xml))
    assert response.status_code == 200, response.data
    return response


def nodes():
    return {(s.day, s.flow, s.node): (s.entered, s.hung_up) for s in IvrNodeStat.select()}


def edges():
    return {(s.day, s.flow, s.from_node, s.to_node): s.taken
            for s in IvrTransitionStat.select()}


# the template really is what the tests mean it to be ------------------------------
def test_the_template_carries_the_variables_url_encoded():
    xml = ivr_call("u-1")
    assert f"<hotline_path>{quote(BILL_PATH, safe='')}</hotline_path>" in xml
    assert "<hotline_linetest_digit>" not in xml and TEMPLATE_UUID not in xml
    assert "<uuid>u-1</uuid>" in xml and f"<start_epoch>{START}</start_epoch>" in xml
    assert xml.count("<sip_hangup_disposition>") == 1


# path counts ---------------------------------------------------------------------
def test_a_path_counts_each_node_and_transition_on_the_local_day(client):
    ok(client, ivr_call("c-1"))
    counted = nodes()
    d = LOCAL_DAY
    assert counted[(d, H, "ask_account")] == (2, 0)          # passed twice
    assert counted[(d, H, "find_bill")] == (2, 0)
    assert counted[(d, H, "notice")] == (1, 0)
    assert counted[(d, "to_agent", "queue")] == (1, 1)       # the caller gave up there
    assert sum(entered for entered, _ in counted.values()) == len(BILL_PATH.split())
    assert sum(hung for _, hung in counted.values()) == 1
    taken = edges()
    assert taken[(d, H, "ask_account", "find_bill")] == 2
    assert taken[(d, H, "find_bill", "no_account")] == 1
    assert taken[(d, H, "no_account", "ask_account")] == 1
    assert taken[(d, H, "agent", "to_agent:hold")] == 1      # across flows: from's flow
    assert taken[(d, "to_agent", "hold", "queue")] == 1
    assert sum(taken.values()) == len(BILL_PATH.split()) - 1


def test_the_day_is_the_configured_timezones(db):
    post(make_app(timezone="UTC").test_client(), body(ivr_call("c-utc")))
    assert {day for day, _, _ in nodes()} == {LOCAL_DAY - datetime.timedelta(days=1)}


def test_a_retried_post_counts_once(client):
    for _ in range(3):
        ok(client, ivr_call("c-retry"))
    assert CallRecord.select().count() == 1
    assert nodes()[(LOCAL_DAY, H, "ask_account")] == (2, 0)
    assert nodes()[(LOCAL_DAY, "to_agent", "queue")] == (1, 1)
    assert edges()[(LOCAL_DAY, H, "ask_account", "find_bill")] == 2


def test_different_calls_add_up(client):
    ok(client, ivr_call("c-a"))
    ok(client, ivr_call("c-b", path=f"{H}:notice {H}:hours {H}:closed", disposition="send_bye"))
    counted = nodes()
    assert counted[(LOCAL_DAY, H, "notice")] == (2, 0)
    assert counted[(LOCAL_DAY, H, "closed")] == (1, 0)        # the switch hung up
    assert edges()[(LOCAL_DAY, H, "notice", "hours")] == 2
    assert edges()[(LOCAL_DAY, H, "hours", "closed")] == 1


@pytest.mark.parametrize("same_call", [False, True], ids=["different", "retries"])
def test_concurrent_posts(db, same_call):
    """Different calls lose no increment; one call posted at once by several
    retries still counts once."""
    app, posts = make_app(), 8
    barrier, statuses = threading.Barrier(posts), []

    def send(n):
        xml = ivr_call("c-par" if same_call else f"c-par-{n}")
        client = app.test_client()
        barrier.wait()
        statuses.append(post(client, body(xml)).status_code)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(posts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert statuses == [200] * posts
    calls = 1 if same_call else posts
    assert CallRecord.select().count() == calls
    assert nodes()[(LOCAL_DAY, H, "ask_account")] == (2 * calls, 0)
    assert nodes()[(LOCAL_DAY, "to_agent", "queue")] == (calls, calls)
    assert edges()[(LOCAL_DAY, H, "agent", "to_agent:hold")] == calls


def test_a_call_without_a_path_counts_nothing(client):
    response = post(client)            # the line-test call: no IVR
    assert response.status_code == 200
    assert not nodes() and not edges()


def test_a_bridged_call_is_no_hangup_in_the_ivr(client):
    ok(client, ivr_call("c-agent", bridge_epoch=START + 20, cc_cause="answered"))
    assert nodes()[(LOCAL_DAY, "to_agent", "queue")] == (1, 0)


@pytest.mark.parametrize("variables, hung_up", [
    ({"sip_hangup_disposition": "recv_bye"}, True),
    ({"sip_hangup_disposition": "recv_cancel"}, True),
    ({"sip_hangup_disposition": "send_bye"}, False),        # a hangup node, after voicemail
    ({"sip_hangup_disposition": "send_refuse"}, False),
    ({"sip_hangup_disposition": "recv_bye", "bridge_epoch": "1795366820"}, False),
    ({"sip_hangup_disposition": "recv_bye", "bridge_epoch": "0", "cc_cause": "answered"},
     False),
    ({"sip_hangup_disposition": "recv_bye", "bridge_epoch": "0", "cc_cause": "cancel"}, True),
    ({"hangup_cause": "ORIGINATOR_CANCEL"}, True),           # not SIP: the cause decides
    ({"hangup_cause": "NORMAL_CLEARING"}, False),
])
def test_who_hung_up(variables, hung_up):
    assert call_outcomes.caller_hung_up_in_ivr(variables) is hung_up


def test_a_malformed_path_item_is_skipped_and_breaks_the_chain(client, caplog):
    path = f" {H}:notice bogus {H}:hours {H}:closed:x {'n' * 70}:a {H}:welcome"
    with caplog.at_level(logging.WARNING, logger="webui.call_outcomes"):
        ok(client, ivr_call("c-bad", path=path))
    assert set(nodes()) == {(LOCAL_DAY, H, "notice"), (LOCAL_DAY, H, "hours"),
                            (LOCAL_DAY, H, "welcome")}
    assert edges() == {}
    assert "[c-bad] hotline_path item 'bogus' is not flow:node" in caplog.text


def test_count_path_by_itself():
    items = call_outcomes.parse_path(" a:x a:y a:x b:z a:x")
    nodes_, edges_ = call_outcomes.count_path(items, hung_up=True)
    assert nodes_ == {("a", "x"): [3, 1], ("a", "y"): [1, 0], ("b", "z"): [1, 0]}
    assert edges_ == {("a", "x", "y"): 1, ("a", "y", "x"): 1, ("a", "x", "b:z"): 1,
                      ("b", "z", "a:x"): 1}


# call data -----------------------------------------------------------------------
def test_call_data_keeps_the_ivr_data_by_its_own_keys(client):
    ok(client, ivr_call("c-data"))
    data = CallRecord.get().call_data
    assert data["ivr"] == IVR_DATA
    assert data["path"] == BILL_PATH and data["flow"] == H and data["did"] == "96069"
    assert not any(key.startswith("data_") for key in data)


# voicemail -----------------------------------------------------------------------
def write_wav(path, seconds, rate=8000):
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(b"\x10\x00" * int(seconds * rate))
    return path


def voicemail_call(uuid, path):
    return ivr_call(uuid, path=f"{H}:notice {H}:hours {H}:closed {H}:closed_menu "
                               f"{H}:leave_message", disposition="recv_bye",
                    hotline_voicemail_box="repairs", hotline_voicemail_file=str(path))


def test_a_message_left_becomes_a_voicemail(client, tmp_path):
    wav = write_wav(tmp_path / "voicemail/repairs/20261123-010000-c-vm.wav", 2.6)
    ok(client, voicemail_call("c-vm", wav))
    ok(client, voicemail_call("c-vm", wav))                   # retried: still one
    message = VoicemailMessage.get()
    assert VoicemailMessage.select().count() == 1
    assert (message.call_uuid, message.box, message.caller, message.did) == (
        "c-vm", "repairs", "13800138000", "96069")
    assert message.file_path == str(wav) and message.seconds == 3
    assert message.status == "new" and message.call_data == IVR_DATA
    assert nodes()[(LOCAL_DAY, H, "leave_message")] == (1, 1)


@pytest.mark.parametrize("content", [None, b"", "header only"])
def test_no_voicemail_without_sound(client, tmp_path, caplog, content):
    wav = tmp_path / "vm.wav"
    if content == "header only":
        write_wav(wav, 0)
    elif content is not None:
        wav.write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="webui.call_outcomes"):
        ok(client, voicemail_call("c-novm", wav))
    assert VoicemailMessage.select().count() == 0
    assert CallRecord.select().count() == 1
    assert f"[c-novm] voicemail in box repairs: {wav}" in caplog.text


def test_an_unreadable_recording_is_kept_with_no_length(client, tmp_path, caplog):
    wav = tmp_path / "vm.wav"
    wav.write_bytes(b"RIFF\x00\x00not a wave at all" * 20)
    with caplog.at_level(logging.WARNING, logger="webui.call_outcomes"):
        ok(client, voicemail_call("c-odd", wav))
    assert VoicemailMessage.get().seconds == 0
    assert "cannot read the WAV header" in caplog.text


# callback ------------------------------------------------------------------------
def callback_call(uuid, number, **variables):
    return ivr_call(uuid, path=f"{H}:closed_menu {H}:call_back {H}:goodbye {H}:bye",
                    disposition="send_bye", hotline_callback_queue="default",
                    hotline_callback_number=number, **variables)


def test_a_callback_from_the_queue_keeps_the_callers_place(client):
    joined = int(datetime.datetime(2026, 11, 22, 17, 0, 40,
                                   tzinfo=datetime.timezone.utc).timestamp())
    ok(client, callback_call("c-q", "13912345678", cc_queue_joined_epoch=str(joined),
                             cc_cause="cancel", cc_cancel_reason="EXIT_WITH_KEY"))
    request = CallbackRequest.get()
    assert request.position_time == datetime.datetime(2026, 11, 22, 17, 0, 40)


@pytest.mark.parametrize("number, e164", [
    ("13912345678", "+8613912345678"),
    ("010-65529988", "+861065529988"),                       # national, region CN
    ("+86 139 1234 5678", "+8613912345678"),
    ("", "+8613800138000"),                                  # empty: the caller ID
])
def test_a_callback_request_has_an_e164_number(client, number, e164):
    ok(client, callback_call("c-cb", number))
    ok(client, callback_call("c-cb", number))                 # retried: still one
    request = CallbackRequest.get()
    assert CallbackRequest.select().count() == 1
    assert (request.call_uuid, request.queue, request.number, request.caller) == (
        "c-cb", "default", e164, "13800138000")
    assert request.status == "pending" and request.attempts == 0
    assert request.call_data == IVR_DATA
    assert request.position_time == datetime.datetime(2026, 11, 22, 17, 0, 0)


def test_the_callback_region_is_the_configured_one(db):
    post(make_app(default_region="US").test_client(),
         body(callback_call("c-us", "(201) 555-0123")))
    assert CallbackRequest.get().number == "+12015550123"


def test_a_number_that_does_not_normalise_is_logged_not_stored(client, caplog):
    with caplog.at_level(logging.WARNING, logger="webui.call_outcomes"):
        ok(client, callback_call("c-nonum", "12345"))
    assert CallbackRequest.select().count() == 0 and CallRecord.select().count() == 1
    assert "[c-nonum] callback for queue default not stored: '12345'" in caplog.text
