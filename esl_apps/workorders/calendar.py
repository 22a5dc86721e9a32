"""SLA deadlines in business time.

A limit of N minutes counts only the minutes a business-hours schedule is open
(esl_apps.ivr.hours: weekly ranges with lunch breaks, holidays closed, 调休 weekend
days worked), in the schedule's own time zone. Which schedule: the SLA rule's own
`schedule`, else the workflow's `sla_schedule` (WorkOrderWorkflow, "default" as
seeded: Mon-Fri 08:00-12:00 and 13:30-17:30 Asia/Shanghai); the seeded rules give
urgent repairs the "24h" schedule (抢修 around the clock). Both are edited on the
work-order settings page; the schedules themselves on Admin → Business hours.

Stored times are naive UTC; add() takes and returns naive UTC.
"""
import datetime
import logging

from esl_apps.ivr.hours import Hours

log = logging.getLogger(__name__)

MAX_DAYS = 3 * 366  # a schedule open less than this is treated as never open


class NeverOpen(ValueError):
    """The schedule has no open minute within MAX_DAYS of the start."""


class BusinessCalendar:
    def __init__(self, hours: Hours):
        self.hours = hours

    def local_date(self, schedule: str, when: datetime.datetime) -> datetime.date:
        """The day a naive-UTC instant falls on in the schedule's time zone."""
        zone = self.hours._get(schedule).zone
        return when.replace(tzinfo=datetime.UTC).astimezone(zone).date()

    def add(self, schedule: str, start: datetime.datetime, minutes: int) -> datetime.datetime:
        """The naive-UTC instant `minutes` open minutes of `schedule` after `start`.
        Time before the first opening (a night, a weekend, a holiday) does not count;
        add(s, t, 0) is t itself."""
        if minutes <= 0:
            return start
        # Hours keeps the reading of a schedule's rows private; the day's ranges
        # (holidays and 调休 applied) are exactly what is_open() checks against.
        loaded = self.hours._get(schedule)
        zone = loaded.zone
        local = start.replace(tzinfo=datetime.UTC).astimezone(zone)
        day = local.date()
        now_min = local.hour * 60 + local.minute + local.second / 60 \
            + local.microsecond / 60e6
        left = float(minutes)
        for _ in range(MAX_DAYS):
            for opens, closes in sorted(self.hours._ranges(loaded, day)):
                begin = max(opens, now_min)
                if begin >= closes:
                    continue
                span = closes - begin
                if left <= span:
                    return _utc(day, begin + left, zone)
                left -= span
            day += datetime.timedelta(days=1)
            now_min = 0.0
        raise NeverOpen(f"schedule {schedule!r} is not open in the {MAX_DAYS} days after "
                        f"{start.isoformat()}")


def _utc(day: datetime.date, minute: float, zone) -> datetime.datetime:
    wall = datetime.datetime.combine(day, datetime.time()) \
        + datetime.timedelta(seconds=round(minute * 60))
    return wall.replace(tzinfo=zone).astimezone(datetime.UTC).replace(tzinfo=None)
