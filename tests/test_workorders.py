"""Work orders on both databases: the workflow's per-role transitions, SLA deadlines
in business hours (nights, weekends, holidays, 调休), timers that fire once (also
across a restart and under APScheduler), extensions, revisits and the figures.
The seeded `default` schedule is Mon-Fri 08:00-12:00, 13:30-17:30 Asia/Shanghai;
2026-11-23 is a Monday."""
import datetime
import io
from zoneinfo import ZoneInfo

import pytest

from db.models import (
    ROLES,
    CallRecord,
    Customer,
    Department,
    DepartmentMember,
    Holiday,
    Notification,
    RevisitTask,
    SlaRule,
    SlaTimer,
    WorkOrder,
    WorkOrderAttachment,
    WorkOrderEvent,
)
from esl_apps.ivr.hours import Hours
from esl_apps.workorders import figures, storage
from esl_apps.workorders.calendar import BusinessCalendar
from esl_apps.workorders.defaults import DEFAULT_WORKFLOW, default_sla_rules
from esl_apps.workorders.service import OrderService, Refused, load_workflow
from esl_apps.workorders.timers import SlaTimers
from esl_apps.workorders.workflow import Workflow, WorkflowError, check
from tests.pgcluster import wait_for
from tests.webpanel import add_user

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utc(text):
    """'2026-11-23 09:00' Shanghai wall time -> naive UTC, as stored."""
    local = datetime.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)
    return local.astimezone(datetime.UTC).replace(tzinfo=None)


def local(value):
    return value.replace(tzinfo=datetime.UTC).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


class Clock:
    def __init__(self, text):
        self.value = utc(text)

    def set(self, text):
        self.value = utc(text)

    def __call__(self):
        return self.value


@pytest.fixture
def clock():
    return Clock("2026-11-23 09:00")


@pytest.fixture
def svc(db, clock):
    return OrderService(Hours(db), now=clock)


@pytest.fixture
def crew(db):
    """A department with a lead and a field worker, both reachable."""
    dept = Department.create(name="维修一班", email="crew1@example.com", phone="+8613800000001")
    worker = add_user("wang", "field", display_name="王师傅")
    lead = add_user("zhao", "supervisor", display_name="赵班长")
    DepartmentMember.create(department=dept, user=worker, phone="+8613800000002")
    DepartmentMember.create(department=dept, user=lead, lead=True, email="zhao@example.com")
    return {"dept": dept, "worker": worker, "lead": lead}


def make(svc, crew=None, **fields):
    values = {"title": "暖气不热", "type": "repair", "priority": "medium",
              "contact_name": "李女士", "contact_phone": "+8613912345678", "region": "东城区"}
    if crew is not None:
        values.update(department=crew["dept"], assignee=crew["worker"])
    values.update(fields)
    agent = add_user(f"agent{WorkOrder.select().count()}", "agent")
    return svc.create(agent, **values)


# -- the workflow -------------------------------------------------------------

def test_seeded_workflow_and_rules_match_the_defaults(db):
    assert load_workflow() == Workflow.from_definition(DEFAULT_WORKFLOW)
    rules = {(r.type, r.priority): (r.response_minutes, r.resolve_minutes, r.warn_before,
                                    r.schedule) for r in SlaRule.select()}
    assert rules == {(r["type"], r["priority"]): (r["response_minutes"], r["resolve_minutes"],
                                                  r["warn_before"], r["schedule"])
                     for r in default_sla_rules()}
    assert rules[("repair", "urgent")][3] == "24h"


DEFAULT_MOVES = [(t["from"], t["to"]) for t in DEFAULT_WORKFLOW["transitions"]]
ALLOWED = {("dispatched", "repairing"): {"field", "supervisor", "admin"},
           ("repairing", "repaired"): {"field", "supervisor", "admin"},
           ("repaired", "revisit"): {"agent", "supervisor", "admin"},
           ("revisit", "closed"): {"agent", "supervisor", "admin"},
           ("revisit", "dispatched"): {"agent", "supervisor", "admin"}}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("source, target", DEFAULT_MOVES)
def test_each_roles_allowed_and_denied_transitions(svc, role, source, target):
    order = make(svc)
    WorkOrder.update(state=source).where(WorkOrder.id == order.id).execute()
    order = WorkOrder.get_by_id(order.id)
    user = add_user(f"u_{role}", role)
    if role in ALLOWED[(source, target)]:
        svc.transition(order, target, user, role, "ok")
        assert WorkOrder.get_by_id(order.id).state == target
        last = WorkOrderEvent.select().where(WorkOrderEvent.order == order.id) \
            .order_by(WorkOrderEvent.id.desc()).first()
        assert (last.kind, last.from_state, last.to_state, last.actor) == \
            ("transition", source, target, f"u_{role}")
    else:
        with pytest.raises(Refused):
            svc.transition(order, target, user, role)
        assert WorkOrder.get_by_id(order.id).state == source


