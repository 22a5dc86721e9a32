"""`hotline agent login|ready|break|logout|list`: an agent's status, set in the
database (logged, source hotline) and pushed to mod_callcenter at once by one
reconcile pass; when FreeSWITCH is down, `hotline run` pushes it on reconnect."""
import click

from db.models import Agent
from esl_apps.acd import commands as cc
from esl_apps.acd.store import Store, describe
from esl_apps.cli import UserError
from esl_apps.cli.common import open_current_database


@click.group("agent")
def agent_group():
    """Agents' status in the queues."""


def push(config, db) -> None:
    """One reconcile pass against the running switch; say what it changed."""
    from esl_apps.acd.oneshot import OneShotEsl
    from esl_apps.acd.reconciler import Reconciler
    from esl_apps.acd.render import SwitchFiles
    from esl_apps.inbound import EslUnavailable
    from esl_apps.switch_render import switch_dirs
    fs = config.freeswitch
    try:
        esl = OneShotEsl(fs.esl_host, fs.esl_port, fs.esl_password)
    except EslUnavailable as exc:
        click.echo(f"saved; {exc}: 'hotline run' pushes it when the switch is back")
        return
    try:
        files = SwitchFiles(config, config.dirs["switch_conf_dir"])
        heals = Reconciler(esl.api, Store(db), fs.sip_ip, files=files,
                           callcenter_db=switch_dirs(config)["db"] / "callcenter.db").run_once()
    except (cc.SwitchRefused, cc.InvalidValue) as exc:
        raise UserError(f"saved, but FreeSWITCH refused it: {exc}") from None
    finally:
        esl.close()
    for heal in heals:
        click.echo(f"switch: {heal.what}")


def _set(state, ext, status, reason=""):
    try:
        cc.extension(ext)
        reason = cc.reason(reason)
    except cc.InvalidValue as exc:
        raise UserError(str(exc)) from None
    db = open_current_database(state.config)
    store = Store(db)
    agent = store.agent(ext)
    if agent is None:
        raise UserError(f"no agent with extension {ext}")
    store.record(agent, status, store.last_state(agent), "hotline", reason=reason)
    click.echo(f"agent {ext}: {status}" + (f" ({reason})" if reason else ""))
    push(state.config, db)


@agent_group.command("login")
@click.argument("ext")
@click.pass_obj
def login(state, ext):
    """Log the agent in (Available)."""
    _set(state, ext, "Available")


@agent_group.command("ready")
@click.argument("ext")
@click.pass_obj
def ready(state, ext):
    """Back from a break (Available)."""
    _set(state, ext, "Available")


@agent_group.command("break")
@click.argument("ext")
@click.argument("reason")
@click.pass_obj
def on_break(state, ext, reason):
    """On Break with a reason code (letters, digits, _ and -)."""
    _set(state, ext, "On Break", reason)


@agent_group.command("logout")
@click.argument("ext")
@click.pass_obj
def logout(state, ext):
    """Log the agent out."""
    _set(state, ext, "Logged Out")


@agent_group.command("list")
@click.pass_obj
def list_agents(state):
    """Agents, their status (and reason) and last logged state."""
    db = open_current_database(state.config)
    store = Store(db)
    for agent in Agent.select().order_by(Agent.extension):
        reason = f" ({agent.break_reason})" if agent.break_reason else ""
        click.echo(f"{agent.extension}\t{agent.display_name}\t"
                   f"{describe(agent.state, store.last_state(agent))}{reason}")


def register(group):
    group.add_command(agent_group)
