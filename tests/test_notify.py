"""Notifications: the outbox writes rendered rows in the caller's transaction; the
sender delivers e-mail to a real local SMTP server (aiosmtpd) and SMS to a local
fake HTTP gateway, retries with backoff, then marks them failed (never dropped)."""
import datetime
import email
import email.policy
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from db.models import Notification
from esl_apps.config import Config
from esl_apps.jobs import build_scheduler
from esl_apps.notify import outbox, render, sender
from tests.pgcluster import free_port

ORDER = {"number": "WO-20261122-0007", "title": "暖气不热", "address": "幸福里3栋2单元",
         "deadline": "2026-11-23 17:00", "assignee": "王师傅"}


@pytest.fixture(autouse=True)
def no_process_config():
    outbox.configure(None)
    yield
    outbox.configure(None)


class Mailbox:
    def __init__(self):
        self.messages = []
        self.logins = []
        self.received = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, email.message_from_bytes(
            envelope.content, policy=email.policy.default)))
        self.received.set()
        return "250 OK"


@pytest.fixture
def smtp_server():
    box = Mailbox()

    def authenticator(server, session, envelope, mechanism, auth_data):
        box.logins.append((auth_data.login, auth_data.password))
        # handled=False: aiosmtpd answers 535 itself on a refusal
        return AuthResult(success=auth_data.login == b"hotline"
                          and auth_data.password == b"s3cret", handled=False)

    controller = Controller(box, hostname="127.0.0.1", port=free_port(),
                            authenticator=authenticator, auth_require_tls=False)
    controller.start()
    box.port = controller.port
    yield box
    controller.stop()


class Gateway:
    """A fake SMS gateway: records each JSON POST; answers `status` (a list is used
    up one answer per request, then 200)."""

    def __init__(self):
        self.requests = []
        self.answers = []
        handler = self._handler()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/sms"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _handler(self):
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                gateway.requests.append({"path": self.path, "json": json.loads(body),
                                         "auth": self.headers.get("Authorization"),
                                         "type": self.headers.get("Content-Type")})
                status = gateway.answers.pop(0) if gateway.answers else 200
                reply = b'{"ok": true}' if status == 200 else b'{"error": "busy"}'
                self.send_response(status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        return Handler


@pytest.fixture
def gateway():
    gw = Gateway()
    gw.thread.start()
    yield gw
    gw.server.shutdown()
    gw.server.server_close()


class Clock:
    def __init__(self):
        self.now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None) \
            + datetime.timedelta(seconds=1)

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += datetime.timedelta(seconds=seconds)


def settings(**values):
    return Config.model_validate({"notify": values}).notify


def make_sender(db, clock=None, **values):
    return sender.NotificationSender(db, settings(**values), now=clock or Clock())


# --- templates -------------------------------------------------------------

@pytest.mark.parametrize("event", render.EVENTS)
def test_every_event_renders_in_zh_and_en(event):
    zh = render.render(event, "zh", {**ORDER, "order_id": 7, "name": "李四"})
    en = render.render(event, "en", {**ORDER, "order_id": 7, "name": "Li Si"})
    for text in (zh, en):
        assert "WO-20261122-0007" in text["subject"] and "\n" not in text["subject"]
        assert "WO-20261122-0007" in text["body"] and "WO-20261122-0007" in text["sms"]
        assert "\n" not in text["sms"] and len(text["sms"]) < 140
    assert "工单" in zh["subject"] and "李四" in zh["body"] and "热线" in zh["body"]
    assert "Work order" in en["subject"] + en["body"] and "Dear Li Si" in en["body"]
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in en["subject"].replace("暖气不热", ""))


def test_missing_context_renders_blank_and_the_order_id_stands_in():
    text = render.render("dispatch", "zh", {"order_id": 42})
    assert text["subject"] == "【工单派发】42"
    assert "工单号：42" in text["body"] and "None" not in text["body"]


def test_language_codes():
    assert render.language_of("zh_CN") == "zh" and render.language_of("en-US") == "en"
    assert render.language_of("fr", "en") == "en" and render.language_of(None) == "zh"


