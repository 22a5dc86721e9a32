"""Apply and revert the numbered migrations in db/migrations."""
from pathlib import Path

from playhouse.migrations import Runner

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def runner(db) -> Runner:
    return Runner(db, str(MIGRATIONS_DIR), table_name="schema_migration")


def status(db) -> list[tuple[str, bool]]:
    return [(m.name, m.applied is not None) for m in runner(db).status()]


def pending(db) -> list[str]:
    return [name for name, applied in status(db) if not applied]


def _resolve(db, target: str | None) -> str | None:
    """Accept '2' or '0002' or the full name '0002_telephony'."""
    if target is None:
        return None
    for name, _applied in status(db):
        if name == target or name.split("_", 1)[0].lstrip("0") == target.lstrip("0"):
            return name
    raise ValueError(f"no migration numbered {target!r}")


def upgrade(db, target: str | None = None) -> list[str]:
    return runner(db).up(_resolve(db, target))


def downgrade(db, target: str | None = None, everything: bool = False) -> list[str]:
    """One step back; to a named migration (reverting it too); or every step."""
    run = runner(db)
    if everything:
        applied = [name for name, done in status(db) if done]
        return run.down(applied[0]) if applied else []
    return run.down(_resolve(db, target))