@pytest.mark.parametrize("role", ROLES)
def test_no_role_skips_steps(svc, role):
    order = make(svc)
    with pytest.raises(Refused):
        svc.transition(order, "closed", add_user("skipper", role), role)


def test_a_stale_order_is_refused(svc, crew):
    order = make(svc, crew)
    stale = WorkOrder.get_by_id(order.id)
    svc.transition(order, "repairing", crew["worker"], "field")
    stale.state = "dispatched"
    with pytest.raises(Refused, match="meanwhile"):
        svc.transition(stale, "repairing", crew["worker"], "field")


def test_workflow_check_names_every_problem():
    broken = {"initial": "new", "states": [
        {"code": "new", "zh": "新", "en": "New"},
        {"code": "lost", "zh": "丢", "en": "Lost"},
        {"code": "Bad Code", "zh": "x", "en": "x"}],
        "transitions": [{"from": "new", "to": "gone", "roles": ["wizard"], "zh": "x"}]}
    problems = check(broken)
    text = "\n".join(problems)
    assert "Bad Code" in text and "no state is marked final" in text
    assert "'to' is not one of the states" in text and "wizard" in text
    assert "needs a label in 'en'" in text
    unreachable = {"initial": "a", "states": [{"code": "a", "zh": "a", "en": "a"},
                                              {"code": "b", "zh": "b", "en": "b"},
                                              {"code": "z", "zh": "z", "en": "z",
                                               "final": True}],
                   "transitions": [{"from": "a", "to": "z", "roles": ["agent"],
                                    "zh": "x", "en": "x"}]}
    assert check(unreachable) == ["state b: cannot be reached from a",
                                  "state b: not final and no transition leaves it"]
    with pytest.raises(WorkflowError):
        Workflow.from_definition(unreachable)
    assert check(DEFAULT_WORKFLOW) == []


# -- business-hours deadlines -------------------------------------------------

@pytest.mark.parametrize("start, minutes, due", [
    ("2026-11-23 09:00", 0, "2026-11-23 09:00"),
    ("2026-11-23 10:00", 120, "2026-11-23 12:00"),
    ("2026-11-23 10:00", 150, "2026-11-23 14:00"),        # over the lunch break
    ("2026-11-23 06:00", 10, "2026-11-23 08:10"),         # before opening
    ("2026-11-23 17:00", 60, "2026-11-24 08:30"),         # over the night
    ("2026-11-23 12:30", 30, "2026-11-23 14:00"),         # made during lunch
    ("2026-11-27 17:00", 60, "2026-11-30 08:30"),         # Friday evening -> Monday
    ("2026-11-28 10:00", 30, "2026-11-30 08:30"),         # made on a Saturday
    ("2026-11-23 09:00", 960, "2026-11-25 09:00"),        # two working days
])
def test_deadline_in_business_hours(db, start, minutes, due):
    calendar = BusinessCalendar(Hours(db))
    assert local(calendar.add("default", utc(start), minutes)) == due


def test_deadline_skips_holidays_and_counts_tiaoxiu_workdays(db):
    """National day 2026: Oct 1-7 closed, Saturday Oct 10 worked (调休, Monday's hours)."""
    for day in range(1, 8):
        Holiday.create(day=datetime.date(2026, 10, day), name="国庆节", kind="closed")
    Holiday.create(day=datetime.date(2026, 10, 10), name="国庆调休", kind="workday")
    calendar = BusinessCalendar(Hours(db))
    assert local(calendar.add("default", utc("2026-09-30 17:00"), 60)) == "2026-10-08 08:30"
    assert local(calendar.add("default", utc("2026-10-09 17:00"), 60)) == "2026-10-10 08:30"
    assert local(calendar.add("default", utc("2026-10-10 11:30"), 60)) == "2026-10-10 14:00"
    # without the 调休 row that Saturday would not count
    Holiday.delete().where(Holiday.kind == "workday").execute()
    calendar = BusinessCalendar(Hours(db, ttl=0))
    assert local(calendar.add("default", utc("2026-10-09 17:00"), 60)) == "2026-10-12 08:30"


