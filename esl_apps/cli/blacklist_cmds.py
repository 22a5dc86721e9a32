"""`hotline blacklist add|remove|list`.

The commands write the database only; the running `hotline run` notices the
change within two seconds (esl_apps.blacklist.service) and pushes it to the switch.
"""
import click

from db.models import BlacklistEntry, BlockedCall, utcnow
from esl_apps.blacklist import entries
from esl_apps.blacklist.numbers import NumberError, display
from esl_apps.cli import UserError
from esl_apps.cli.common import open_current_database


@click.group("blacklist")
def blacklist_group():
    """Block callers (or mark them VIP) by number or prefix, for one DID or all."""


def _describe(entry) -> str:
    kind = "allow" if entry.allow else "block"
    scope = f"did {entry.did}" if entry.did else "all DIDs"
    expires = (entry.expires_at.strftime("%Y-%m-%d %H:%M UTC") if entry.expires_at
               else "never")
    return (f"#{entry.id}\t{kind}\t{display(entry.pattern, entry.is_prefix)}\t{scope}\t"
            f"expires {expires}\t{entry.reason}")


@blacklist_group.command("add")
@click.argument("number")
@click.option("--did", default=None, help="Only calls to this DID (default: every DID).")
@click.option("--expires", default=None,
              help="A date (2026-12-31, the end of that day) or a duration (30m, 12h, 7d).")
@click.option("--reason", default="", help="Why; shown in the list and the blocked-call log.")
@click.option("--allow", is_flag=True,
              help="A whitelist (VIP) entry: skips the blacklist and marks the call vip.")
@click.pass_obj
def add(state, number, did, expires, reason, allow):
    """Add NUMBER, or a prefix written NUMBER* (e.g. 1380013*); replaces the entry
    with the same number or prefix and DID."""
    config = state.config
    try:
        expires_at = entries.parse_expiry(expires, utcnow(), config.locale.timezone)
        open_current_database(config)
        entry, replaced = entries.add(number, did=did, expires_at=expires_at, reason=reason,
                                      allow=allow, region=config.locale.default_region)
    except NumberError as exc:
        raise UserError(str(exc)) from None
    click.echo(f"{'replaced' if replaced else 'added'} {_describe(entry)}")


@blacklist_group.command("remove")
@click.argument("number")
@click.option("--did", default=None, help="The entry for this DID (default: the all-DIDs one).")
@click.option("--every-did", is_flag=True, help="The entries for every DID and all DIDs.")
@click.pass_obj
def remove(state, number, did, every_did):
    """Remove the entry for NUMBER (or NUMBER* for a prefix), or #ID from the list."""
    config = state.config
    try:
        open_current_database(config)
        count = entries.remove(number, did=did, every_did=every_did,
                               region=config.locale.default_region)
    except NumberError as exc:
        raise UserError(str(exc)) from None
    if not count:
        raise UserError(f"no blacklist entry {number!r}"
                        + (f" for DID {did}" if did else "" if every_did else " for all DIDs"))
    click.echo(f"removed {count} entr{'y' if count == 1 else 'ies'}")


@blacklist_group.command("list")
@click.option("--all", "show_all", is_flag=True, help="Expired entries too.")
@click.option("--blocked", "blocked", type=int, default=None, metavar="N",
              help="Instead: the last N blocked calls.")
@click.pass_obj
def list_entries(state, show_all, blocked):
    """List the entries (id, block/allow, number or prefix*, scope, expiry, reason)."""
    open_current_database(state.config)
    if blocked is not None:
        for row in BlockedCall.select().order_by(BlockedCall.at.desc()).limit(max(blocked, 0)):
            click.echo(f"{row.at:%Y-%m-%d %H:%M:%S}\t{row.caller}\t{row.did}\t{row.pattern}\t"
                       f"{row.call_uuid}")
        return
    now = utcnow()
    query = BlacklistEntry.select() if show_all else entries.active(now)
    for entry in query.order_by(BlacklistEntry.pattern, BlacklistEntry.id):
        line = _describe(entry)
        if entry.expires_at is not None and entry.expires_at <= now:
            line += "\t(expired)"
        click.echo(line)


def register(group):
    group.add_command(blacklist_group)
