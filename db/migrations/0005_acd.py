"""Agent state log: every change of an agent's mod_callcenter status and state,
with its time and who made it (phone, hotline, reconciler)."""
import datetime

from peewee import CharField, DateTimeField, ForeignKeyField

from db.migrations._frozen import base, existing


def _tables(db):
    Base = base(db)
    Agent = existing(Base, "agent")

    class AgentStateLog(Base):
        agent = ForeignKeyField(Agent, on_delete="CASCADE")
        status = CharField(max_length=32)
        state = CharField(max_length=32, default="")
        reason = CharField(max_length=64, default="")
        source = CharField(max_length=16)
        at = DateTimeField(default=datetime.datetime.utcnow, index=True)

        class Meta:
            indexes = ((("agent", "at"), False),)

    return [AgentStateLog]


def up(migrator, db):
    db.create_tables(_tables(db))


def down(migrator, db):
    db.drop_tables(_tables(db))
