"""The `hotline` command. Each area's commands live in a module of their own;
every expected failure becomes one line on stderr and exit status 2."""
import sys

import click

from db.connect import DatabaseError
from esl_apps.config import ConfigError, load_config


class UserError(Exception):
    """A problem the person at the keyboard can fix; printed as one line."""


class HotlineGroup(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (ConfigError, DatabaseError, UserError, OSError) as exc:
            for line in str(exc).splitlines() or [type(exc).__name__]:
                click.echo(f"hotline: error: {line}", err=True)
            sys.exit(2)


class State:
    def __init__(self, config_path):
        self.config_path = config_path
        self._config = None

    @property
    def config(self):
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config


@click.group(cls=HotlineGroup)
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Config file (default: $HOTLINE_CONFIG, else /etc/hotline/hotline.toml).")
@click.pass_context
def main(ctx, config_path):
    """Hotline: a call-center appliance on FreeSWITCH."""
    ctx.obj = State(config_path)


def _register():
    from esl_apps.cli import (check_cmd, db_cmds, flow_cmds, init_cmd, prompt_cmds, run_cmd,
                              switch_cmds, user_cmds)
    for module in (init_cmd, db_cmds, user_cmds, check_cmd, run_cmd, switch_cmds, flow_cmds,
                   prompt_cmds):
        module.register(main)
    from esl_apps.cli import flow_try  # noqa: F401  (adds `flow try` to the flow group)
    from esl_apps.cli import blacklist_cmds; blacklist_cmds.register(main)  # noqa: E702
    from esl_apps.cli import agent_cmds, queue_cmds
    agent_cmds.register(main), queue_cmds.register(main)


_register()
