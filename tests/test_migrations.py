import uuid
from pathlib import Path

import peewee
from playhouse.schema_diff import diff_models

from db import migrate
from db.connect import open_database
from db.models import MODELS, NoteCategory, Schedule, ScheduleHours

ALL = sorted(p.stem for p in (Path(migrate.__file__).parent / "migrations").glob("[0-9]*.py"))


def test_all_the_way_up_matches_the_models(db):
    assert migrate.pending(db) == []
    diff = diff_models(db, MODELS)
    assert not diff, str(diff)


def test_all_the_way_down_and_up_again(db):
    tables = set(db.get_tables())
    assert {m._meta.table_name for m in MODELS} <= tables
    assert ALL[:4] == ["0001_accounts", "0002_telephony", "0003_crm", "0004_ivr"]
    reverted = migrate.downgrade(db, everything=True)
    assert reverted == ALL[::-1]
    assert set(db.get_tables()) == {"schema_migration"}
    assert migrate.upgrade(db) == ALL
    assert set(db.get_tables()) == tables


def test_stepwise(db):
    assert migrate.downgrade(db, "5") == ALL[4:][::-1]   # --to N reverts N and later
    assert migrate.downgrade(db) == ["0004_ivr"]
    assert "schedule" not in db.get_tables() and "customer" in db.get_tables()
    assert migrate.downgrade(db) == ["0003_crm"]
    assert "customer" not in db.get_tables() and "agent" in db.get_tables()
    assert migrate.downgrade(db, "1") == ["0002_telephony", "0001_accounts"]
    assert migrate.upgrade(db, "2") == ["0001_accounts", "0002_telephony"]
    assert migrate.pending(db) == ALL[2:]
    assert migrate.upgrade(db) == ALL[2:]
    assert Schedule.select().count() == 2


def test_default_category_tree_seeded(db):
    codes = [c.code for c in NoteCategory.select().order_by(NoteCategory.position)]
    assert codes[:3] == ["consult", "repair", "complaint"]
    assert NoteCategory.get(code="repair").name_zh == "报修"


def test_column_types_match_the_models(db, request, tmp_path):
    """schema_diff compares names only: also compare each column's type and
    nullability with what the models create in an empty database."""
    if isinstance(db, peewee.SqliteDatabase):
        url = f"sqlite:///{tmp_path / 'models.db'}"
    else:
        url = request.getfixturevalue("pg_cluster").create_database("m_" + uuid.uuid4().hex[:12])
    fresh = open_database(url)
    try:
        with fresh.bind_ctx(MODELS):
            fresh.create_tables(MODELS)
        for model in MODELS:
            table = model._meta.table_name
            expected = {c.name: (c.data_type.lower(), c.null) for c in fresh.get_columns(table)}
            actual = {c.name: (c.data_type.lower(), c.null) for c in db.get_columns(table)}
            assert actual == expected, table
    finally:
        fresh.close()


def test_default_schedules_seeded(db):
    def hours(name):
        return [(h.weekday, h.opens, h.closes) for h in ScheduleHours.select()
                .join(Schedule).where(Schedule.name == name)
                .order_by(ScheduleHours.weekday, ScheduleHours.opens)]

    assert hours("default")[:3] == [(0, "08:00", "12:00"), (0, "13:30", "17:30"),
                                     (1, "08:00", "12:00")]
    assert {day for day, _, _ in hours("default")} == set(range(5))
    assert hours("24h") == [(day, "00:00", "24:00") for day in range(7)]
    assert Schedule.get(name="default").timezone == "Asia/Shanghai"
    assert not Schedule.get(name="24h").observe_holidays