def test_templates_cannot_reach_python_internals():
    from jinja2.exceptions import SecurityError
    with pytest.raises(SecurityError):
        render._env.from_string("{{ x.__class__.__mro__ }}").render(x=1)


# --- outbox ----------------------------------------------------------------

def test_enqueue_one_row_per_channel_in_the_recipients_language(db):
    rows = outbox.enqueue("dispatch", order_id=7, context=ORDER, recipients=[
        {"name": "王师傅", "email": "wang@example.com", "phone": "+8613800000001",
         "language": "zh"},
        {"name": "Ann", "email": "ann@example.com", "language": "en"}])
    assert [(n.channel, n.recipient, n.language) for n in rows] == [
        ("email", "wang@example.com", "zh"), ("sms", "+8613800000001", "zh"),
        ("email", "ann@example.com", "en")]
    stored = {n.recipient: n for n in Notification.select()}
    assert all(n.status == "pending" and n.attempts == 0 and n.event == "dispatch"
               and n.order_id == 7 for n in stored.values())
    assert stored["wang@example.com"].subject.startswith("【工单派发】")
    assert stored["+8613800000001"].subject == ""
    assert stored["+8613800000001"].body.startswith("【热线】新工单WO-20261122-0007")
    assert stored["ann@example.com"].subject.startswith("[Work order dispatched]")


def test_enqueue_is_part_of_the_callers_transaction(db):
    class Undo(Exception):
        pass

    with pytest.raises(Undo), db.atomic():
        outbox.enqueue("closed", order_id=1, recipients=[{"email": "a@example.com"}])
        assert Notification.select().count() == 1
        raise Undo
    assert Notification.select().count() == 0


def test_default_recipients_come_from_the_config(db):
    config = Config.model_validate({"locale": {"language": "en"}, "notify": {
        "default_recipients": [
            {"name": "duty", "email": "duty@example.com", "language": "zh"},
            {"name": "boss", "phone": "+8613800000002", "events": ["sla_breach"]},
            {"name": "nolang", "email": "nolang@example.com"}]}})
    outbox.configure(config)
    assert {n.recipient for n in outbox.enqueue("dispatch", order_id=1)} == \
        {"duty@example.com", "nolang@example.com"}
    breach = outbox.enqueue("sla_breach", order_id=1)
    assert {n.recipient for n in breach} == {"duty@example.com", "+8613800000002",
                                             "nolang@example.com"}
    # without a language of their own, recipients get the panel's ([locale] language)
    assert {n.recipient: n.language for n in breach} == {
        "duty@example.com": "zh", "+8613800000002": "en", "nolang@example.com": "en"}
    plain = outbox.enqueue("closed", order_id=1, recipients=[{"email": "x@example.com"}])
    assert plain[0].language == "en"


def test_default_recipients_from_the_flask_app(db):
    from tests.webpanel import make_app
    app = make_app(hotline={"notify": {"default_recipients": [{"email": "app@example.com"}]}})
    with app.app_context():
        rows = outbox.enqueue("sla_warning", order_id=3)
    assert [n.recipient for n in rows] == ["app@example.com"]


def test_nobody_to_tell_writes_nothing_and_says_so(db, caplog):
    assert outbox.enqueue("dispatch", order_id=5) == []
    assert outbox.enqueue("dispatch", order_id=5, recipients=[{"name": "nobody"}]) == []
    assert Notification.select().count() == 0
    assert "no recipients" in caplog.text and "neither e-mail nor phone" in caplog.text


def test_unknown_event_is_refused(db):
    with pytest.raises(ValueError, match="unknown notification event"):
        outbox.enqueue("reopened", order_id=1, recipients=[{"email": "a@example.com"}])


# --- sending ---------------------------------------------------------------

