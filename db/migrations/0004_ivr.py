"""What the IVR reads and writes: business-hours schedules and holidays, voicemail
messages and callback requests for agents to work from, per-day node and
transition counts, and the billing accounts the sample flows look up."""
import datetime

from peewee import (BooleanField, CharField, DateField, DateTimeField, DecimalField,
                    ForeignKeyField, IntegerField, SmallIntegerField, TextField)

from db.migrations._frozen import base, existing

# (name, description, observe_holidays, [(weekday, opens, closes)]); weekday 0 is Monday.
DEFAULT_SCHEDULES = [
    ("default", "工作日 08:00-12:00, 13:30-17:30 / weekdays with a lunch break", True,
     [(day, opens, closes) for day in range(5)
      for opens, closes in (("08:00", "12:00"), ("13:30", "17:30"))]),
    ("24h", "全天24小时 / open around the clock", False,
     [(day, "00:00", "24:00") for day in range(7)]),
]


def _tables(db):
    now = datetime.datetime.utcnow

    Base = base(db)
    User = existing(Base, "user")
    Customer = existing(Base, "customer")

    class Schedule(Base):
        name = CharField(max_length=64, unique=True)
        description = CharField(max_length=255, default="")
        timezone = CharField(max_length=64, default="Asia/Shanghai")
        observe_holidays = BooleanField(default=True)

    class ScheduleHours(Base):
        schedule = ForeignKeyField(Schedule, on_delete="CASCADE")
        weekday = SmallIntegerField()
        opens = CharField(max_length=5)
        closes = CharField(max_length=5)

    class Holiday(Base):
        schedule = ForeignKeyField(Schedule, null=True, on_delete="CASCADE")
        day = DateField(index=True)
        name = CharField(max_length=64, default="")
        kind = CharField(max_length=8, default="closed")
        opens = CharField(max_length=5, null=True)
        closes = CharField(max_length=5, null=True)

    class VoicemailMessage(Base):
        call_uuid = CharField(max_length=64, index=True)
        box = CharField(max_length=64, index=True)
        caller = CharField(max_length=64, default="")
        did = CharField(max_length=32, default="")
        file_path = CharField(max_length=512)
        seconds = IntegerField(default=0)
        created_at = DateTimeField(default=now, index=True)
        status = CharField(max_length=8, default="new", index=True)
        taken_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        call_data = TextField(default="{}")

    class CallbackRequest(Base):
        call_uuid = CharField(max_length=64, index=True)
        queue = CharField(max_length=64)
        number = CharField(max_length=20)
        caller = CharField(max_length=64, default="")
        created_at = DateTimeField(default=now)
        status = CharField(max_length=8, default="pending")
        attempts = SmallIntegerField(default=0)
        call_data = TextField(default="{}")
        position_time = DateTimeField(default=now)

        class Meta:
            indexes = ((("status", "queue", "position_time"), False),)

    class IvrNodeStat(Base):
        day = DateField()
        flow = CharField(max_length=64)
        node = CharField(max_length=64)
        entered = IntegerField(default=0)
        hung_up = IntegerField(default=0)

        class Meta:
            indexes = ((("day", "flow", "node"), True),)

    class IvrTransitionStat(Base):
        day = DateField()
        flow = CharField(max_length=64)
        from_node = CharField(max_length=64)
        to_node = CharField(max_length=64)
        taken = IntegerField(default=0)

        class Meta:
            indexes = ((("day", "flow", "from_node", "to_node"), True),)

    class BillingAccount(Base):
        account_no = CharField(max_length=32, unique=True)
        customer = ForeignKeyField(Customer, null=True, on_delete="SET NULL")
        company = CharField(max_length=16, index=True)
        amount_due = DecimalField(max_digits=12, decimal_places=2, default=0)
        due_date = DateField(null=True)
        address = CharField(max_length=255, default="")

    return [Schedule, ScheduleHours, Holiday, VoicemailMessage, CallbackRequest,
            IvrNodeStat, IvrTransitionStat, BillingAccount]


def up(migrator, db):
    tables = _tables(db)
    db.create_tables(tables)
    schedule, hours = tables[0], tables[1]
    for name, description, observe_holidays, rows in DEFAULT_SCHEDULES:
        created = schedule.create(name=name, description=description,
                                  observe_holidays=observe_holidays)
        for weekday, opens, closes in rows:
            hours.create(schedule=created, weekday=weekday, opens=opens, closes=closes)


def down(migrator, db):
    db.drop_tables(_tables(db))
