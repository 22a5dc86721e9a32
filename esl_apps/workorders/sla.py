"""SLA deadlines and timers of one order.

start() computes the response and resolution deadlines from `sla_started_at` in
business minutes (esl_apps.workorders.calendar) and writes four SlaTimer rows:
a warning `warn_before` minutes before each deadline and a breach at it. Meeting a
deadline (esl_apps.workorders.service) cancels that phase's unfired timers; an
approved extension moves the resolution deadline and its timers; a re-dispatch
starts a new round. The timers job (esl_apps.workorders.timers) fires due rows.
"""
import logging

from db.models import SlaRule, SlaTimer, WorkOrder, WorkOrderWorkflow
from esl_apps.workorders.calendar import BusinessCalendar

log = logging.getLogger(__name__)

PHASES = {"response": ("response_warning", "response_breach"),
          "resolve": ("resolve_warning", "resolve_breach")}


def snapshot(order: WorkOrder, workflow_row: WorkOrderWorkflow | None) -> None:
    """Copy the SLA rule of the order's type and priority onto it (no rule: no
    deadlines)."""
    rule = SlaRule.get_or_none(SlaRule.type == order.type, SlaRule.priority == order.priority)
    default = workflow_row.sla_schedule if workflow_row is not None else "default"
    if rule is None:
        order.response_limit = order.resolve_limit = order.warn_before = 0
        order.sla_schedule = default
        return
    order.response_limit = rule.response_minutes
    order.resolve_limit = rule.resolve_minutes
    order.warn_before = rule.warn_before
    order.sla_schedule = rule.schedule or default


def _deadline(calendar: BusinessCalendar, order: WorkOrder, limit: int):
    if limit <= 0:
        return None
    return calendar.add(order.sla_schedule, order.sla_started_at, limit)


def _timers(calendar: BusinessCalendar, order: WorkOrder, phase: str, limit: int, deadline):
    warning, breach = PHASES[phase]
    rows = []
    if deadline is None:
        return rows
    if 0 < order.warn_before < limit:
        warn_at = calendar.add(order.sla_schedule, order.sla_started_at,
                               limit - order.warn_before)
        rows.append({"order": order.id, "kind": warning, "due_at": warn_at,
                     "deadline": deadline})
    rows.append({"order": order.id, "kind": breach, "due_at": deadline, "deadline": deadline})
    return rows


def cancel(order: WorkOrder, now, phases=("response", "resolve")) -> int:
    kinds = [kind for phase in phases for kind in PHASES[phase]]
    return (SlaTimer.update(cancelled_at=now)
            .where(SlaTimer.order == order.id, SlaTimer.kind.in_(kinds),
                   SlaTimer.fired_at.is_null(), SlaTimer.cancelled_at.is_null())
            .execute())


def start(calendar: BusinessCalendar, order: WorkOrder, now) -> None:
    """A new round of deadlines counted from `now` (the order is saved by the caller)."""
    cancel(order, now)
    order.sla_started_at = now
    order.response_due_at = _deadline(calendar, order, order.response_limit)
    order.resolve_due_at = _deadline(calendar, order, order.resolve_limit)
    rows = (_timers(calendar, order, "response", order.response_limit, order.response_due_at)
            + _timers(calendar, order, "resolve", order.resolve_limit, order.resolve_due_at))
    if rows:
        SlaTimer.insert_many(rows).execute()


def extend(calendar: BusinessCalendar, order: WorkOrder, minutes: int, now) -> None:
    """Add business minutes to the resolution limit and move its timers (unless the
    order is resolved already)."""
    order.resolve_limit += minutes
    if order.resolved_at is not None:
        return
    cancel(order, now, phases=("resolve",))
    order.resolve_due_at = _deadline(calendar, order, order.resolve_limit)
    rows = _timers(calendar, order, "resolve", order.resolve_limit, order.resolve_due_at)
    if rows:
        SlaTimer.insert_many(rows).execute()
