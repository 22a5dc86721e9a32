"""`hotline queue list|add|set|tier add|tier del`: queues and tiers in the
database, pushed to mod_callcenter at once (see agent_cmds.push)."""
import click
import peewee

from db.models import Agent, Queue, Tier
from esl_apps.acd import commands as cc
from esl_apps.cli import UserError
from esl_apps.cli.agent_cmds import push
from esl_apps.cli.common import open_current_database


@click.group("queue")
def queue_group():
    """Queues and their agents (tiers)."""


def _checked(fn, *args):
    try:
        return fn(*args)
    except cc.InvalidValue as exc:
        raise UserError(str(exc)) from None


def _queue(name):
    queue = Queue.get_or_none(Queue.name == name)
    if queue is None:
        raise UserError(f"no queue named {name!r}")
    return queue


@queue_group.command("list")
@click.pass_obj
def list_queues(state):
    """Queues with their strategy and agents (extension:level:position)."""
    open_current_database(state.config)
    for queue in Queue.select().order_by(Queue.name):
        tiers = " ".join(f"{t.agent.extension}:{t.level}:{t.position}" for t in
                         queue.tiers.join(Agent).order_by(Tier.level, Tier.position))
        click.echo(f"{queue.name}\t{queue.strategy}\t{tiers}")


def _options(fn):
    fn = click.option("--strategy", type=click.Choice(cc.STRATEGIES))(fn)
    fn = click.option("--max-wait-time", type=click.IntRange(0, 86400))(fn)
    fn = click.option("--max-wait-time-with-no-agent", type=click.IntRange(0, 86400))(fn)
    return fn


def _apply(queue, strategy, max_wait_time, max_wait_time_with_no_agent):
    for key, value in (("strategy", strategy), ("max_wait_time", max_wait_time),
                       ("max_wait_time_with_no_agent", max_wait_time_with_no_agent)):
        if value is not None:
            setattr(queue, key, value)


@queue_group.command("add")
@click.argument("name")
@_options
@click.pass_obj
def add(state, name, strategy, max_wait_time, max_wait_time_with_no_agent):
    """Add a queue (loaded into the running switch at once)."""
    _checked(cc.queue_name, name)
    db = open_current_database(state.config)
    queue = Queue(name=name)
    _apply(queue, strategy, max_wait_time, max_wait_time_with_no_agent)
    try:
        queue.save()
    except peewee.IntegrityError:
        raise UserError(f"a queue named {name!r} already exists") from None
    click.echo(f"added queue {name} ({queue.strategy})")
    push(state.config, db)


@queue_group.command("set")
@click.argument("name")
@_options
@click.pass_obj
def set_queue(state, name, strategy, max_wait_time, max_wait_time_with_no_agent):
    """Change a queue's settings."""
    db = open_current_database(state.config)
    queue = _queue(name)
    _apply(queue, strategy, max_wait_time, max_wait_time_with_no_agent)
    queue.save()
    click.echo(f"queue {name}: {queue.strategy}")
    push(state.config, db)


@queue_group.group("tier")
def tier_group():
    """An agent in a queue, with level and position (skills)."""


@tier_group.command("add")
@click.argument("queue_name")
@click.argument("ext")
@click.option("--level", type=click.IntRange(1, 9999), default=1, show_default=True)
@click.option("--position", type=click.IntRange(1, 9999), default=1, show_default=True)
@click.pass_obj
def tier_add(state, queue_name, ext, level, position):
    """Put an agent into a queue, or change its level and position."""
    db = open_current_database(state.config)
    queue = _queue(queue_name)
    agent = Agent.get_or_none(Agent.extension == ext)
    if agent is None:
        raise UserError(f"no agent with extension {ext}")
    tier, created = Tier.get_or_create(queue=queue, agent=agent,
                                       defaults={"level": level, "position": position})
    if not created:
        tier.level, tier.position = level, position
        tier.save()
    click.echo(f"tier {queue_name}/{ext}: level {level}, position {position}")
    push(state.config, db)


@tier_group.command("del")
@click.argument("queue_name")
@click.argument("ext")
@click.pass_obj
def tier_del(state, queue_name, ext):
    """Take an agent out of a queue."""
    db = open_current_database(state.config)
    queue = _queue(queue_name)
    deleted = (Tier.delete().where((Tier.queue == queue) & (Tier.agent.in_(
        Agent.select(Agent.id).where(Agent.extension == ext)))).execute())
    if not deleted:
        raise UserError(f"agent {ext} is not in queue {queue_name}")
    click.echo(f"removed {ext} from {queue_name}")
    push(state.config, db)


def register(group):
    group.add_command(queue_group)
