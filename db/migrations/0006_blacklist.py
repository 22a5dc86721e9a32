"""Blocked calls: one row per call the switch refused because of a blacklist entry
(the entries themselves are in 0003_crm's blacklist_entry)."""
import datetime

from peewee import CharField, DateTimeField, ForeignKeyField

from db.migrations._frozen import base, existing


def _tables(db):
    Base = base(db)
    BlacklistEntry = existing(Base, "blacklist_entry")

    class BlockedCall(Base):
        call_uuid = CharField(max_length=64, unique=True)
        caller = CharField(max_length=64, default="")
        did = CharField(max_length=32, default="")
        entry = ForeignKeyField(BlacklistEntry, null=True, on_delete="SET NULL")
        pattern = CharField(max_length=32, default="")
        at = DateTimeField(default=datetime.datetime.utcnow, index=True)

    return [BlockedCall]


def up(migrator, db):
    db.create_tables(_tables(db))


def down(migrator, db):
    db.drop_tables(_tables(db))
