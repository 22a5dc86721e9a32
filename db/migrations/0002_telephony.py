"""Agents, queues, tiers and DIDs: what mod_callcenter and the dialplan are fed from."""
import datetime

from peewee import (BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField,
                    SmallIntegerField, TextField)

from db.migrations._frozen import base, existing


def _tables(db):
    Base = base(db)
    User = existing(Base, "user")

    class Agent(Base):
        user = ForeignKeyField(User, null=True, unique=True, on_delete="SET NULL")
        extension = CharField(max_length=16, unique=True)
        display_name = CharField(max_length=128)
        sip_password = CharField(max_length=64)
        skills = TextField(default="[]")
        state = CharField(max_length=16, default="Logged Out")
        break_reason = CharField(max_length=64, default="")
        max_no_answer = SmallIntegerField(default=3)
        wrap_up_time = SmallIntegerField(default=10)
        reject_delay_time = SmallIntegerField(default=10)
        busy_delay_time = SmallIntegerField(default=60)
        no_answer_delay_time = SmallIntegerField(default=10)
        created_at = DateTimeField(default=datetime.datetime.utcnow)

    class Queue(Base):
        name = CharField(max_length=64, unique=True)
        display_name = CharField(max_length=128, default="")
        strategy = CharField(max_length=32, default="longest-idle-agent")
        moh_sound = CharField(max_length=255, default="local_stream://moh")
        record_calls = BooleanField(default=True)
        announce_frequency = SmallIntegerField(default=30)
        max_wait_time = IntegerField(default=0)
        max_wait_time_with_no_agent = IntegerField(default=0)
        tier_rules_apply = BooleanField(default=False)
        discard_abandoned_after = IntegerField(default=60)
        abandoned_resume_allowed = BooleanField(default=False)
        sticky_agent_days = SmallIntegerField(null=True)
        overflow_action = CharField(max_length=16, default="")
        overflow_target = CharField(max_length=64, default="")

    class Tier(Base):
        queue = ForeignKeyField(Queue, on_delete="CASCADE")
        agent = ForeignKeyField(Agent, on_delete="CASCADE")
        level = SmallIntegerField(default=1)
        position = SmallIntegerField(default=1)

        class Meta:
            indexes = ((("queue", "agent"), True),)

    class Did(Base):
        number = CharField(max_length=32, unique=True)
        flow = CharField(max_length=64)
        description = CharField(max_length=255, default="")
        language = CharField(max_length=8, default="zh_CN")
        enabled = BooleanField(default=True)

    return [Agent, Queue, Tier, Did]


def up(migrator, db):
    db.create_tables(_tables(db))


def down(migrator, db):
    db.drop_tables(_tables(db))
