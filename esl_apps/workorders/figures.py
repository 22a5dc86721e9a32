"""Work-order figures for reports, over the orders made in [start, end) (naive
UTC; None: unbounded): counts by type, state and region; SLA compliance; mean
time to close. The full report pages come later; /workorders/figures shows these.

SLA compliance counts, per phase, the orders whose deadline has been decided: met
(responded/resolved by the deadline) or missed (done late, or not done and the
deadline passed). Orders without a deadline, or still within it, are left out.
"""
import datetime

from peewee import fn

from db.models import WorkOrder, utcnow


def _orders(start=None, end=None):
    query = WorkOrder.select()
    if start is not None:
        query = query.where(WorkOrder.created_at >= start)
    if end is not None:
        query = query.where(WorkOrder.created_at < end)
    return query


def counts_by(column: str, start=None, end=None) -> list[tuple[str, int]]:
    """[(value, count)] for column "type", "state", "region" or "priority",
    largest first."""
    if column not in ("type", "state", "region", "priority"):
        raise ValueError(f"cannot count work orders by {column!r}")
    field = getattr(WorkOrder, column)
    query = (_orders(start, end).select(field.alias("value"), fn.COUNT(WorkOrder.id).alias("n"))
             .group_by(field).order_by(fn.COUNT(WorkOrder.id).desc(), field))
    return [(row.value, row.n) for row in query.objects()]


def _phase(orders, now):
    met = missed = 0
    for due_at, done_at in orders:
        if due_at is None:
            continue
        if done_at is not None:
            if done_at <= due_at:
                met += 1
            else:
                missed += 1
        elif due_at < now:
            missed += 1
    total = met + missed
    return {"met": met, "missed": missed, "total": total,
            "rate": round(100.0 * met / total, 1) if total else None}


def sla_compliance(start=None, end=None, now=None) -> dict:
    now = now or utcnow()
    rows = list(_orders(start, end).select(
        WorkOrder.response_due_at, WorkOrder.responded_at,
        WorkOrder.resolve_due_at, WorkOrder.resolved_at).tuples())
    return {"response": _phase([(r[0], r[1]) for r in rows], now),
            "resolve": _phase([(r[2], r[3]) for r in rows], now)}


def mean_time_to_close(start=None, end=None) -> datetime.timedelta | None:
    """Mean of closed_at - created_at over the closed orders made in the range."""
    rows = list(_orders(start, end).where(WorkOrder.closed_at.is_null(False))
                .select(WorkOrder.created_at, WorkOrder.closed_at).tuples())
    if not rows:
        return None
    seconds = sum((closed - created).total_seconds() for created, closed in rows)
    return datetime.timedelta(seconds=round(seconds / len(rows)))


def summary(start=None, end=None, now=None) -> dict:
    return {"by_type": counts_by("type", start, end), "by_state": counts_by("state", start, end),
            "by_region": counts_by("region", start, end),
            "sla": sla_compliance(start, end, now),
            "mean_time_to_close": mean_time_to_close(start, end),
            "total": _orders(start, end).count()}
