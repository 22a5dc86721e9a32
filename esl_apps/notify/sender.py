"""Send the queued notifications: the "notify" job of `hotline run`.

Each run claims up to BATCH due rows atomically (one UPDATE moves them from
"pending" to "sending" under a claim token, so two senders never take the same
row), sends each one and records the outcome:
- sent: status "sent", sent_at;
- not sent: attempts + 1 and last_error; "pending" again after retry_seconds,
  doubling per attempt (at most MAX_BACKOFF), or "failed" after max_attempts.
A row left "sending" by a process that died mid-run is claimed again after
STALE_AFTER (it may then be sent twice; a notification is never dropped).
Failed rows stay in the table: /admin/notifications lists them with a retry button.

Channels: e-mail over SMTP (smtplib, optional STARTTLS and login) and SMS as a JSON
POST {"to", "text", "id"} to [notify] sms_url (urllib, a 2xx answer is success);
both are plain functions that tests and other gateways can replace.
"""
import datetime
import json
import logging
import smtplib
import ssl
import urllib.error
import urllib.request
import uuid
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from db.models import Notification, utcnow

log = logging.getLogger(__name__)

BATCH = 50
STALE_AFTER = datetime.timedelta(minutes=10)
MAX_BACKOFF = datetime.timedelta(hours=6)
ERROR_MAX = 512


class SendError(Exception):
    """A notification could not be sent; the message says why."""


def send_email(settings, notification) -> None:
    if not settings.smtp_host:
        raise SendError("e-mail is not configured ([notify] smtp_host is empty)")
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = formataddr((notification.recipient_name, notification.recipient))
    msg["Subject"] = notification.subject
    msg["Message-ID"] = make_msgid(idstring=f"hotline-{notification.id}")
    msg.set_content(notification.body)
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port,
                          timeout=settings.smtp_timeout) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password)
            smtp.send_message(msg)
    except (smtplib.SMTPException, OSError, ValueError) as exc:
        raise SendError(f"SMTP {settings.smtp_host}:{settings.smtp_port}: "
                        f"{type(exc).__name__}: {exc}") from None


def send_sms(settings, notification) -> None:
    url = settings.sms_url
    if not url:
        raise SendError("SMS is not configured ([notify] sms_url is empty)")
    if not url.startswith(("http://", "https://")):
        raise SendError("[notify] sms_url must be an http:// or https:// URL")
    payload = json.dumps({"to": notification.recipient, "text": notification.body,
                          "id": notification.id}, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if settings.sms_token:
        headers["Authorization"] = f"Bearer {settings.sms_token}"
    request = urllib.request.Request(url, data=payload, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=settings.sms_timeout) as response:
            response.read(4096)
    except urllib.error.HTTPError as exc:
        detail = exc.read(200).decode("utf-8", "replace").strip()
        raise SendError(f"SMS gateway answered {exc.code} {exc.reason}: {detail}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SendError(f"SMS gateway {url}: {reason}") from None


class NotificationSender:
    def __init__(self, database, settings, now=utcnow, channels=None):
        """settings: the [notify] section (esl_apps.config.NotifyConfig)."""
        self.database = database
        self.settings = settings
        self.now = now
        self.channels = channels or {"email": send_email, "sms": send_sms}

    def run(self) -> dict:
        """One pass; returns counts {"sent", "retry", "failed"}."""
        counts = {"sent": 0, "retry": 0, "failed": 0}
        with self.database.connection_context():
            token, claimed = self.claim()
            for notification in claimed:
                counts[self.deliver(token, notification)] += 1
        if claimed:
            log.info("notifications: %(sent)d sent, %(retry)d to retry, %(failed)d failed",
                     counts)
        return counts

    def claim(self) -> tuple[str, list]:
        now = self.now()
        token = uuid.uuid4().hex
        due = (((Notification.status == "pending") & (Notification.next_attempt_at <= now))
               | ((Notification.status == "sending")
                  & (Notification.claimed_at < now - STALE_AFTER)))
        ids = (Notification.select(Notification.id).where(due)
               .order_by(Notification.next_attempt_at, Notification.id).limit(BATCH))
        with self.database.atomic():
            (Notification.update(status="sending", claimed_by=token, claimed_at=now)
             .where(Notification.id.in_(ids), due).execute())
        rows = list(Notification.select()
                    .where(Notification.claimed_by == token, Notification.status == "sending")
                    .order_by(Notification.id))
        return token, rows

    def deliver(self, token: str, notification) -> str:
        send = self.channels.get(notification.channel)
        try:
            if send is None:
                raise SendError(f"unknown channel {notification.channel!r}")
            send(self.settings, notification)
        except SendError as exc:
            return self._failed(token, notification, str(exc))
        except Exception as exc:  # a gateway bug must not leave the row "sending"
            log.exception("notification %s: unexpected error", notification.id)
            return self._failed(token, notification, f"{type(exc).__name__}: {exc}")
        (Notification.update(status="sent", sent_at=self.now(), claimed_by="",
                             attempts=Notification.attempts + 1)
         .where(Notification.id == notification.id, Notification.claimed_by == token)
         .execute())
        return "sent"

    def _failed(self, token: str, notification, error: str) -> str:
        attempts = notification.attempts + 1
        final = attempts >= self.settings.max_attempts
        delay = min(datetime.timedelta(seconds=self.settings.retry_seconds
                                       * 2 ** (attempts - 1)), MAX_BACKOFF)
        (Notification.update(status="failed" if final else "pending", attempts=attempts,
                             last_error=error[:ERROR_MAX], claimed_by="",
                             next_attempt_at=self.now() + delay)
         .where(Notification.id == notification.id, Notification.claimed_by == token)
         .execute())
        level = logging.WARNING if final else logging.INFO
        log.log(level, "notification %s (%s to %s) attempt %d %s: %s", notification.id,
                notification.channel, notification.recipient, attempts,
                "failed for good" if final else "failed, will retry", error)
        return "failed" if final else "retry"


def retry(notification_id: int, now=utcnow) -> bool:
    """Put a failed notification back in the queue (the admin page's button)."""
    return bool(Notification.update(status="pending", attempts=0, next_attempt_at=now(),
                                    claimed_by="")
                .where(Notification.id == notification_id,
                       Notification.status == "failed").execute())
