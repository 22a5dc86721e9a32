"""`hotline db upgrade|downgrade|status|load-samples`."""
import click

from db import migrate
from db.connect import open_database, redact
from esl_apps.cli import UserError


def _open(state):
    return open_database(state.config.database_url)


@click.group("db")
def db_group():
    """Apply or revert the numbered schema migrations."""


@db_group.command("upgrade")
@click.option("--to", "target", help="Stop after this migration number.")
@click.pass_obj
def upgrade(state, target):
    """Apply pending migrations."""
    db = _open(state)
    try:
        applied = migrate.upgrade(db, target)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    for name in applied:
        click.echo(f"applied {name}")
    click.echo(f"database {redact(state.config.database_url)} is at "
               f"{_current(db) or 'an empty schema'}")


@db_group.command("downgrade")
@click.option("--to", "target", help="Revert back through this migration number.")
@click.option("--all", "everything", is_flag=True, help="Revert every migration.")
@click.pass_obj
def downgrade(state, target, everything):
    """Revert the last migration (or back through --to, or --all)."""
    db = _open(state)
    try:
        reverted = migrate.downgrade(db, target, everything=everything)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    for name in reverted:
        click.echo(f"reverted {name}")
    click.echo(f"database is at {_current(db) or 'an empty schema'}")


@db_group.command("status")
@click.pass_obj
def status(state):
    """List migrations and whether each is applied."""
    for name, applied in migrate.status(_open(state)):
        click.echo(f"{'applied' if applied else 'pending'}  {name}")


def _current(db):
    applied = [name for name, done in migrate.status(db) if done]
    return applied[-1] if applied else None


@db_group.command("load-samples")
@click.pass_obj
def load_samples(state):
    """Load the sample bills the sample flows look up (account 20481357 and others)."""
    from db.sample_data import load_sample_billing
    from esl_apps.cli.common import open_current_database
    db = open_current_database(state.config)
    try:
        added = load_sample_billing(db)
    finally:
        db.close()
    click.echo(f"sample bills: {added} added")


def register(group):
    group.add_command(db_group)
