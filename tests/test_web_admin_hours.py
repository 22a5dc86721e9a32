"""Admin → Business hours: schedules, weekly hours (HH:MM ranges), holidays and
调休 workdays; validated, audited, and the Hours cache dropped."""
import datetime

import pytest

from db.models import AuditLog, Holiday, Schedule, ScheduleHours
from tests.webpanel import add_user, csrf_token, make_app, sign_in_session


class FakeHours:
    def __init__(self):
        self.dropped = []

    def invalidate(self, name=None):
        self.dropped.append(name)


@pytest.fixture
def hours():
    return FakeHours()


@pytest.fixture
def client(db, hours):
    client = make_app(HOTLINE_HOURS=hours).test_client()
    sign_in_session(client, add_user("root", "admin"))
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def token(client):
    return csrf_token(client.get("/admin/hours").text)


def test_create_a_schedule_and_set_its_week(client, hours):
    assert client.post("/admin/hours", data={
        "csrf_token": token(client), "name": "heating", "timezone": "Asia/Shanghai"}
    ).status_code == 302
    schedule = Schedule.get(name="heating")
    week = {f"day{d}": "08:30-12:00, 13:00-17:30" for d in range(5)}
    week["day5"] = "09:00-24:00"
    response = client.post(f"/admin/hours/{schedule.id}/week",
                           data={"csrf_token": token(client), **week})
    assert response.status_code == 302
    rows = {(r.weekday, r.opens, r.closes) for r in schedule.hours}
    assert len(rows) == 11 and (5, "09:00", "24:00") in rows and (0, "13:00", "17:30") in rows
    assert "08:30-12:00, 13:00-17:30" in client.get("/admin/hours").text
    assert hours.dropped == ["heating", "heating"]
    assert [e.action for e in AuditLog.select().order_by(AuditLog.id)] == \
        ["schedule.create", "schedule.hours"]


@pytest.mark.parametrize("text", ["9:00-12:00", "09:00-25:00", "12:00-09:00", "09:00",
                                  "09:60-10:00", "abc"])
def test_bad_hours_are_refused_and_the_week_kept(client, text):
    schedule = Schedule.create(name="gas")  # the migrations add 'default' and '24h'
    ScheduleHours.create(schedule=schedule, weekday=0, opens="08:00", closes="17:00")
    response = client.post(f"/admin/hours/{schedule.id}/week",
                           data={"csrf_token": token(client), "day0": text})
    assert response.status_code == 400 and 'class="error"' in response.text
    assert [(r.opens, r.closes) for r in schedule.hours] == [("08:00", "17:00")]


def test_unknown_time_zone_and_duplicate_name(client):
    assert client.post("/admin/hours", data={
        "csrf_token": token(client), "name": "x", "timezone": "Mars/Olympus"}).status_code == 400
    Schedule.create(name="gas")
    assert client.post("/admin/hours", data={
        "csrf_token": token(client), "name": "gas", "timezone": "UTC"}).status_code == 409


def test_holidays_closed_and_workday(client, hours):
    schedule = Schedule.create(name="gas")
    assert client.post("/admin/hours/holidays", data={
        "csrf_token": token(client), "day": "2026-10-01", "kind": "closed",
        "name": "国庆节", "schedule": ""}).status_code == 302
    assert client.post("/admin/hours/holidays", data={
        "csrf_token": token(client), "day": "2026-10-11", "kind": "workday",
        "schedule": str(schedule.id), "opens": "09:00", "closes": "17:00"}).status_code == 302
    rows = {(h.day, h.kind, h.schedule_id, h.opens) for h in Holiday.select()}
    assert rows == {(datetime.date(2026, 10, 1), "closed", None, None),
                    (datetime.date(2026, 10, 11), "workday", schedule.id, "09:00")}
    html = client.get("/admin/hours").text
    assert "国庆节" in html and "09:00-17:00" in html
    holiday = Holiday.get(kind="closed")
    assert client.post(f"/admin/hours/holidays/{holiday.id}/delete",
                       data={"csrf_token": token(client)}).status_code == 302
    assert Holiday.select().count() == 1
    assert hours.dropped == [None, "gas", None]


@pytest.mark.parametrize("fields", [
    {"day": "2026-13-01", "kind": "closed"},
    {"day": "2026-10-01", "kind": "holiday"},
    {"day": "2026-10-01", "kind": "closed", "opens": "09:00", "closes": "17:00"},
    {"day": "2026-10-01", "kind": "workday", "opens": "09:00"},
    {"day": "2026-10-01", "kind": "workday", "opens": "18:00", "closes": "09:00"},
    {"day": "2026-10-01", "kind": "workday", "opens": "9:00", "closes": "17:00"},
    {"day": "2026-10-01", "kind": "closed", "schedule": "999"},
])
def test_bad_holidays_are_refused(client, fields):
    response = client.post("/admin/hours/holidays",
                           data={"csrf_token": token(client), **fields})
    assert response.status_code == 400
    assert not Holiday.select().exists()
