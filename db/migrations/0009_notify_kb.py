"""Notifications (esl_apps.notify), the knowledge base with its search index, call
scripts (话术) per note category and desk notices.

Search index (webui.kb.search): kb_article.search_text holds title, tags and body
as tokens (CJK as character bigrams and unigrams). A side table outside the models
indexes it, kept in step by triggers so that no writer can forget it:
- SQLite: kb_article_fts, an FTS5 table over kb_article (external content);
- PostgreSQL: kb_article_fts (id, head, tsv) with a GIN index on tsv, built with
  array_to_tsvector over the whitespace-separated tokens (head: the first line,
  title and tags): the tokens are used as they are, with no parser or locale in
  between.
A later migration that rebuilds kb_article on SQLite (peewee's ALTER emulation
drops the table) must recreate the triggers and run the FTS5 'rebuild' command.
"""
import datetime

from peewee import (
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    PostgresqlDatabase,
    SmallIntegerField,
    TextField,
)

from db.migrations._frozen import base, existing

SQLITE_UP = [
    ("CREATE VIRTUAL TABLE kb_article_fts USING fts5(search_text, content='kb_article', "
     "content_rowid='id', tokenize='unicode61')"),
    ("CREATE TRIGGER kb_article_fts_ai AFTER INSERT ON kb_article BEGIN "
     "INSERT INTO kb_article_fts(rowid, search_text) VALUES (new.id, new.search_text); END"),
    ("CREATE TRIGGER kb_article_fts_ad AFTER DELETE ON kb_article BEGIN "
     "INSERT INTO kb_article_fts(kb_article_fts, rowid, search_text) "
     "VALUES ('delete', old.id, old.search_text); END"),
    ("CREATE TRIGGER kb_article_fts_au AFTER UPDATE OF search_text ON kb_article BEGIN "
     "INSERT INTO kb_article_fts(kb_article_fts, rowid, search_text) "
     "VALUES ('delete', old.id, old.search_text); "
     "INSERT INTO kb_article_fts(rowid, search_text) VALUES (new.id, new.search_text); END"),
]
SQLITE_DOWN = ["DROP TABLE IF EXISTS kb_article_fts"]  # the triggers go with kb_article

POSTGRES_UP = [
    ("CREATE TABLE kb_article_fts (id INTEGER PRIMARY KEY REFERENCES kb_article (id) "
     "ON DELETE CASCADE, head TSVECTOR NOT NULL, tsv TSVECTOR NOT NULL)"),
    "CREATE INDEX kb_article_fts_tsv ON kb_article_fts USING GIN (tsv)",
    ("CREATE FUNCTION kb_article_fts_sync() RETURNS trigger LANGUAGE plpgsql AS $$ "
     "BEGIN "
     "INSERT INTO kb_article_fts (id, head, tsv) VALUES (NEW.id, "
     "array_to_tsvector(array_remove(regexp_split_to_array("
     "split_part(NEW.search_text, E'\\n', 1), '\\s+'), '')), "
     "array_to_tsvector(array_remove(regexp_split_to_array(NEW.search_text, '\\s+'), ''))) "
     "ON CONFLICT (id) DO UPDATE SET head = EXCLUDED.head, tsv = EXCLUDED.tsv; "
     "RETURN NULL; "
     "END $$"),
    ("CREATE TRIGGER kb_article_fts_sync AFTER INSERT OR UPDATE OF search_text "
     "ON kb_article FOR EACH ROW EXECUTE FUNCTION kb_article_fts_sync()"),
]
POSTGRES_DOWN = ["DROP TABLE IF EXISTS kb_article_fts",
                 "DROP TRIGGER IF EXISTS kb_article_fts_sync ON kb_article",
                 "DROP FUNCTION IF EXISTS kb_article_fts_sync()"]


def _tables(db):
    now = datetime.datetime.utcnow

    Base = base(db)
    User = existing(Base, "user")
    NoteCategory = existing(Base, "note_category")

    class Notification(Base):
        event = CharField(max_length=32, index=True)
        order_id = IntegerField(null=True, index=True)
        channel = CharField(max_length=8)
        recipient = CharField(max_length=255)
        recipient_name = CharField(max_length=128, default="")
        language = CharField(max_length=8, default="zh")
        subject = CharField(max_length=255, default="")
        body = TextField()
        status = CharField(max_length=8, default="pending")
        attempts = SmallIntegerField(default=0)
        next_attempt_at = DateTimeField(default=now)
        claimed_by = CharField(max_length=32, default="")
        claimed_at = DateTimeField(null=True)
        last_error = CharField(max_length=512, default="")
        created_at = DateTimeField(default=now, index=True)
        sent_at = DateTimeField(null=True)

        class Meta:
            indexes = ((("status", "next_attempt_at"), False),)

    class KbCategory(Base):
        name = CharField(max_length=64, unique=True)
        position = SmallIntegerField(default=0)

    class KbArticle(Base):
        category = ForeignKeyField(KbCategory, null=True, on_delete="SET NULL")
        title = CharField(max_length=200)
        body = TextField(default="")
        tags = CharField(max_length=255, default="")
        search_text = TextField(default="")
        author = ForeignKeyField(User, null=True, on_delete="SET NULL")
        created_at = DateTimeField(default=now)
        updated_at = DateTimeField(default=now, index=True)

    class CallScript(Base):
        category = ForeignKeyField(NoteCategory, on_delete="CASCADE")
        title = CharField(max_length=200)
        body = TextField()
        position = SmallIntegerField(default=0)
        active = BooleanField(default=True)
        updated_at = DateTimeField(default=now)

    class Notice(Base):
        title = CharField(max_length=200)
        body = TextField(default="")
        active_from = DateTimeField(default=now)
        active_until = DateTimeField(null=True)
        audience_role = CharField(max_length=16, default="")
        created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        created_at = DateTimeField(default=now, index=True)

    return [Notification, KbCategory, KbArticle, CallScript, Notice]


def _is_postgres(db) -> bool:
    return isinstance(db, PostgresqlDatabase)


def up(migrator, db):
    db.create_tables(_tables(db))
    for sql in POSTGRES_UP if _is_postgres(db) else SQLITE_UP:
        db.execute_sql(sql)


def down(migrator, db):
    for sql in POSTGRES_DOWN if _is_postgres(db) else SQLITE_DOWN:
        db.execute_sql(sql)
    db.drop_tables(_tables(db))
