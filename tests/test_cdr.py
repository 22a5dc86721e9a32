"""Call records posted by mod_xml_cdr, using a CDR the real switch posted
(tests/fixtures/cdr/linetest.xml, recorded by tests/fixtures/esl/make_recordings.py)."""
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from db.models import CallRecord
from esl_apps.config import Config
from webui import create_app

POSTED = (Path(__file__).parent / "fixtures" / "cdr" / "linetest.xml").read_bytes()
XML = parse_qs(POSTED.decode())["cdr"][0]
CDR_PASSWORD = "cdr-password-for-tests"


@pytest.fixture
def client(db):
    config = Config.model_validate({"freeswitch": {"cdr_password": CDR_PASSWORD}})
    app = create_app({"SECRET_KEY": "test", "HOTLINE_CONFIG": config, "TESTING": True})
    return app.test_client()


def post(client, body=POSTED, password=CDR_PASSWORD, content_type=None):
    headers = {"Authorization": _basic("hotline", password)} if password else {}
    return client.post("/api/cdr?uuid=x", data=body, headers=headers,
                       content_type=content_type or "application/x-www-form-urlencoded")


def _basic(user, password):
    import base64
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_a_posted_cdr_becomes_one_call_record(client):
    assert post(client).status_code == 200
    record = CallRecord.get()
    assert record.caller == "13800138000" and record.caller_e164 == "+8613800138000"
    assert record.callee == "9999" and record.direction == "inbound"
    assert record.call_data["app"] == "linetest"
    assert record.call_data["linetest_digit"] == "5"
    assert record.call_data["ivr"] == {}          # no IVR call data on this call
    assert record.hangup_cause == "NORMAL_CLEARING"
    assert record.start_at <= record.answer_at <= record.end_at
    assert record.talk_seconds == int((record.end_at - record.answer_at).total_seconds())


def test_a_retried_post_does_not_duplicate(client):
    assert post(client).status_code == 200
    assert post(client).status_code == 200
    assert CallRecord.select().count() == 1


def test_a_retried_post_updates_the_record(client):
    assert post(client).status_code == 200
    changed = XML.replace("<hangup_cause>NORMAL_CLEARING</hangup_cause>",
                          "<hangup_cause>USER_BUSY</hangup_cause>")
    assert changed != XML
    assert post(client, changed.encode(), content_type="text/xml").status_code == 200
    record = CallRecord.get()
    assert record.hangup_cause == "USER_BUSY" and record.call_data["linetest_digit"] == "5"


def test_raw_xml_is_accepted_too(client):
    assert post(client, XML.encode(), content_type="text/xml").status_code == 200
    assert CallRecord.select().count() == 1


@pytest.mark.parametrize("password", [None, "wrong"])
def test_credentials_are_required(client, password):
    response = post(client, password=password)
    assert response.status_code == 401
    assert CallRecord.select().count() == 0


@pytest.mark.parametrize("body", [b"cdr=<cdr><variables>", b"cdr=<cdr/>", b"nothing=1",
                                  b"cdr=" + XML.replace("<uuid>", "<nouuid>")
                                  .replace("</uuid>", "</nouuid>").encode()])
def test_a_broken_cdr_is_refused_and_stores_nothing(client, body):
    response = post(client, body)
    assert response.status_code == 400 and b"bad CDR" in response.data
    assert CallRecord.select().count() == 0


def test_a_hostile_caller_name_is_stored_as_text(client):
    hostile = XML.replace("<caller_id_name>SIPp</caller_id_name>",
                          "<caller_id_name>&lt;script&gt;alert(1)&lt;/script&gt;</caller_id_name>")
    assert hostile != XML
    assert post(client, hostile.encode(), content_type="text/xml").status_code == 200
    assert CallRecord.get().caller_name == "<script>alert(1)</script>"
