"""The SLA job: fire due work-order warnings and escalations
(esl_apps.workorders.timers holds the logic and the exactly-once claim)."""
import datetime

from esl_apps.workorders.timers import SlaTimers

SLA_EVERY_SECONDS = 30


def add_sla_job(scheduler, database, now=None, every_seconds: float = SLA_EVERY_SECONDS,
                first_run: datetime.datetime | None = None) -> SlaTimers:
    """Add the periodic job to an APScheduler scheduler; the SlaTimers it runs."""
    timers = SlaTimers(database, **({"now": now} if now is not None else {}))
    scheduler.add_job(timers.run, "interval", seconds=every_seconds, id="sla_timers",
                      name="fire work-order SLA warnings and escalations",
                      next_run_time=first_run or datetime.datetime.now().astimezone(),
                      replace_existing=True)
    return timers
