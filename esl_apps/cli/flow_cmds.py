"""`hotline flow check [PATH...]`, `hotline flow schema [-o FILE]` and
`hotline flow draw FLOW [-o FILE]`."""
import json
import sys
from pathlib import Path

import click

from esl_apps.cli import UserError
from esl_apps.ivr import draw as drawing
from esl_apps.ivr.flow import json_schema
from esl_apps.ivr.loader import flow_files, load_flows


@click.group("flow")
def flow_group():
    """IVR call flows (YAML)."""


@flow_group.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.pass_obj
def check(state, paths):
    """Check flow files or directories (default: the ivr_flows directory).

    Prints each error as FILE:LINE:COLUMN: MESSAGE; exits 1 if there is any."""
    paths = paths or (state.config.flows_dir,)
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


def _pick_flow(flows, errors, name_or_file):
    """The loaded flow named `name_or_file`, or loaded from that file."""
    path = Path(name_or_file)
    if path.suffix in (".yaml", ".yml"):
        for flow in flows.values():
            if flow.path and flow.path.resolve() == path.resolve():
                return flow
    elif name_or_file in flows:
        return flows[name_or_file]
    mine = [str(e) for e in errors if e.flow == name_or_file
            or (path.exists() and e.file.resolve() == path.resolve())]
    if mine:
        raise UserError(f"flow {name_or_file} has errors (see 'hotline flow check'):\n"
                        + "\n".join(mine))
    raise UserError(f"no flow named {name_or_file!r}; loaded: {', '.join(sorted(flows)) or 'none'}")


@flow_group.command("draw")
@click.argument("flow")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="The picture: .svg, .png or .dot (default: FLOW.svg here).")
@click.option("--flows", "flows_dir", type=click.Path(path_type=Path),
              help="Where the flows are (default: the ivr_flows directory).")
@click.pass_obj
def draw(state, flow, output, flows_dir):
    """Draw FLOW (a name or a file) as a graph, with Graphviz's dot."""
    paths = [flows_dir or state.config.flows_dir]
    if Path(flow).suffix in (".yaml", ".yml"):
        paths.append(Path(flow).parent)
    flows, errors = load_flows(*dict.fromkeys(paths), prompts_dir=state.config.dirs["prompts_dir"])
    chosen = _pick_flow(flows, errors, flow)
    output = output or Path(f"{chosen.name}.svg")
    try:
        picture = drawing.render(drawing.to_dot(chosen), drawing.format_of(output))
    except drawing.DrawError as exc:
        raise UserError(str(exc)) from None
    output.write_bytes(picture)
    click.echo(f"wrote {output}")


def register(group):
    group.add_command(flow_group)
