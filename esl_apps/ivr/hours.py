"""Business hours: is a schedule open at a given instant?

A schedule (db.models.Schedule) has weekly opening ranges (ScheduleHours; several
on one day make a lunch break) in its own time zone. Holiday rows override the
week for one day: 'closed' shuts the whole day; 'workday' (调休, a weekend day
that is worked) opens during the row's opens-closes, or else Monday's hours.
Rows for the schedule itself take precedence over rows for every schedule
(schedule NULL), which a schedule with observe_holidays off ignores. Among the
rows that apply to a day, 'closed' wins; several 'workday' rows add up.

Times are 'HH:MM'; '24:00' closes at the end of the day; a range is open from
`opens` up to, not including, `closes`. A row that cannot be read is logged and
left out, so one bad row never takes the line down.

The IVR asks once per call, so a schedule's rows are kept for `ttl` seconds;
`invalidate()` drops them after an edit. When the database cannot be read, the
rows read last go on being used (and the failure logged) rather than failing calls.
"""
import datetime
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import peewee

from db.models import Holiday, Schedule, ScheduleHours

log = logging.getLogger(__name__)

HHMM = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$|^24:00$")
MONDAY = 0


def minutes(text) -> int:
    """'13:30' -> 810; '24:00' -> 1440. ValueError for anything else."""
    if not isinstance(text, str) or not HHMM.match(text):
        raise ValueError(f"{text!r} is not a time of day (HH:MM, 00:00 to 24:00)")
    hours, mins = text.split(":")
    return int(hours) * 60 + int(mins)


Range = tuple[int, int]  # minutes from midnight: [opens, closes)


@dataclass
class _Loaded:
    """One schedule's rows, as read from the database."""
    name: str
    zone: ZoneInfo
    week: dict[int, list[Range]]
    holidays: dict[datetime.date, list[tuple[str, Range | None]]]
    at: float = field(default=0.0)


def _range(owner: str, opens, closes) -> Range | None:
    try:
        start, end = minutes(opens), minutes(closes)
    except ValueError as exc:
        log.warning("%s: %s; row left out", owner, exc)
        return None
    if end <= start:
        log.warning("%s: closes %s is not after opens %s; row left out", owner, closes, opens)
        return None
    return start, end


def _first_line(exc) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class Hours:
    def __init__(self, database, ttl: float = 60.0, clock=time.monotonic):
        self.database = database
        self.ttl = ttl
        self.clock = clock
        self._cache: dict[str, _Loaded] = {}
        self._lock = threading.Lock()

    def schedules(self) -> list[str]:
        """Every schedule's name, sorted."""
        query = Schedule.select(Schedule.name).order_by(Schedule.name).bind(self.database)
        return [row.name for row in query]

    def invalidate(self, schedule_name: str | None = None) -> None:
        """Forget one schedule's rows, or every schedule's."""
        with self._lock:
            if schedule_name is None:
                self._cache.clear()
            else:
                self._cache.pop(schedule_name, None)

    def is_open(self, schedule_name: str, when: datetime.datetime) -> bool:
        """Whether `schedule_name` is open at the aware instant `when`.

        KeyError when no schedule has that name; ValueError for a naive `when` or
        a schedule whose time zone is unknown."""
        if when.tzinfo is None or when.utcoffset() is None:
            raise ValueError(f"is_open needs an aware datetime, got naive {when.isoformat()}")
        loaded = self._get(schedule_name)
        local = when.astimezone(loaded.zone)
        now = local.hour * 60 + local.minute + local.second / 60
        return any(start <= now < end for start, end in self._ranges(loaded, local.date()))

    @staticmethod
    def _ranges(loaded: _Loaded, day: datetime.date) -> list[Range]:
        rows = loaded.holidays.get(day)
        if not rows:
            return loaded.week.get(day.weekday(), [])
        if any(kind == "closed" for kind, _ in rows):
            return []
        ranges = [hours for _, hours in rows if hours is not None]
        return ranges or loaded.week.get(MONDAY, [])

    def _get(self, name: str) -> _Loaded:
        now = self.clock()
        with self._lock:
            loaded = self._cache.get(name)
        if loaded is not None and now - loaded.at < self.ttl:
            return loaded
        try:
            fresh = self._load(name)
        except peewee.DatabaseError as exc:
            if loaded is None:
                raise
            log.warning("schedule %r: cannot read it again (%s); using the rows read "
                        "%.0f s ago", name, _first_line(exc), now - loaded.at)
            return loaded
        loaded = fresh
        loaded.at = now
        with self._lock:
            self._cache[name] = loaded
        return loaded

    def _load(self, name: str) -> _Loaded:
        schedule = Schedule.select().where(Schedule.name == name).bind(self.database).first()
        if schedule is None:
            known = ", ".join(self.schedules()) or "none"
            raise KeyError(f"no business-hours schedule named {name!r} (known: {known})")
        try:
            zone = ZoneInfo(schedule.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"schedule {name!r}: unknown time zone "
                             f"{schedule.timezone!r}") from None

        week: dict[int, list[Range]] = {}
        query = (ScheduleHours.select().where(ScheduleHours.schedule == schedule.id)
                 .order_by(ScheduleHours.weekday, ScheduleHours.opens).bind(self.database))
        for row in query:
            owner = f"schedule {name!r} weekday {row.weekday}"
            if row.weekday not in range(7):
                log.warning("%s: weekday is not 0 (Monday) to 6; row left out", owner)
                continue
            hours = _range(owner, row.opens, row.closes)
            if hours is not None:
                week.setdefault(row.weekday, []).append(hours)

        which = Holiday.schedule == schedule.id
        if schedule.observe_holidays:
            which |= Holiday.schedule.is_null()
        own: dict[datetime.date, list] = {}
        shared: dict[datetime.date, list] = {}
        for row in Holiday.select().where(which).bind(self.database):
            owner = f"schedule {name!r} holiday {row.day} {row.name!r}"
            if row.kind == "closed":
                entry = ("closed", None)
            elif row.kind == "workday":
                hours = None
                if row.opens is not None or row.closes is not None:
                    hours = _range(owner, row.opens, row.closes)
                    if hours is None:
                        continue
                entry = ("workday", hours)
            else:
                log.warning("%s: kind %r is neither 'closed' nor 'workday'; row left out",
                            owner, row.kind)
                continue
            target = shared if row.schedule_id is None else own
            target.setdefault(row.day, []).append(entry)
        holidays = {**shared, **own}  # the schedule's own rows replace the shared ones
        return _Loaded(name, zone, week, holidays)
