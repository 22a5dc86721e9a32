"""Users with roles, and the audit log."""
import datetime

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, TextField

from db.migrations._frozen import base


def _tables(db):
    Base = base(db)

    class User(Base):
        username = CharField(max_length=64, unique=True)
        display_name = CharField(max_length=128, default="")
        password_hash = CharField(max_length=255)
        role = CharField(max_length=16)
        language = CharField(max_length=8, default="zh_CN")
        active = BooleanField(default=True)
        created_at = DateTimeField(default=datetime.datetime.utcnow)
        last_login_at = DateTimeField(null=True)

    class AuditLog(Base):
        at = DateTimeField(index=True)
        user = ForeignKeyField(User, null=True, on_delete="SET NULL")
        actor = CharField(max_length=64)
        action = CharField(max_length=64)
        object_type = CharField(max_length=32, default="")
        object_id = CharField(max_length=64, default="")
        detail = TextField(null=True)
        remote_addr = CharField(max_length=64, default="")

    return [User, AuditLog]


def up(migrator, db):
    db.create_tables(_tables(db))


def down(migrator, db):
    db.drop_tables(_tables(db))
