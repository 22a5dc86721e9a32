"""`hotline init`: a config with generated secrets, the data directories, the database."""
import json
import os
import secrets
from pathlib import Path

import click

from db import migrate
from db.connect import open_database, redact
from esl_apps.cli import UserError
from esl_apps.config import DEFAULT_CONFIG_PATH, config_path, load_config

CONFIG_TEMPLATE = """\
# Hotline configuration, written by 'hotline init'.
# Environment variables HOTLINE_<SECTION>_<KEY> override these values
# (for example HOTLINE_DATABASE_URL). Relative paths are relative to this file.

[paths]
data_dir = {data_dir}

[database]
# sqlite:///PATH (the default, under data_dir) or postgresql://USER:PASSWORD@HOST:PORT/DB
url = {database_url}

[web]
host = "127.0.0.1"
port = 8080
secret_key = {secret_key}

[freeswitch]
# The event socket listens on loopback only; this password is generated.
esl_host = "127.0.0.1"
esl_port = 8021
esl_password = {esl_password}
# FreeSWITCH's default_password (directory users); generated, never 1234.
default_password = {default_password}
# HTTP basic-auth password mod_xml_cdr uses to post call records to Hotline.
cdr_password = {cdr_password}
# The carrier, for transfers to outside numbers and the desk's click-to-dial
# (uncomment and fill in; the customer sees outbound_caller_id):
# outbound_gateway = "carrier"
# gateway_proxy = "sip.carrier.example:5060"
# gateway_username = "01088886666"
# gateway_password = "from the carrier"
# gateway_register = true
# outbound_caller_id = "01088886666"

[locale]
default_region = "CN"
language = "zh_CN"
timezone = "Asia/Shanghai"
"""


def _toml_str(value) -> str:
    return json.dumps(str(value), ensure_ascii=False)


def render_config(data_dir: Path, database_url: str | None) -> str:
    url = database_url or f"sqlite:///{data_dir / 'hotline.db'}"
    return CONFIG_TEMPLATE.format(
        data_dir=_toml_str(data_dir),
        database_url=_toml_str(url),
        secret_key=_toml_str(secrets.token_urlsafe(48)),
        esl_password=_toml_str(secrets.token_hex(16)),
        default_password=_toml_str(secrets.token_hex(16)),
        cdr_password=_toml_str(secrets.token_hex(16)),
    )


def _default_data_dir(path: Path) -> Path:
    if path.resolve() == DEFAULT_CONFIG_PATH:
        return Path("/var/lib/hotline")
    return path.resolve().parent / "data"


def _make_dirs(config) -> None:
    for name, directory in config.dirs.items():
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"cannot create {name} {directory}: {exc.strerror}") from None
        if not os.access(directory, os.W_OK):
            raise UserError(f"{name} {directory} is not writable")


@click.command("init")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where recordings, prompts and the SQLite database live.")
@click.option("--database-url", help="Use this database instead of SQLite under the data dir.")
@click.pass_obj
def init(state, data_dir, database_url):
    """Write a config with generated secrets, create the data directories and the database.

    An existing config file is kept as it is (its secrets are never regenerated)."""
    path = config_path(state.config_path)
    if path.exists():
        click.echo(f"config: {path} exists, kept")
    else:
        data_dir = (data_dir or _default_data_dir(path)).absolute()
        text = render_config(data_dir, database_url)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as exc:
            raise UserError(f"cannot write config {path}: {exc.strerror}") from None
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        click.echo(f"config: wrote {path} (secrets generated, mode 600)")
    config = load_config(path)
    _make_dirs(config)
    click.echo(f"data: {config.paths.data_dir}")
    db = open_database(config.database_url)
    applied = migrate.upgrade(db)
    click.echo(f"database: {redact(config.database_url)} "
               f"({len(applied)} migration(s) applied)")
    db.close()


def register(group):
    group.add_command(init)
