"""`hotline prompts build [PATH...]`: render and convert every prompt the switch plays."""
import sys
from pathlib import Path

import click

from esl_apps.cli import UserError
from esl_apps.ivr.loader import load_flows
from esl_apps.prompts import PromptError
from esl_apps.prompts.build import build
from esl_apps.prompts.tts import espeak_binary
from esl_apps.waiting.moh import build_moh


class Progress:
    """A progress bar on a terminal; otherwise one line per job: `n/total label`."""

    def __init__(self, tty: bool):
        self.tty = tty
        self.bar = None

    def __call__(self, done, total, label):
        if not self.tty:
            click.echo(f"{done}/{total} {label}")
            return
        if self.bar is None:
            self.bar = click.progressbar(length=total, label="prompts", show_pos=True,
                                         item_show_func=lambda item: item)
            self.bar.__enter__()
        self.bar.update(1, current_item=label)

    def close(self):
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


@click.group("prompts")
def prompts_group():
    """The sound files the IVR and the switch play."""


@prompts_group.command("build")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.pass_obj
def build_cmd(state, paths):
    """Build the prompts of the flows in PATHS (default: the ivr_flows directory).

    TTS texts are spoken by espeak-ng; sound files are converted to 8 kHz mono
    16-bit WAV; the say modules' files and Hotline's built-in prompts are made
    too. Up-to-date files are kept. Exits 1 if any prompt failed or any flow has
    errors."""
    paths = paths or (state.config.flows_dir,)
    prompts_dir = state.config.dirs["prompts_dir"]
    try:
        espeak_binary()
    except PromptError as exc:
        raise UserError(str(exc)) from None
    flows, errors = load_flows(*paths, prompts_dir=prompts_dir)
    for error in errors:
        click.echo(str(error), err=True)
    if errors:
        bad = len({e.file for e in errors})
        click.echo(f"hotline: warning: {bad} flow file(s) with errors were skipped "
                   "(see 'hotline flow check')", err=True)
    progress = Progress(sys.stdout.isatty())
    try:
        report = build(flows, prompts_dir, progress)
    finally:
        progress.close()
    for label, reason in report.failed:
        click.echo(f"failed: {label}: {reason}", err=True)
    try:   # hold music for local_stream://moh (esl_apps.waiting.moh)
        click.echo(build_moh(state.config.dirs["moh_dir"]).summary(), err=True)
    except PromptError as exc:
        click.echo(f"hotline: warning: {exc}", err=True)
    click.echo(report.summary())
    sys.exit(1 if report.failed or errors else 0)


def register(group):
    group.add_command(prompts_group)