def test_urgent_repairs_count_around_the_clock(svc):
    svc.now.set("2026-11-28 03:00")   # a Saturday night
    order = make(svc, type="repair", priority="urgent")
    assert order.sla_schedule == "24h"
    assert order.number.startswith("20261128")   # the local day (UTC is still Friday)
    assert local(order.response_due_at) == "2026-11-28 03:30"
    assert local(order.resolve_due_at) == "2026-11-28 07:00"


def test_order_gets_deadlines_timers_history_and_a_dispatch_notice(svc, crew):
    order = make(svc, crew)
    assert order.number == "20261123" + f"{order.id:06d}"
    assert order.state == "dispatched"
    assert (order.response_limit, order.resolve_limit, order.warn_before) == (120, 960, 30)
    assert local(order.response_due_at) == "2026-11-23 11:00"
    assert local(order.resolve_due_at) == "2026-11-25 09:00"
    timers = {t.kind: local(t.due_at) for t in SlaTimer.select().where(SlaTimer.order == order.id)}
    assert timers == {"response_warning": "2026-11-23 10:30",
                      "response_breach": "2026-11-23 11:00",
                      "resolve_warning": "2026-11-25 08:30",
                      "resolve_breach": "2026-11-25 09:00"}
    assert [e.kind for e in order.events] == ["created"]
    sent = Notification.select().where(Notification.order_id == order.id,
                                       Notification.event == "dispatch")
    assert {n.recipient for n in sent} == {"+8613800000002"}   # the assigned worker
    assert order.number in sent[0].body


def test_order_from_a_call_copies_customer_ivr_data_and_recording(svc, db):
    from db.models import Recording
    customer = Customer.create(name="李女士", address="和平路1号")
    call = CallRecord.create(call_uuid="c-1", direction="inbound", customer=customer,
                             call_data={"account": "20481357", "menu": "报修"})
    Recording.create(call=call, call_uuid="c-1", path="2026/c-1.wav", seconds=42)
    order = make(svc, call=call)
    assert order.customer_id == customer.id
    assert order.call_data == {"account": "20481357", "menu": "报修"}
    [att] = WorkOrderAttachment.select().where(WorkOrderAttachment.order == order.id)
    assert att.kind == "recording" and att.recording.call_uuid == "c-1"


# -- timers ---------------------------------------------------------------------

def _events(order, kind):
    return WorkOrderEvent.select().where(WorkOrderEvent.order == order.id,
                                         WorkOrderEvent.kind == kind).count()


def _notes(order, event):
    return Notification.select().where(Notification.order_id == order.id,
                                       Notification.event == event).count()


def test_warning_and_escalation_fire_exactly_once_also_after_a_restart(svc, db, crew, clock):
    order = make(svc, crew)
    timers = SlaTimers(db, now=clock)
    clock.set("2026-11-23 10:29")
    assert timers.run() == 0
    clock.set("2026-11-23 10:30")
    assert timers.run() == 1
    assert timers.run() == 0
    assert _events(order, "sla_warning") == 1
    assert _notes(order, "sla_warning") == 1          # the worker's phone
    clock.set("2026-11-23 11:05")
    assert SlaTimers(db, now=clock).run() == 1        # a new instance: a restart
    assert SlaTimers(db, now=clock).run() == 0
    order = WorkOrder.get_by_id(order.id)
    assert order.escalated_at == utc("2026-11-23 11:05")
    assert _events(order, "sla_breach") == 1
    # the breach goes to the lead's e-mail, the desk's e-mail and phone, the worker
    recipients = {n.recipient for n in Notification.select().where(
        Notification.order_id == order.id, Notification.event == "sla_breach")}
    assert recipients == {"zhao@example.com", "crew1@example.com", "+8613800000001",
                          "+8613800000002"}
    timer = SlaTimer.get(SlaTimer.order == order.id, SlaTimer.kind == "response_breach")
    assert SlaTimers(db, now=clock).fire(timer.id, clock()) == 0   # a late second claimer


def test_a_failure_before_the_commit_leaves_the_timer_for_the_next_run(svc, db, crew, clock,
                                                                      monkeypatch):
    from esl_apps.workorders import timers as timers_module
    order = make(svc, crew)
    clock.set("2026-11-23 10:31")
    real = timers_module.notices.notify
    calls = []

    def flaky(*args, **kw):
        calls.append(args[0])
        if len(calls) == 1:
            raise OSError("disk full")   # e.g. the outbox write fails
        return real(*args, **kw)

    monkeypatch.setattr(timers_module.notices, "notify", flaky)
    assert SlaTimers(db, now=clock).run() == 0          # rolled back: event and claim
    assert _events(order, "sla_warning") == 0
    assert SlaTimer.get(SlaTimer.kind == "response_warning").fired_at is None
    assert SlaTimers(db, now=clock).run() == 1
    assert SlaTimers(db, now=clock).run() == 0
    assert (_events(order, "sla_warning"), _notes(order, "sla_warning")) == (1, 1)


