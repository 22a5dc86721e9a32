"""Business hours on both databases, from the schedules migration 0004 seeds:
`default` is Mon-Fri 08:00-12:00 and 13:30-17:30 in Asia/Shanghai, `24h` never closes."""
import datetime
import logging
from zoneinfo import ZoneInfo

import peewee
import pytest

from db.models import Holiday, Schedule, ScheduleHours
from esl_apps.ivr.hours import Hours, minutes

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = datetime.timezone.utc


def at(text, zone=SHANGHAI):
    """'2026-11-23 08:30' in Shanghai (2026-11-23 is a Monday)."""
    return datetime.datetime.fromisoformat(text).replace(tzinfo=zone)


@pytest.fixture
def hours(db):
    return Hours(db)


@pytest.mark.parametrize("when, open_", [
    ("2026-11-23 07:59:59", False),
    ("2026-11-23 08:00", True),
    ("2026-11-23 11:59", True),
    ("2026-11-23 12:00", False),  # lunch break
    ("2026-11-23 13:29", False),
    ("2026-11-23 13:30", True),
    ("2026-11-27 17:29:59", True),  # Friday
    ("2026-11-27 17:30", False),
    ("2026-11-28 10:00", False),  # Saturday
    ("2026-11-29 10:00", False),  # Sunday
])
def test_weekly_hours_with_a_lunch_break(hours, when, open_):
    assert hours.is_open("default", at(when)) is open_


def test_24h_schedule(hours):
    for when in ("2026-11-23 00:00", "2026-11-28 03:00", "2026-11-29 23:59:59"):
        assert hours.is_open("24h", at(when))


def test_national_day_closes_every_schedule_that_observes_holidays(db, hours):
    Holiday.create(day=datetime.date(2026, 10, 1), name="国庆节", kind="closed")
    assert not hours.is_open("default", at("2026-10-01 09:00"))  # a Thursday
    assert hours.is_open("default", at("2026-10-09 09:00"))  # the Friday after is not
    assert hours.is_open("24h", at("2026-10-01 09:00"))  # 24h ignores shared holidays


def test_holiday_of_one_schedule_only(db, hours):
    other = Schedule.create(name="branch_office")
    ScheduleHours.create(schedule=other, weekday=3, opens="09:00", closes="17:00")
    Holiday.create(schedule=other, day=datetime.date(2026, 10, 1), name="盘点", kind="closed")
    assert not hours.is_open("branch_office", at("2026-10-01 10:00"))
    assert hours.is_open("default", at("2026-10-01 10:00"))


def test_workday_saturday_uses_monday_hours(db, hours):
    """调休: the Saturday after the national-day week is worked."""
    Holiday.create(day=datetime.date(2026, 10, 10), name="国庆调休", kind="workday")
    assert hours.is_open("default", at("2026-10-10 08:30"))
    assert not hours.is_open("default", at("2026-10-10 12:30"))  # Monday's lunch break
    assert hours.is_open("default", at("2026-10-10 14:00"))
    assert not hours.is_open("default", at("2026-11-28 08:30"))  # an ordinary Saturday


def test_workday_with_its_own_hours(db, hours):
    Holiday.create(day=datetime.date(2026, 10, 10), name="国庆调休", kind="workday",
                   opens="09:00", closes="12:00")
    assert not hours.is_open("default", at("2026-10-10 08:30"))
    assert hours.is_open("default", at("2026-10-10 11:00"))
    assert not hours.is_open("default", at("2026-10-10 14:00"))


def test_schedules_own_holiday_row_beats_the_shared_one(db, hours):
    default = Schedule.get(name="default")
    Holiday.create(day=datetime.date(2026, 10, 1), name="国庆节", kind="closed")
    Holiday.create(schedule=default, day=datetime.date(2026, 10, 1), name="值班",
                   kind="workday", opens="09:00", closes="11:00")
    assert hours.is_open("default", at("2026-10-01 10:00"))
    assert not hours.is_open("default", at("2026-10-01 14:00"))


