"""`hotline run`: every Hotline service in one process (the embedded default), or
the demo (esl_apps.demo) with --demo, or with --demo-if-no-switch when
FreeSWITCH's event socket cannot be reached at start."""
import logging

import click

from esl_apps.cli.common import open_current_database
from esl_apps.probe import probe_event_socket

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
DEMO_LINE = "=" * 72


def switch_unreachable(config, timeout: float = 2.0) -> str | None:
    """Why FreeSWITCH's event socket cannot be reached, or None when it answers.
    A refused password is an answer: a switch is there, only misconfigured."""
    fs = config.freeswitch
    try:
        probe_event_socket(fs.esl_host, fs.esl_port, fs.esl_password, timeout=timeout)
    except ConnectionError as exc:
        if "password" in str(exc):
            return None
        return f"{exc} at {fs.esl_host}:{fs.esl_port}"
    return None


@click.command("run")
@click.option("--demo", is_flag=True,
              help="Run the demo: a demo switch places sample calls; own demo database.")
@click.option("--demo-if-no-switch", is_flag=True,
              help="Run the demo when FreeSWITCH's event socket cannot be reached at start.")
@click.option("--demo-talk-seconds", type=click.FloatRange(0.1, 3600), default=20.0,
              show_default=True, help="How long each demo call talks to the agent.")
@click.option("--demo-pause-seconds", type=click.FloatRange(0, 3600), default=10.0,
              show_default=True, help="The pause between two demo calls.")
@click.pass_obj
def run(state, demo, demo_if_no_switch, demo_talk_seconds, demo_pause_seconds):
    """Start the web panel and the call services in one process."""
    from gevent import monkey
    monkey.patch_all()
    from esl_apps.main import Services

    config = state.config
    logging.basicConfig(level=config.log.level, format=LOG_FORMAT)
    open_current_database(config).close()
    why = None
    if demo_if_no_switch and not demo:
        why = switch_unreachable(config)
    if demo or why:
        return run_demo(config, why, demo_talk_seconds, demo_pause_seconds)
    services = Services(config)
    services.start()
    base = f"http://{config.web.host}:{config.web.port}"
    click.echo(f"Hotline is running: web panel on {base}/login (health check "
               f"{base}/healthz). Ctrl-C stops it.")
    problem = services.freeswitch_status()
    if problem:
        click.echo(problem)
    services.serve_forever()


def run_demo(config, why, talk_seconds, pause_seconds):
    from esl_apps.demo.mode import Demo, web_base

    demo = Demo(config, talk_seconds=talk_seconds, pause_seconds=pause_seconds).start()
    base = web_base(demo.config)
    reason = (f"FreeSWITCH is not reachable ({why}), so " if why else "")
    click.echo("\n".join([
        DEMO_LINE,
        f"DEMO MODE: {reason}Hotline runs on a demo switch that places sample calls",
        "through the sample flows. No phone line is used; nothing here is real.",
        f"Demo data: {demo.config.database_url.removeprefix('sqlite:///')} (made afresh "
        + "at every demo start;",
        "your own database and users are not used or changed).",
        f"Sign in at {base}/login?next=/desk as {demo.user}, password: {demo.password}",
        "(generated, shown once). On the agent desk press Ready: calls start to arrive.",
        "To use FreeSWITCH, start it and run Hotline again without demo mode.",
        f"Health check: {base}/healthz. Ctrl-C stops the demo.",
        DEMO_LINE,
    ]), nl=True)
    demo.serve_forever()


def register(group):
    group.add_command(run)
