import datetime
from decimal import Decimal

import peewee
import pytest

from db.models import (Agent, BillingAccount, BlacklistEntry, CallbackRequest, CallNote,
                       CallRecord, Customer, CustomerPhone, Holiday, IvrNodeStat,
                       IvrTransitionStat, NoteCategory, Queue, Schedule, ScheduleHours,
                       SurveyResult, Tier, User, VoicemailMessage)
from db.phone import PhoneNumberError, to_e164, try_e164
from db.sample_data import SAMPLE_BILLING, load_sample_billing


@pytest.mark.parametrize("raw, expected", [
    ("138 0013 8000", "+8613800138000"),
    ("+86 138-0013-8000", "+8613800138000"),
    ("010 6552 9988", "+861065529988"),
    ("008613800138000", "+8613800138000"),
])
def test_e164(raw, expected):
    assert to_e164(raw) == expected


@pytest.mark.parametrize("raw", ["", "abc", "1234", "138001380001234"])
def test_e164_rejects(raw):
    with pytest.raises(PhoneNumberError):
        to_e164(raw)
    assert try_e164(raw) is None


def test_customer_found_by_any_of_its_numbers(db):
    zhang = Customer.create(name="张三", address="幸福小区3号楼2单元101", region="和平区",
                            community="幸福社区", custom_fields={"热力账号": "RL-0091"})
    CustomerPhone.create(customer=zhang, e164=to_e164("13800138000"), label="mobile")
    CustomerPhone.create(customer=zhang, e164=to_e164("010 6552 9988"), label="home")
    found = (Customer.select().join(CustomerPhone)
             .where(CustomerPhone.e164 == "+861065529988").get())
    assert found.id == zhang.id
    assert found.custom_fields == {"热力账号": "RL-0091"}


def test_call_record_round_trip(db):
    agent = Agent.create(extension="1001", display_name="王芳", sip_password="x" * 16)
    start = datetime.datetime(2026, 11, 22, 8, 30, 0)
    CallRecord.create(call_uuid="c1", direction="inbound", caller="13800138000",
                      caller_e164="+8613800138000", did="12345", flow="main", queue="repair",
                      agent=agent, start_at=start, answer_at=start + datetime.timedelta(seconds=21),
                      call_data={"ivr": {"account": "RL-0091", "path": "1>2"}})
    call = CallRecord.get(CallRecord.call_uuid == "c1")
    assert call.call_data["ivr"]["account"] == "RL-0091"
    assert (call.answer_at - call.start_at).seconds == 21
    assert call.agent.display_name == "王芳"


def test_no_survey_score_counted_twice(db):
    SurveyResult.create(call_uuid="c9", score=5)
    with pytest.raises(peewee.IntegrityError):
        with db.atomic():
            SurveyResult.create(call_uuid="c9", score=1)
    assert SurveyResult.select().count() == 1


def test_tier_unique_and_cascades(db):
    queue = Queue.create(name="repair")
    agent = Agent.create(extension="1002", display_name="李雷", sip_password="y" * 16)
    Tier.create(queue=queue, agent=agent, level=1, position=1)
    with pytest.raises(peewee.IntegrityError):
        with db.atomic():
            Tier.create(queue=queue, agent=agent, level=2)
    agent.delete_instance()
    assert Tier.select().count() == 0


def test_deleting_a_user_keeps_their_notes(db):
    user = User.create(username="amy", password_hash="h", role="agent")
    note = CallNote.create(author=user, text="暖气不热",
                           category=NoteCategory.get(code="complaint"))
    BlacklistEntry.create(pattern="170", is_prefix=True, reason="骚扰", created_by=user)
    user.delete_instance()
    assert CallNote.get_by_id(note.id).author is None
    assert BlacklistEntry.get().created_by is None


