"""`hotline switch render [DEST]`: write FreeSWITCH's configuration tree."""
from pathlib import Path

import click

from db.connect import DatabaseError
from esl_apps.cli import UserError
from esl_apps.cli.common import open_current_database
from esl_apps.ivr.loader import load_flows
from esl_apps.switch_render import RenderError, freeswitch_args, render_switch

AGENT_FIELDS = ("extension", "display_name", "sip_password")
DID_FIELDS = ("number", "flow", "language", "enabled")
QUEUE_FIELDS = ("name", "strategy", "moh_sound", "record_calls", "max_wait_time",
                "max_wait_time_with_no_agent", "tier_rules_apply", "discard_abandoned_after",
                "abandoned_resume_allowed")


def _rows(model, fields, order):
    return [{f: getattr(row, f) for f in fields} for row in model.select().order_by(order)]


def read_switch_data(config):
    """(agents, dids, queues) from the database, as the renderer takes them."""
    from db.models import Agent, Did, Queue
    db = open_current_database(config)
    try:
        return (_rows(Agent, AGENT_FIELDS, Agent.extension),
                _rows(Did, DID_FIELDS, Did.number),
                _rows(Queue, QUEUE_FIELDS, Queue.name))
    finally:
        db.close()


@click.group("switch")
def switch_group():
    """FreeSWITCH's configuration."""


@switch_group.command("render")
@click.argument("dest", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.pass_obj
def render(state, dest):
    """Render the FreeSWITCH config tree into DEST (default: paths.switch_conf_dir).

    Agents, DIDs and queues come from the database when it can be reached."""
    config = state.config
    dest = (dest or config.dirs["switch_conf_dir"]).absolute()
    try:
        agents, dids, queues = read_switch_data(config)
    except DatabaseError as exc:
        click.echo(f"hotline: warning: {exc}; rendering without agents, DIDs or queues", err=True)
        agents, dids, queues = [], [], []
    flows, errors = load_flows(config.flows_dir, prompts_dir=config.dirs["prompts_dir"])
    for error in errors:
        click.echo(f"hotline: warning: {error} (flow left out)", err=True)
    try:
        written = render_switch(config, dest, agents, dids, queues, flows=flows)
    except RenderError as exc:
        raise UserError(str(exc)) from None
    click.echo(f"wrote {len(written)} files to {dest} "
               f"({len(agents)} agents, {len(dids)} DIDs, {len(queues)} queues, "
               f"{len(flows)} flows)")
    click.echo("run: " + " ".join(freeswitch_args("freeswitch", config, dest)))


def register(group):
    group.add_command(switch_group)
