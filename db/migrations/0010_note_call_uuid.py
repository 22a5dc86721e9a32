"""A call note written while the call is still going has no call record yet (the
CDR comes at hangup): it keeps the call's UUID, and storing the CDR links it."""
from peewee import CharField


def up(migrator, db):
    migrator.migrate(migrator.add_column("call_note", "call_uuid",
                                         CharField(max_length=64, default="", index=True)))


def down(migrator, db):
    # SQLite rebuilds the table on DROP COLUMN and refuses while an index names it
    migrator.migrate(migrator.drop_index("call_note", "call_note_call_uuid"),
                     migrator.drop_column("call_note", "call_uuid"))
