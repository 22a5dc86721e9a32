"""`hotline check`: config, database and FreeSWITCH, one line each."""
import sys

import click

from db import migrate
from db.connect import DatabaseError, open_database, redact
from esl_apps.config import ConfigError
from esl_apps.probe import probe_event_socket


def check_lines(state):
    """Yield (ok, line) for each part; FreeSWITCH being down is a warning, not a failure."""
    try:
        config = state.config
    except ConfigError as exc:
        yield False, f"config:     FAIL {exc}"
        return
    yield True, f"config:     ok ({config.source})"
    try:
        db = open_database(config.database_url)
        waiting = migrate.pending(db)
        db.close()
        if waiting:
            yield False, (f"database:   FAIL {redact(config.database_url)}: {len(waiting)} "
                          "migration(s) pending; run 'hotline db upgrade'")
        else:
            yield True, f"database:   ok {redact(config.database_url)} (schema up to date)"
    except DatabaseError as exc:
        yield False, f"database:   FAIL {exc}"
    fs = config.freeswitch
    try:
        version = probe_event_socket(fs.esl_host, fs.esl_port, fs.esl_password)
        yield True, f"freeswitch: ok event socket {fs.esl_host}:{fs.esl_port} ({version})"
    except ConnectionError as exc:
        yield True, (f"freeswitch: WARN event socket {fs.esl_host}:{fs.esl_port} "
                     f"not reachable: {exc}")


@click.command("check")
@click.pass_obj
def check(state):
    """Report the config, the database and FreeSWITCH's event socket."""
    failed = False
    for ok, line in check_lines(state):
        click.echo(line)
        failed |= not ok
    sys.exit(1 if failed else 0)


def register(group):
    group.add_command(check)