def test_email_through_a_real_smtp_server(db, smtp_server):
    outbox.enqueue("dispatch", order_id=7, context=ORDER, recipients=[
        {"name": "王师傅", "email": "wang@example.com", "language": "zh"}])
    job = make_sender(db, smtp_host="127.0.0.1", smtp_port=smtp_server.port,
                      smtp_user="hotline", smtp_password="s3cret",
                      mail_from="hotline@example.com")
    assert job.run() == {"sent": 1, "retry": 0, "failed": 0}
    assert smtp_server.received.wait(5)
    (rcpts, message), = smtp_server.messages
    assert rcpts == ["wang@example.com"]
    assert message["Subject"] == "【工单派发】WO-20261122-0007 暖气不热"
    assert message["From"] == "hotline@example.com"
    assert message["To"].addresses[0].display_name == "王师傅"
    assert "地址：幸福里3栋2单元" in message.get_content()
    assert smtp_server.logins == [(b"hotline", b"s3cret")]
    sent = Notification.get()
    assert (sent.status, sent.attempts, sent.claimed_by) == ("sent", 1, "")
    assert sent.sent_at is not None
    assert job.run() == {"sent": 0, "retry": 0, "failed": 0}  # sent once only
    assert len(smtp_server.messages) == 1


def test_wrong_smtp_password_is_an_error_to_retry(db, smtp_server):
    outbox.enqueue("closed", order_id=1, recipients=[{"email": "a@example.com"}])
    job = make_sender(db, smtp_host="127.0.0.1", smtp_port=smtp_server.port,
                      smtp_user="hotline", smtp_password="wrong")
    assert job.run()["retry"] == 1
    row = Notification.get()
    assert row.status == "pending" and row.attempts == 1
    assert "SMTPAuthenticationError" in row.last_error
    assert smtp_server.messages == []


def test_sms_through_the_gateway(db, gateway):
    outbox.enqueue("sla_warning", order_id=9, context=ORDER, recipients=[
        {"phone": "+8613800000001", "language": "zh"}])
    job = make_sender(db, sms_url=gateway.url, sms_token="tok")
    assert job.run()["sent"] == 1
    (request,) = gateway.requests
    row = Notification.get()
    assert request["json"] == {"to": "+8613800000001", "text": row.body, "id": row.id}
    assert request["json"]["text"].startswith("【热线】工单WO-20261122-0007即将超时")
    assert request["auth"] == "Bearer tok" and request["type"].startswith("application/json")
    assert row.status == "sent"


def test_retry_with_backoff_then_failed_then_retried_by_hand(db, gateway):
    outbox.enqueue("sla_breach", order_id=2, recipients=[{"phone": "+8613800000003"}])
    clock = Clock()
    job = make_sender(db, clock, sms_url=gateway.url, max_attempts=3, retry_seconds=60)
    gateway.answers = [500, 503, 500]

    assert job.run() == {"sent": 0, "retry": 1, "failed": 0}
    row = Notification.get()
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.next_attempt_at == clock.now + datetime.timedelta(seconds=60)
    assert "500" in row.last_error and "busy" in row.last_error

    clock.advance(59)
    assert job.run() == {"sent": 0, "retry": 0, "failed": 0}   # not due yet
    clock.advance(1)
    assert job.run()["retry"] == 1
    row = Notification.get()
    assert row.attempts == 2 and "503" in row.last_error
    assert row.next_attempt_at == clock.now + datetime.timedelta(seconds=120)  # doubled

    clock.advance(120)
    assert job.run() == {"sent": 0, "retry": 0, "failed": 1}
    row = Notification.get()
    assert (row.status, row.attempts) == ("failed", 3)
    clock.advance(3600)
    assert job.run() == {"sent": 0, "retry": 0, "failed": 0}   # stays failed, visible
    assert len(gateway.requests) == 3

    assert sender.retry(row.id, now=clock)
    assert not sender.retry(row.id, now=clock)   # only a failed one
    assert job.run()["sent"] == 1
    row = Notification.get()
    assert (row.status, row.attempts, len(gateway.requests)) == ("sent", 1, 4)
    assert "500" in row.last_error   # the history of the last failure stays


