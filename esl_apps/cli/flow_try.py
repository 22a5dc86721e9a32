"""`hotline flow try FLOW`: walk a flow in the terminal, as the caller would."""
import datetime
from pathlib import Path

import click

from esl_apps.cli import UserError
from esl_apps.cli.common import open_current_database
from esl_apps.cli.flow_cmds import flow_group
from esl_apps.ivr.loader import load_flows
from esl_apps.ivr.runtime import Runner
from esl_apps.ivr.services import IvrServices
from esl_apps.ivr.simulator import TerminalCall


def _when(text):
    if text is None:
        return None
    try:
        when = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a date and time like 2026-11-23T09:30")
    return when if when.tzinfo else when.astimezone()


def _pick_flow(flows, errors, name_or_file):
    path = Path(name_or_file)
    if path.suffix in (".yaml", ".yml"):
        matches = [f for f in flows.values() if f.path and f.path.resolve() == path.resolve()]
        if matches:
            return matches[0]
    elif name_or_file in flows:
        return flows[name_or_file]
    mine = [str(e) for e in errors if e.flow == name_or_file or
            (path.exists() and e.file.resolve() == path.resolve())]
    if mine:
        raise UserError("the flow has errors:\n" + "\n".join(mine))
    raise UserError(f"no flow named {name_or_file!r}; loaded: {', '.join(sorted(flows)) or 'none'}")


def _ask(text) -> str:
    try:
        return click.prompt(text, default="", show_default=False, prompt_suffix="")
    except click.exceptions.Abort:  # end of input, Ctrl-D: the caller hangs up
        raise EOFError() from None


@flow_group.command("try")
@click.argument("flow")
@click.option("--flows", "flows_dir", type=click.Path(path_type=Path),
              help="Where the flows are (default: the ivr_flows directory).")
@click.option("--caller", default="13800000000", show_default=True, help="The caller's number.")
@click.option("--did", default=None, help="The number dialed (default: the flow's first DID).")
@click.option("--language", type=click.Choice(["zh", "en"]), default=None)
@click.option("--at", "at", default=None, help="Pretend it is this time (business hours).")
@click.pass_obj
def try_flow(state, flow, flows_dir, caller, did, language, at):
    """Simulate a call through FLOW (a name or a file): prompts are printed,
    typed keys are DTMF, Enter alone lets the read time out, Ctrl-D hangs up.
    Lookups and business hours use the configured database."""
    when = _when(at)
    paths = [flows_dir or state.config.flows_dir]
    if Path(flow).suffix in (".yaml", ".yml") and Path(flow).parent not in paths:
        paths.append(Path(flow).parent)
    flows, errors = load_flows(*dict.fromkeys(paths), prompts_dir=state.config.dirs["prompts_dir"])
    chosen = _pick_flow(flows, errors, flow)
    database = open_current_database(state.config)
    from esl_apps.ivr.hours import Hours
    clock = (lambda: when) if when else None
    services = IvrServices(database=database, hours=Hours(database), clock=clock)
    call = TerminalCall(click.echo, _ask, caller=caller,
                        did=did or (chosen.dids[0] if chosen.dids else ""))
    runner = Runner(flows, services, state.config.dirs["prompts_dir"])
    click.echo(f"calling flow {chosen.name} from {call.caller} to {call.did or '-'} "
               f"(keys are DTMF; Enter alone = no input; Ctrl-D = hang up)")
    result = runner.run(call, chosen.name, language=language,
                        data={"caller": call.caller, "did": call.did})
    click.echo(f"end: {result.end}{' (' + result.detail + ')' if result.detail else ''}")
    click.echo("path: " + " → ".join(result.path))
    click.echo("call data:" if result.data else "call data: none")
    for key, value in sorted(result.data.items()):
        click.echo(f"  {key} = {value}")