def test_meeting_the_response_deadline_cancels_its_timers(svc, db, crew, clock):
    order = make(svc, crew)
    clock.set("2026-11-23 09:10")
    svc.transition(order, "repairing", crew["worker"], "field")
    assert WorkOrder.get_by_id(order.id).responded_at == utc("2026-11-23 09:10")
    clock.set("2026-11-23 12:00")
    assert SlaTimers(db, now=clock).run() == 0
    assert _events(order, "sla_warning") == 0
    clock.set("2026-11-25 08:31")
    assert SlaTimers(db, now=clock).run() == 1        # the resolution warning still comes


def test_jobs_under_apscheduler_fire_once_across_a_restart(svc, db, crew, clock):
    from apscheduler.schedulers.background import BackgroundScheduler

    from esl_apps.jobs.sla_timers import add_sla_job
    first = make(svc, crew)
    clock.set("2026-11-23 11:30")   # both response timers of `first` are due
    scheduler = BackgroundScheduler()
    add_sla_job(scheduler, db, now=clock, every_seconds=0.05)
    scheduler.start()
    try:
        assert wait_for(lambda: _events(first, "sla_breach") == 1, timeout=10)
    finally:
        scheduler.shutdown(wait=True)
    # a restart: a new scheduler over the same database
    clock.set("2026-11-23 11:31")
    second = make(svc, crew, priority="urgent")       # due 30 minutes from 11:31
    clock.set("2026-11-23 12:10")
    scheduler = BackgroundScheduler()
    add_sla_job(scheduler, db, now=clock, every_seconds=0.05)
    scheduler.start()
    try:
        assert wait_for(lambda: _events(second, "sla_breach") == 1, timeout=10)
        runs = scheduler.get_job("sla_timers")
        assert runs is not None
    finally:
        scheduler.shutdown(wait=True)
    assert (_events(first, "sla_warning"), _events(first, "sla_breach")) == (1, 1)
    assert (_notes(first, "sla_warning"), _notes(first, "sla_breach")) == (1, 4)
    assert _events(second, "sla_warning") == 1
    fired = SlaTimer.select().where(SlaTimer.fired_at.is_null(False)).count()
    assert fired == 4


# -- extensions and revisits --------------------------------------------------

def test_extension_requested_approved_and_refused(svc, db, crew, clock):
    order = make(svc, crew)
    ext = svc.request_extension(order, crew["worker"], 120, "缺配件")
    with pytest.raises(Refused):
        svc.request_extension(order, crew["worker"], 60, "again")
    svc.decide_extension(ext, crew["lead"], True, "同意")
    order = WorkOrder.get_by_id(order.id)
    assert order.resolve_limit == 1080
    assert local(order.resolve_due_at) == "2026-11-25 11:00"
    pending = {t.kind: local(t.due_at) for t in SlaTimer.select().where(
        SlaTimer.order == order.id, SlaTimer.cancelled_at.is_null(),
        SlaTimer.kind.startswith("resolve"))}
    assert pending == {"resolve_warning": "2026-11-25 10:30",
                       "resolve_breach": "2026-11-25 11:00"}
    with pytest.raises(Refused):
        svc.decide_extension(ext, crew["lead"], False)
    refused = svc.request_extension(order, crew["worker"], 60, "再延")
    svc.decide_extension(refused, crew["lead"], False, "不同意")
    assert WorkOrder.get_by_id(order.id).resolve_due_at == order.resolve_due_at
    kinds = [e.kind for e in order.events.order_by(WorkOrderEvent.id)]
    assert kinds[-4:] == ["extension_requested", "extension_approved",
                          "extension_requested", "extension_refused"]


