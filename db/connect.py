"""Open the database named by a URL, with errors a person can act on."""
import logging
import os
from pathlib import Path
from urllib.parse import urlsplit

import peewee
from playhouse.db_url import connect as db_url_connect

from db.models import database as proxy

log = logging.getLogger(__name__)

SQLITE_PRAGMAS = {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 5000}


class DatabaseError(Exception):
    """The database cannot be used; the message says why in one line."""


def redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(":" + parts.password + "@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


def _check_sqlite_dir(path: Path) -> None:
    directory = path.parent
    if not directory.is_dir():
        raise DatabaseError(f"cannot open SQLite database {path}: "
                            f"directory {directory} does not exist (run 'hotline init')")
    if not os.access(directory, os.W_OK):
        raise DatabaseError(f"cannot open SQLite database {path}: "
                            f"directory {directory} is not writable")


def open_database(url: str, connect_timeout: int = 5) -> peewee.Database:
    """Connect to the URL and check the connection works. Does not bind the proxy."""
    scheme = urlsplit(url).scheme
    try:
        if scheme == "sqlite":
            path = Path(urlsplit(url).path)
            _check_sqlite_dir(path)
            db = peewee.SqliteDatabase(str(path), pragmas=SQLITE_PRAGMAS)
        elif scheme in ("postgresql", "postgres"):
            db = db_url_connect(url, connect_timeout=connect_timeout)
        else:
            raise DatabaseError(f"unsupported database URL {redact(url)!r}: "
                                "expected sqlite:///PATH or postgresql://...")
        db.connect()
        db.execute_sql("SELECT 1")
    except DatabaseError:
        raise
    except (peewee.OperationalError, peewee.DatabaseError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatabaseError(f"cannot connect to {redact(url)}: {first}") from None
    return db


def bind(db: peewee.Database) -> peewee.Database:
    """Point the models' proxy at this database (the composition root's job)."""
    proxy.initialize(db)
    return db
