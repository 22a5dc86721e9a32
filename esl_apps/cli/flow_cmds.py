"""`hotline flow check [PATH...]` and `hotline flow schema [-o FILE]`."""
import json
import sys
from pathlib import Path

import click

from esl_apps.ivr.flow import json_schema
from esl_apps.ivr.loader import flow_files, load_flows
from esl_apps.paths import data_dir


@click.group("flow")
def flow_group():
    """IVR call flows (YAML)."""


@flow_group.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.pass_obj
def check(state, paths):
    """Check flow files or directories (default: the ivr_flows directory).

    Prints each error as FILE:LINE:COLUMN: MESSAGE; exits 1 if there is any."""
    paths = paths or (data_dir("ivr_flows"),)
    prompts_dir = state.config.dirs["prompts_dir"]
    files = flow_files(paths)
    flows, errors = load_flows(*paths, prompts_dir=prompts_dir)
    for error in errors:
        click.echo(str(error))
    bad = len({e.file for e in errors})
    click.echo(f"{len(files)} flow file(s): {len(flows)} ok, {bad} with errors "
               f"({len(errors)} error(s))")
    sys.exit(1 if errors else 0)


@flow_group.command("schema")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the schema here instead of to standard output.")
def schema(output):
    """Write the JSON Schema of the flow format (for yaml-language-server)."""
    text = json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}")


def register(group):
    group.add_command(flow_group)
