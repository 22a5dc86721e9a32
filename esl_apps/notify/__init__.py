"""Notifications (issue 7): e-mail over SMTP and SMS through an HTTP gateway.

- outbox.enqueue(event, order_id=..., recipients=..., context=...) writes one
  Notification row per recipient and channel, rendered from the Jinja2 templates in
  templates/ (zh and en), inside the caller's transaction;
- sender.NotificationSender (the "notify" job of esl_apps.jobs) claims pending rows,
  sends them, retries with backoff and finally marks them failed; failed rows stay
  on /admin/notifications with a retry button.
"""