def test_sample_billing(db):
    assert load_sample_billing(db) == len(SAMPLE_BILLING) >= 12
    assert load_sample_billing(db) == 0  # again: nothing new
    assert {a.company for a in BillingAccount.select()} == {"heating", "gas", "water"}
    for account in BillingAccount.select():
        no = account.account_no
        assert len(no) == 8 and no.isdigit(), no
        assert all(a != b for a, b in zip(no, no[1:])), f"{no} repeats a digit"
    bill = BillingAccount.get(account_no="20481357")
    assert bill.amount_due == Decimal("1234.50") and bill.company == "heating"
    assert bill.due_date == datetime.date(2026, 12, 31)
    # the query the heating sample flow runs
    row = db.execute_sql("SELECT amount_due, due_date FROM billing_account "
                         "WHERE account_no = %s AND company = 'heating'" % db.param,
                         ("20481357",)).fetchone()
    assert Decimal(str(row[0])) == Decimal("1234.50")


def test_ivr_stats_one_row_per_day_flow_node(db):
    day = datetime.date(2026, 11, 23)
    IvrNodeStat.create(day=day, flow="heating_main", node="main_menu", entered=3)
    IvrTransitionStat.create(day=day, flow="heating_main", from_node="main_menu",
                             to_node="ask_account", taken=2)
    with pytest.raises(peewee.IntegrityError):
        with db.atomic():
            IvrNodeStat.create(day=day, flow="heating_main", node="main_menu")
    with pytest.raises(peewee.IntegrityError):
        with db.atomic():
            IvrTransitionStat.create(day=day, flow="heating_main", from_node="main_menu",
                                     to_node="ask_account")
    (IvrNodeStat.update(entered=IvrNodeStat.entered + 1, hung_up=IvrNodeStat.hung_up + 1)
     .where(IvrNodeStat.day == day, IvrNodeStat.node == "main_menu").execute())
    stat = IvrNodeStat.get()
    assert (stat.entered, stat.hung_up) == (4, 1)


def test_voicemail_task_keeps_its_message_when_the_agent_goes(db):
    user = User.create(username="li", password_hash="h", role="agent")
    message = VoicemailMessage.create(call_uuid="c1", box="gov12345", caller="13800138000",
                                      did="12345", file_path="/var/lib/hotline/vm/c1.wav",
                                      seconds=42, call_data={"ticket": {"kind": "complaint"}})
    assert VoicemailMessage.get_by_id(message.id).status == "new"
    message.status, message.taken_by = "taken", user
    message.save()
    user.delete_instance()
    message = VoicemailMessage.get_by_id(message.id)
    assert message.taken_by is None and message.status == "taken"
    assert message.call_data == {"ticket": {"kind": "complaint"}}


def test_callbacks_in_queue_order(db):
    early = datetime.datetime(2026, 11, 23, 9, 0, 5)
    CallbackRequest.create(call_uuid="b", queue="default", number="+8613900139000",
                           position_time=early + datetime.timedelta(seconds=30))
    CallbackRequest.create(call_uuid="a", queue="default", number="+8613800138000",
                           position_time=early)
    pending = (CallbackRequest.select()
               .where(CallbackRequest.status == "pending", CallbackRequest.queue == "default")
               .order_by(CallbackRequest.position_time))
    assert [c.call_uuid for c in pending] == ["a", "b"]
    assert pending[0].attempts == 0 and pending[0].call_data == {}


def test_deleting_a_schedule_deletes_its_rows_but_not_shared_holidays(db):
    schedule = Schedule.create(name="tmp")
    Holiday.create(schedule=schedule, day=datetime.date(2026, 10, 1), kind="closed")
    Holiday.create(day=datetime.date(2026, 10, 1), name="国庆节", kind="closed")
    ScheduleHours.create(schedule=schedule, weekday=0, opens="08:00", closes="17:00")
    schedule.delete_instance()
    assert [h.name for h in Holiday.select()] == ["国庆节"]
    assert ScheduleHours.select().where(ScheduleHours.schedule == schedule.id).count() == 0


def test_billing_account_keeps_when_its_customer_goes(db):
    customer = Customer.create(name="张三")
    BillingAccount.create(account_no="20481357", company="heating", customer=customer,
                          amount_due=Decimal("12.30"))
    customer.delete_instance()
    assert BillingAccount.get().customer is None
