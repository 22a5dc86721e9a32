"""Agent-call recordings (and the per-day count of those that failed), and what
mod_callcenter says about a call's time in the queue (abandoned calls)."""
import datetime

from peewee import (BooleanField, CharField, DateField, DateTimeField, DecimalField,
                    ForeignKeyField, IntegerField)

from db.migrations._frozen import base, existing

CALL_RECORD_COLUMNS = {
    "queue_joined_at": lambda: DateTimeField(null=True),
    "queue_result": lambda: CharField(max_length=16, default=""),
    "queue_cancel_reason": lambda: CharField(max_length=32, default=""),
    "abandoned": lambda: BooleanField(default=False, index=True),
    "recording_status": lambda: CharField(max_length=8, default=""),
}


def _tables(db):
    now = datetime.datetime.utcnow

    Base = base(db)
    CallRecord = existing(Base, "call_record")
    Agent = existing(Base, "agent")

    class Recording(Base):
        call = ForeignKeyField(CallRecord, unique=True, on_delete="CASCADE")
        call_uuid = CharField(max_length=64, unique=True)
        path = CharField(max_length=512)
        format = CharField(max_length=8, default="wav")
        seconds = DecimalField(max_digits=10, decimal_places=2)
        size_bytes = IntegerField(default=0)
        agent = ForeignKeyField(Agent, null=True, on_delete="SET NULL")
        agent_name = CharField(max_length=64, default="")
        queue = CharField(max_length=64, default="", index=True)
        created_at = DateTimeField(default=now, index=True)
        compressed_at = DateTimeField(null=True)
        deleted_at = DateTimeField(null=True, index=True)

    class RecordingFailure(Base):
        day = DateField()
        reason = CharField(max_length=16)
        count = IntegerField(default=0)

        class Meta:
            indexes = ((("day", "reason"), True),)

    return [Recording, RecordingFailure]


def up(migrator, db):
    migrator.migrate(*[migrator.add_column("call_record", name, make())
                       for name, make in CALL_RECORD_COLUMNS.items()])
    db.create_tables(_tables(db))


def down(migrator, db):
    db.drop_tables(_tables(db))
    # SQLite rebuilds the table on DROP COLUMN and refuses while an index names it
    migrator.migrate(migrator.drop_index("call_record", "call_record_abandoned"),
                     *[migrator.drop_column("call_record", name)
                       for name in CALL_RECORD_COLUMNS])
