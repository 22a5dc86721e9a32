"""Fire the SLA timers that are due: a warning before a deadline, an escalation at
the breach.

The schedule lives in the database (SlaTimer rows, written when deadlines are
set), not in the scheduler: the periodic job (esl_apps.jobs, every
SLA_EVERY_SECONDS) looks for rows due and not yet fired. Each row is claimed with
one UPDATE ... WHERE fired_at IS NULL AND cancelled_at IS NULL in the same
transaction that writes the history event and queues the notification, so a row
fires exactly once: a second process (or the same one after a restart) finds it
claimed, and a crash before the commit leaves it unclaimed for the next run.
"""
import logging
from collections.abc import Callable

from db.models import SlaTimer, WorkOrder, utcnow
from esl_apps.workorders import notices
from esl_apps.workorders.service import add_event, load_workflow

log = logging.getLogger(__name__)

BATCH = 200
EVENTS = {"response_warning": "sla_warning", "resolve_warning": "sla_warning",
          "response_breach": "sla_breach", "resolve_breach": "sla_breach"}


class SlaTimers:
    def __init__(self, database, now: Callable = utcnow):
        self.database = database
        self.now = now

    def run(self) -> int:
        """Fire every due timer; how many fired in this run."""
        fired = 0
        with self.database.connection_context():
            now = self.now()
            due = list(SlaTimer.select(SlaTimer.id)
                       .where(SlaTimer.fired_at.is_null(), SlaTimer.cancelled_at.is_null(),
                              SlaTimer.due_at <= now)
                       .order_by(SlaTimer.due_at, SlaTimer.id).limit(BATCH))
            for row in due:
                try:
                    fired += self.fire(row.id, now)
                except Exception:  # one bad order must not stop the others
                    log.exception("SLA timer %s could not fire; next run tries again", row.id)
        if fired:
            log.info("SLA timers: %d fired", fired)
        return fired

    def fire(self, timer_id: int, now) -> int:
        """1 when this call fired the timer, 0 when someone else had (or it was
        cancelled meanwhile)."""
        with self.database.atomic():
            claimed = (SlaTimer.update(fired_at=now)
                       .where(SlaTimer.id == timer_id, SlaTimer.fired_at.is_null(),
                              SlaTimer.cancelled_at.is_null())
                       .execute())
            if claimed != 1:
                return 0
            timer = SlaTimer.get_by_id(timer_id)
            order = WorkOrder.get_by_id(timer.order_id)
            event = EVENTS[timer.kind]
            phase = timer.kind.split("_")[0]
            add_event(order, event, None, now=now, timer=timer.id, phase=phase,
                      deadline=timer.deadline.isoformat())
            if event == "sla_breach" and order.escalated_at is None:
                WorkOrder.update(escalated_at=now).where(WorkOrder.id == order.id).execute()
                order.escalated_at = now
            label = load_workflow().label(order.state, "zh")
            notices.notify(event, order, deadline=timer.deadline, state_label=label,
                           comment=phase)
        log.info("work order %s: %s (deadline %s)", order.number, timer.kind, timer.deadline)
        return 1
