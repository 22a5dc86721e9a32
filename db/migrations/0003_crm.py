"""Customers, call records, notes with their category tree, blacklist, surveys."""
import datetime

from peewee import (BooleanField, CharField, DateTimeField, DecimalField, ForeignKeyField,
                    IntegerField, SmallIntegerField, TextField)

from db.migrations._frozen import base, existing

# The default note-category tree of the source documents; admins edit it later.
DEFAULT_CATEGORIES = [
    ("consult", "咨询", "Consultation"),
    ("repair", "报修", "Repair"),
    ("complaint", "投诉", "Complaint"),
    ("suggestion", "建议", "Suggestion"),
    ("praise", "表扬", "Praise"),
    ("other", "其他", "Other"),
]


def _tables(db):
    now = datetime.datetime.utcnow

    Base = base(db)
    User = existing(Base, "user")
    Agent = existing(Base, "agent")

    class Customer(Base):
        name = CharField(max_length=128, index=True)
        address = CharField(max_length=255, default="", index=True)
        region = CharField(max_length=64, default="", index=True)
        community = CharField(max_length=64, default="")
        account_no = CharField(max_length=64, null=True, unique=True)
        custom_fields = TextField(default="{}")
        remark = TextField(default="")
        created_at = DateTimeField(default=now)
        updated_at = DateTimeField(default=now)

    class CustomerPhone(Base):
        customer = ForeignKeyField(Customer, on_delete="CASCADE")
        e164 = CharField(max_length=20, index=True)
        label = CharField(max_length=32, default="")

        class Meta:
            indexes = ((("customer", "e164"), True),)

    class CallRecord(Base):
        call_uuid = CharField(max_length=64, unique=True)
        direction = CharField(max_length=8)
        caller = CharField(max_length=64, default="")
        caller_e164 = CharField(max_length=20, null=True, index=True)
        caller_name = CharField(max_length=128, default="")
        callee = CharField(max_length=64, default="")
        did = CharField(max_length=32, default="")
        flow = CharField(max_length=64, default="")
        queue = CharField(max_length=64, default="")
        agent = ForeignKeyField(Agent, null=True, on_delete="SET NULL")
        customer = ForeignKeyField(Customer, null=True, on_delete="SET NULL")
        start_at = DateTimeField(default=now, index=True)
        ring_at = DateTimeField(null=True)
        answer_at = DateTimeField(null=True)
        end_at = DateTimeField(null=True)
        hangup_cause = CharField(max_length=64, default="")
        wait_seconds = IntegerField(null=True)
        talk_seconds = IntegerField(null=True)
        call_data = TextField(default="{}")
        recording_path = CharField(max_length=512, default="")
        recording_seconds = DecimalField(max_digits=10, decimal_places=2, null=True)

    class NoteCategory(Base):
        parent = ForeignKeyField("self", null=True, on_delete="CASCADE")
        code = CharField(max_length=32, unique=True)
        name_zh = CharField(max_length=64)
        name_en = CharField(max_length=64)
        position = SmallIntegerField(default=0)
        active = BooleanField(default=True)

    class CallNote(Base):
        call = ForeignKeyField(CallRecord, null=True, on_delete="SET NULL")
        customer = ForeignKeyField(Customer, null=True, on_delete="SET NULL")
        author = ForeignKeyField(User, null=True, on_delete="SET NULL")
        category = ForeignKeyField(NoteCategory, null=True, on_delete="SET NULL")
        text = TextField()
        created_at = DateTimeField(default=now, index=True)

    class BlacklistEntry(Base):
        pattern = CharField(max_length=32, index=True)
        is_prefix = BooleanField(default=False)
        allow = BooleanField(default=False)
        did = CharField(max_length=32, null=True)
        reason = CharField(max_length=255, default="")
        expires_at = DateTimeField(null=True)
        created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        created_at = DateTimeField(default=now)

    class SurveyResult(Base):
        call_uuid = CharField(max_length=64)
        question = CharField(max_length=32, default="satisfaction")
        score = SmallIntegerField()
        agent = ForeignKeyField(Agent, null=True, on_delete="SET NULL")
        queue = CharField(max_length=64, default="")
        created_at = DateTimeField(default=now, index=True)

        class Meta:
            indexes = ((("call_uuid", "question"), True),)

    return [Customer, CustomerPhone, CallRecord, NoteCategory, CallNote,
            BlacklistEntry, SurveyResult]


def up(migrator, db):
    tables = _tables(db)
    db.create_tables(tables)
    category = tables[3]
    for position, (code, zh, en) in enumerate(DEFAULT_CATEGORIES):
        category.create(code=code, name_zh=zh, name_en=en, position=position)


def down(migrator, db):
    db.drop_tables(_tables(db))
