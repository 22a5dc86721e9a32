"""`hotline user add|list`."""
import secrets
import sys

import click
import peewee
from werkzeug.security import generate_password_hash

from db.models import ROLES, User
from esl_apps.cli import UserError
from esl_apps.cli.common import open_current_database

MIN_PASSWORD = 8


@click.group("user")
def user_group():
    """Manage web-panel users."""


def _read_password(from_stdin: bool) -> tuple[str, bool]:
    """Return (password, generated)."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        return secrets.token_urlsafe(12), True
    if len(password) < MIN_PASSWORD:
        raise UserError(f"the password must have at least {MIN_PASSWORD} characters")
    return password, False


@user_group.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--display-name", default="")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_obj
def add(state, name, role, display_name, password_stdin):
    """Add a user. Without a terminal or --password-stdin a password is generated and shown once."""
    if not name.strip() or len(name) > 64:
        raise UserError("the user name must have 1 to 64 characters")
    db = open_current_database(state.config)
    password, generated = _read_password(password_stdin)
    try:
        with db.atomic():
            User.create(username=name, role=role, display_name=display_name or name,
                        password_hash=generate_password_hash(password))
    except peewee.IntegrityError:
        raise UserError(f"a user named {name!r} already exists") from None
    click.echo(f"added user {name} with role {role}")
    if generated:
        click.echo(f"generated password (shown once): {password}")


@user_group.command("list")
@click.pass_obj
def list_users(state):
    """List users and their roles."""
    open_current_database(state.config)
    for user in User.select().order_by(User.username):
        click.echo(f"{user.username}\t{user.role}\t{'active' if user.active else 'disabled'}")


def register(group):
    group.add_command(user_group)
