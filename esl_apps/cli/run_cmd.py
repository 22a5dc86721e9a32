"""`hotline run`: every Hotline service in one process (the embedded default)."""
import logging

import click

from esl_apps.cli.common import open_current_database

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@click.command("run")
@click.pass_obj
def run(state):
    """Start the web panel and the call services in one process."""
    from gevent import monkey
    monkey.patch_all()
    from esl_apps.main import Services

    config = state.config
    logging.basicConfig(level=config.log.level, format=LOG_FORMAT)
    open_current_database(config).close()
    services = Services(config)
    services.start()
    base = f"http://{config.web.host}:{config.web.port}"
    click.echo(f"Hotline is running: web panel on {base}/login (health check "
               f"{base}/healthz). Ctrl-C stops it.")
    problem = services.freeswitch_status()
    if problem:
        click.echo(problem)
    services.serve_forever()


def register(group):
    group.add_command(run)
