"""What every migration's frozen tables share: a base bound to the database the
runner hands in, and stand-ins for tables an earlier migration created (for
foreign keys). Not a migration itself: the runner loads only files named 0*.py."""
from peewee import Model


def base(db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    return Base


def existing(Base, table: str):
    """A model for a table made by an earlier migration, to point foreign keys at."""
    meta = type("Meta", (), {"table_name": table})
    return type(table.title().replace("_", ""), (Base,), {"Meta": meta})