def test_timezone_conversion(hours):
    # 00:30 UTC on Monday is 08:30 in Shanghai: open
    assert hours.is_open("default", datetime.datetime(2026, 11, 23, 0, 30, tzinfo=UTC))
    # 23:30 UTC on Sunday is 07:30 on Monday in Shanghai: not yet
    assert not hours.is_open("default", datetime.datetime(2026, 11, 22, 23, 30, tzinfo=UTC))
    # 10:00 UTC on Friday is 18:00 in Shanghai: closed, though 10:00 is inside the hours
    assert not hours.is_open("default", datetime.datetime(2026, 11, 27, 10, 0, tzinfo=UTC))


def test_schedule_in_another_timezone(db, hours):
    Schedule.update(timezone="Asia/Urumqi").where(Schedule.name == "default").execute()
    # 08:30 in Shanghai is 06:30 in Urumqi (UTC+6): closed there
    assert not hours.is_open("default", at("2026-11-23 08:30"))
    assert hours.is_open("default", at("2026-11-23 10:30"))


def test_unknown_schedule(hours):
    with pytest.raises(KeyError, match=r"no business-hours schedule named 'night' "
                                       r"\(known: 24h, default\)"):
        hours.is_open("night", at("2026-11-23 09:00"))


def test_unknown_timezone(db, hours):
    Schedule.create(name="mars", timezone="Mars/Olympus")
    with pytest.raises(ValueError, match="schedule 'mars': unknown time zone 'Mars/Olympus'"):
        hours.is_open("mars", at("2026-11-23 09:00"))


def test_naive_datetime_is_refused(hours):
    with pytest.raises(ValueError, match="aware"):
        hours.is_open("default", datetime.datetime(2026, 11, 23, 9, 0))


def test_schedules(hours):
    assert hours.schedules() == ["24h", "default"]


def test_rows_are_cached_until_the_ttl_or_invalidate(db):
    clock = [1000.0]
    hours = Hours(db, clock=lambda: clock[0])
    monday = at("2026-11-23 09:00")
    assert hours.is_open("default", monday)
    Holiday.create(day=monday.date(), name="停电检修", kind="closed")
    assert hours.is_open("default", monday)  # cached
    clock[0] += 59
    assert hours.is_open("default", monday)
    clock[0] += 2
    assert not hours.is_open("default", monday)  # 61 s: read again
    Holiday.delete().execute()
    hours.invalidate("default")
    assert hours.is_open("default", monday)
    Holiday.create(day=monday.date(), name="停电检修", kind="closed")
    hours.invalidate()
    assert not hours.is_open("default", monday)


def test_database_trouble_keeps_the_rows_read_before(db, caplog):
    clock = [1000.0]
    hours = Hours(db, clock=lambda: clock[0])
    monday = at("2026-11-23 09:00")
    assert hours.is_open("default", monday)
    db.execute_sql("DROP TABLE holiday")
    clock[0] += 120
    with caplog.at_level(logging.WARNING, logger="esl_apps.ivr.hours"):
        assert hours.is_open("default", monday)
    assert "schedule 'default': cannot read it again" in caplog.text
    with pytest.raises(peewee.DatabaseError):
        hours.is_open("24h", monday)  # never read: nothing to fall back on


def test_bad_rows_are_left_out_and_logged(db, hours, caplog):
    odd = Schedule.create(name="odd")
    ScheduleHours.create(schedule=odd, weekday=0, opens="8:00", closes="12:00")
    ScheduleHours.create(schedule=odd, weekday=0, opens="18:00", closes="09:00")
    ScheduleHours.create(schedule=odd, weekday=0, opens="13:00", closes="14:00")
    ScheduleHours.create(schedule=odd, weekday=7, opens="13:00", closes="14:00")
    with caplog.at_level(logging.WARNING, logger="esl_apps.ivr.hours"):
        assert not hours.is_open("odd", at("2026-11-23 09:00"))
        assert hours.is_open("odd", at("2026-11-23 13:30"))
    messages = "\n".join(r.getMessage() for r in caplog.records)
    assert "'8:00' is not a time of day" in messages
    assert "closes 09:00 is not after opens 18:00" in messages
    assert "weekday is not 0 (Monday) to 6" in messages


@pytest.mark.parametrize("text, value", [("00:00", 0), ("13:30", 810), ("23:59", 1439),
                                         ("24:00", 1440)])
def test_minutes(text, value):
    assert minutes(text) == value


@pytest.mark.parametrize("text", ["8:00", "24:01", "12:60", "noon", "", None])
def test_minutes_refuses(text):
    with pytest.raises(ValueError):
        minutes(text)