def test_unreachable_servers_and_missing_settings_fail_visibly(db):
    closed = free_port()
    outbox.enqueue("closed", order_id=1, recipients=[
        {"email": "a@example.com", "phone": "+8613800000004"}])
    job = make_sender(db, smtp_host="127.0.0.1", smtp_port=closed, smtp_timeout=2,
                      sms_url=f"http://127.0.0.1:{closed}/sms", sms_timeout=2,
                      max_attempts=1)
    assert job.run() == {"sent": 0, "retry": 0, "failed": 2}
    errors = {n.channel: n.last_error for n in Notification.select()}
    assert errors["email"].startswith(f"SMTP 127.0.0.1:{closed}:")
    assert errors["sms"].startswith("SMS gateway http://127.0.0.1")

    outbox.enqueue("closed", order_id=2, recipients=[
        {"email": "b@example.com", "phone": "+8613800000005"}])
    job = make_sender(db, max_attempts=1)   # nothing configured
    assert job.run()["failed"] == 2
    failed = Notification.select().where(Notification.order_id == 2)
    assert {n.last_error for n in failed} == {
        "e-mail is not configured ([notify] smtp_host is empty)",
        "SMS is not configured ([notify] sms_url is empty)"}


def test_a_gateway_that_does_not_answer_times_out(db):
    listener = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)  # never accepts
    try:
        outbox.enqueue("closed", order_id=1, recipients=[{"phone": "+8613800000006"}])
        job = make_sender(db, sms_url=f"http://127.0.0.1:{listener.server_port}/",
                          sms_timeout=0.5)
        assert job.run()["retry"] == 1
        assert "timed out" in Notification.get().last_error
    finally:
        listener.server_close()


def test_a_non_http_sms_url_is_refused(db):
    outbox.enqueue("closed", order_id=1, recipients=[{"phone": "+8613800000007"}])
    job = make_sender(db, sms_url="file:///etc/passwd")
    job.run()
    assert "http:// or https://" in Notification.get().last_error


def test_a_bug_in_a_channel_does_not_leave_the_row_claimed(db):
    outbox.enqueue("closed", order_id=1, recipients=[{"email": "a@example.com"}])

    def broken(_settings, _notification):
        raise KeyError("oops")

    job = sender.NotificationSender(db, settings(), now=Clock(), channels={"email": broken})
    assert job.run()["retry"] == 1
    row = Notification.get()
    assert row.status == "pending" and row.claimed_by == "" and "KeyError" in row.last_error


def test_claiming_is_exclusive_and_stale_claims_come_back(db):
    outbox.enqueue("closed", order_id=1, recipients=[{"email": f"u{i}@example.com"}
                                                     for i in range(3)])
    clock = Clock()
    first = make_sender(db, clock)
    second = make_sender(db, clock)
    token, rows = first.claim()
    assert len(rows) == 3
    assert second.claim()[1] == []
    assert {n.status for n in Notification.select()} == {"sending"}
    # the first sender died mid-run: after STALE_AFTER another one takes them over
    clock.advance(sender.STALE_AFTER.total_seconds() + 1)
    token2, again = second.claim()
    assert len(again) == 3 and token2 != token
    # the dead sender's late outcome does not overwrite the new claim
    assert first.deliver(token, rows[0]) in ("retry", "failed")
    assert Notification.get_by_id(rows[0].id).claimed_by == token2


def test_hotline_run_schedules_the_notify_job(tmp_path):
    config = Config.model_validate({"paths": {"data_dir": str(tmp_path)},
                                    "notify": {"send_every_seconds": 7,
                                               "smtp_host": "mail.example.com"}})
    scheduler = build_scheduler(config, None)
    job = scheduler.get_job("notify")
    assert job is not None and job.trigger.interval == datetime.timedelta(seconds=7)
    assert job.func.__self__.settings.smtp_host == "mail.example.com"


def test_config_from_the_environment():
    from esl_apps.config import load_config
    config = load_config(environ={"HOTLINE_NOTIFY_SMTP_HOST": "mx",
                                  "HOTLINE_NOTIFY_SMTP_STARTTLS": "true",
                                  "HOTLINE_NOTIFY_MAX_ATTEMPTS": "3"})
    assert (config.notify.smtp_host, config.notify.smtp_starttls,
            config.notify.max_attempts) == ("mx", True, 3)
