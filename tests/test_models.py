import datetime

import peewee
import pytest

from db.models import (Agent, BlacklistEntry, CallNote, CallRecord, Customer, CustomerPhone,
                       NoteCategory, Queue, SurveyResult, Tier, User)
from db.phone import PhoneNumberError, to_e164, try_e164


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
