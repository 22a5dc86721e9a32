"""Helpers shared by the commands: opening the database the config names."""
from db import migrate
from db.connect import bind, open_database
from esl_apps.cli import UserError


def open_current_database(config):
    """Open and bind the database; refuse to work on a schema that is behind."""
    db = open_database(config.database_url)
    waiting = migrate.pending(db)
    if waiting:
        db.close()
        raise UserError(f"the database schema is not up to date ({len(waiting)} migration(s) "
                        "pending); run 'hotline db upgrade'")
    return bind(db)
