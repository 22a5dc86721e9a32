"""The "notify" job: send queued notifications every [notify] send_every_seconds
(esl_apps.notify.sender), and tell the outbox the process's config so that
enqueue(recipients=None) finds [notify] default_recipients."""
from esl_apps.notify import outbox
from esl_apps.notify.sender import NotificationSender


def add_notify_job(scheduler, config, database, first_run) -> NotificationSender:
    outbox.configure(config)
    sender = NotificationSender(database, config.notify)
    scheduler.add_job(sender.run, "interval", seconds=config.notify.send_every_seconds,
                      id="notify", name="send e-mail and SMS notifications",
                      next_run_time=first_run)
    return sender