def test_failed_revisit_redispatches_and_a_good_one_closes(svc, db, crew, clock):
    order = make(svc, crew)
    agent = add_user("revisit_agent", "agent")
    svc.transition(order, "repairing", crew["worker"], "field")
    clock.set("2026-11-23 15:00")
    svc.transition(order, "repaired", crew["worker"], "field", "换了阀门")
    [task] = RevisitTask.select().where(RevisitTask.order == order.id)
    svc.record_revisit(task, agent, "agent", "unreachable", "无人接听")
    assert RevisitTask.get_by_id(task.id).attempts == 1
    assert WorkOrder.get_by_id(order.id).state == "repaired"
    clock.set("2026-11-24 09:00")
    svc.record_revisit(RevisitTask.get_by_id(task.id), agent, "agent", "dissatisfied",
                       "还是不热")
    order = WorkOrder.get_by_id(order.id)
    assert (order.state, order.reopen_count, order.resolved_at) == ("dispatched", 1, None)
    assert local(order.resolve_due_at) == "2026-11-26 09:00"   # a new round from now
    assert _notes(order, "dispatch") == 2
    svc.transition(order, "repairing", crew["worker"], "field")
    svc.transition(WorkOrder.get_by_id(order.id), "repaired", crew["worker"], "field")
    second = RevisitTask.get(RevisitTask.order == order.id, RevisitTask.status == "pending")
    with pytest.raises(Refused):
        svc.record_revisit(second, crew["worker"], "field", "satisfied")
    svc.record_revisit(second, agent, "agent", "satisfied", "满意")
    order = WorkOrder.get_by_id(order.id)
    assert order.state == "closed" and order.closed_at and order.satisfaction == "satisfied"
    closed = Notification.select().where(Notification.order_id == order.id,
                                         Notification.event == "closed")
    assert [n.recipient for n in closed] == ["+8613912345678"]   # the customer's SMS
    states = [(e.from_state, e.to_state) for e in order.events.order_by(WorkOrderEvent.id)
              if e.kind == "transition"]
    assert states == [("dispatched", "repairing"), ("repairing", "repaired"),
                      ("repaired", "revisit"), ("revisit", "dispatched"),
                      ("dispatched", "repairing"), ("repairing", "repaired"),
                      ("repaired", "revisit"), ("revisit", "closed")]


# -- figures --------------------------------------------------------------------

def test_figures(svc, db, crew, clock):
    a = make(svc, crew, region="东城区")
    make(svc, crew, region="西城区", type="complaint")
    c = make(svc, crew, region="东城区", type="consult")
    svc.transition(a, "repairing", crew["worker"], "field")      # responded in time
    clock.set("2026-11-23 14:00")
    svc.transition(a, "repaired", crew["worker"], "field")
    WorkOrder.update(state="revisit").where(WorkOrder.id == a.id).execute()
    svc.transition(WorkOrder.get_by_id(a.id), "closed", crew["lead"], "supervisor")
    assert dict(figures.counts_by("region")) == {"东城区": 2, "西城区": 1}
    assert dict(figures.counts_by("type")) == {"repair": 1, "complaint": 1, "consult": 1}
    assert dict(figures.counts_by("state")) == {"dispatched": 2, "closed": 1}
    sla = figures.sla_compliance(now=utc("2026-11-23 14:00"))
    # response: a met; c (consult, due 11:00) passed unanswered; b (complaint) not yet due
    assert sla["response"] == {"met": 1, "missed": 1, "total": 2, "rate": 50.0}
    assert sla["resolve"]["met"] == 1
    assert figures.mean_time_to_close() == datetime.timedelta(hours=5)
    assert figures.summary()["total"] == 3
    assert c.id


# -- photo storage --------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def test_photos_are_sniffed_and_stored_under_random_names(tmp_path):
    name, kind, size = storage.save_photo(tmp_path, 7, io.BytesIO(PNG))
    assert kind == "image/png" and size == len(PNG) and name.endswith(".png")
    assert storage.photo_path(tmp_path, 7, name).read_bytes() == PNG
    with pytest.raises(storage.NotAnImage):
        storage.save_photo(tmp_path, 7, io.BytesIO(b"<svg onload=alert(1)>"))
    with pytest.raises(storage.NotAnImage):
        storage.save_photo(tmp_path, 7, io.BytesIO(PNG + b"x" * 100), max_bytes=80)
    for bad in ("../x.png", "", ".png", "a/b.png"):
        with pytest.raises(ValueError):
            storage.photo_path(tmp_path, 7, bad)
    assert sorted(p.name for p in (tmp_path / "workorders" / "7").iterdir()) == [name]


def test_hotline_run_schedules_the_sla_job(db, tmp_path):
    from esl_apps.config import Config
    from esl_apps.jobs import build_scheduler
    config = Config.model_validate({"paths": {"data_dir": str(tmp_path)}})
    job = build_scheduler(config, db).get_job("sla_timers")
    assert job is not None and job.trigger.interval == datetime.timedelta(seconds=30)
