"""Queue notifications about a work order, in the caller's transaction.

    from esl_apps.notify.outbox import enqueue
    with database.atomic():
        order.save()
        enqueue("dispatch", order_id=order.id, context={"number": order.number, ...})

One Notification row ("pending") per recipient and channel: "email" when the
recipient has an e-mail address, "sms" when it has a phone number (both when it has
both). Subject and body are rendered now (esl_apps.notify.render) in the recipient's
language, so what is sent is what was decided at that moment; the notify job
(esl_apps.notify.sender) sends them later. If the caller's transaction rolls back,
no notification is left behind.

Events: dispatch, sla_warning, sla_breach, closed.

Recipients: dicts {"email", "phone", "language": "zh"|"en", "name"} (all optional,
at least one of email/phone). recipients=None means the default recipients of
[notify] default_recipients in the config file (each may list the "events" it
wants; none listed = every event); they are taken from the config set by
configure() (the `hotline run` scheduler calls it), else from the Flask app's
HOTLINE_CONFIG. The default language is the panel's ([locale] language).

Context keys the templates use (all optional): number (the order's number,
else order_id is shown), title, type, priority, customer, phone, address,
department, assignee, deadline, state, comment, url, plus "name" (the recipient's).
"""
import logging

from db.models import Notification, utcnow
from esl_apps.notify.render import EVENTS, language_of, render

log = logging.getLogger(__name__)

_config = None  # the NotifyConfig/Config set by configure()


def configure(config) -> None:
    """Remember the process's Config (for default recipients and language)."""
    global _config
    _config = config


def _current_config():
    if _config is not None:
        return _config
    try:
        from flask import current_app
        return current_app.config.get("HOTLINE_CONFIG")
    except (ImportError, RuntimeError):  # no Flask, or outside an app context
        return None


def default_language() -> str:
    config = _current_config()
    return language_of(config.locale.language if config is not None else "zh_CN")


def default_recipients(event: str) -> list[dict]:
    config = _current_config()
    if config is None:
        return []
    return [r.model_dump() for r in config.notify.default_recipients
            if not r.events or event in r.events]


def enqueue(event: str, *, order_id: int, recipients: list[dict] | None = None,
            context: dict | None = None) -> list:
    """Write the notifications for the event; return the Notification rows made
    (empty when there is nobody to tell, which is logged)."""
    if event not in EVENTS:
        raise ValueError(f"unknown notification event {event!r}; expected one of "
                         f"{', '.join(EVENTS)}")
    if recipients is None:
        recipients = default_recipients(event)
    fallback = default_language()
    made = []
    now = utcnow()
    for recipient in recipients:
        email = (recipient.get("email") or "").strip()
        phone = (recipient.get("phone") or "").strip()
        if not email and not phone:
            log.warning("notification %s for order %s: recipient %r has neither e-mail "
                        "nor phone", event, order_id, recipient.get("name", ""))
            continue
        language = language_of(recipient.get("language"), fallback)
        name = str(recipient.get("name") or "")
        values = {**(context or {}), "order_id": order_id, "event": event, "name": name}
        text = render(event, language, values)
        for channel, address in (("email", email), ("sms", phone)):
            if not address:
                continue
            made.append(Notification.create(
                event=event, order_id=order_id, channel=channel, recipient=address[:255],
                recipient_name=name[:128], language=language,
                subject=text["subject"] if channel == "email" else "",
                body=text["body"] if channel == "email" else text["sms"],
                status="pending", next_attempt_at=now, created_at=now))
    if not made:
        log.warning("notification %s for order %s: no recipients", event, order_id)
    else:
        log.info("notification %s for order %s: %d queued", event, order_id, len(made))
    return made
