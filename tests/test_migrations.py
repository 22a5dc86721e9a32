from playhouse.schema_diff import diff_models

from db import migrate
from db.models import MODELS, NoteCategory


def test_all_the_way_up_matches_the_models(db):
    assert migrate.pending(db) == []
    diff = diff_models(db, MODELS)
    assert not diff, str(diff)


def test_all_the_way_down_and_up_again(db):
    tables = set(db.get_tables())
    assert {m._meta.table_name for m in MODELS} <= tables
    reverted = migrate.downgrade(db, everything=True)
    assert reverted == ["0003_crm", "0002_telephony", "0001_accounts"]
    assert set(db.get_tables()) == {"schema_migration"}
    assert migrate.upgrade(db) == ["0001_accounts", "0002_telephony", "0003_crm"]
    assert set(db.get_tables()) == tables


def test_stepwise(db):
    assert migrate.downgrade(db) == ["0003_crm"]
    assert "customer" not in db.get_tables() and "agent" in db.get_tables()
    assert migrate.downgrade(db, "1") == ["0002_telephony", "0001_accounts"]
    assert migrate.upgrade(db, "2") == ["0001_accounts", "0002_telephony"]
    assert migrate.pending(db) == ["0003_crm"]


def test_default_category_tree_seeded(db):
    codes = [c.code for c in NoteCategory.select().order_by(NoteCategory.position)]
    assert codes[:3] == ["consult", "repair", "complaint"]
    assert NoteCategory.get(code="repair").name_zh == "报修"
