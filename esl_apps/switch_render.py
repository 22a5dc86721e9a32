"""Render the FreeSWITCH configuration tree from the Jinja2 templates in
freeswitch/ and dialplan/ (see esl_apps.paths) with values from the Config.

Every value that lands in the XML comes from here: the templates hold no
secrets and no per-install values of their own.
"""
import logging
import re
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from esl_apps.blacklist.numbers import dialing
from esl_apps.paths import data_dir

log = logging.getLogger(__name__)

# mod_callcenter names are free strings; Hotline names queues and agents NAME@default.
CC_DOMAIN = "default"
# Seconds after which a call still held by the socket app without having been taken
# over is moved to the fail-open route. The socket app cancels it (see dialplan/).
CONNECT_WATCHDOG = 30
# mod_callcenter records the caller's leg from the agent's answer to the hangup
# (record-template), one file per call by the switch's local date and the caller's
# channel UUID (the UUID of the call's record). record_session creates the day's
# directory itself (switch_dir_make_recursive); the CDR handler reads the name back
# from cc_record_filename, so nothing else depends on this layout.
RECORD_TEMPLATE = "{recordings_dir}/${{strftime(%Y-%m-%d)}}/${{uuid}}.wav"
LOGLEVELS = {"DEBUG": "debug", "INFO": "info", "WARNING": "warning", "ERROR": "err"}
FORBIDDEN_SECRETS = {"1234", "ClueCon"}
# Secrets go into FreeSWITCH's preprocessor lines, which take text up to the next quote.
SECRET_RE = re.compile(r"^[A-Za-z0-9_.~+/=-]{8,128}$")
TOKEN_RE = re.compile(r"^[A-Za-z0-9_.+-]{1,64}$")
NUMBER_RE = re.compile(r"^\+?[0-9*#]{1,32}$")
EXTENSION_RE = re.compile(r"^[0-9]{2,16}$")
UNSAFE_TEXT = re.compile(r"[\x00-\x1f$\"{}]")

QUEUE_DEFAULTS = {
    "strategy": "longest-idle-agent",
    "moh_sound": "local_stream://moh",
    "record_calls": True,
    "announce_sound": "",
    "announce_frequency": 0,
    "max_wait_time": 0,
    "max_wait_time_with_no_agent": 0,
    "max_wait_time_with_no_agent_time_reached": 5,
    "tier_rules_apply": False,
    "discard_abandoned_after": 60,
    "abandoned_resume_allowed": False,
}
# The fail-open queue must give up when nobody is there, so the caller hears
# "please call later" instead of waiting forever.
FALLBACK_QUEUE_DEFAULTS = dict(QUEUE_DEFAULTS, max_wait_time=300,
                               max_wait_time_with_no_agent=30)


class RenderError(ValueError):
    """A value that cannot be put into the switch configuration safely."""


def switch_dirs(config) -> dict[str, Path]:
    """The directories FreeSWITCH is started with (-log, -db, -run) and uses."""
    dirs = config.dirs
    return {
        "log": dirs["log_dir"] / "freeswitch",
        "db": dirs["data_dir"] / "freeswitch-db",
        "run": dirs["data_dir"] / "freeswitch-run",
        "storage": dirs["data_dir"] / "voicemail",
        "cdr_errors": dirs["log_dir"] / "cdr-errors",
    }


def freeswitch_args(binary, config, conf_dir) -> list[str]:
    """The command line that runs FreeSWITCH on a rendered tree, in the foreground."""
    d = switch_dirs(config)
    return [str(binary), "-nf", "-nc", "-nonat", "-conf", str(conf_dir), "-log", str(d["log"]),
            "-db", str(d["db"]), "-run", str(d["run"]), "-storage", str(d["storage"])]


def _check(pattern, value, what) -> str:
    value = str(value)
    if not pattern.match(value):
        raise RenderError(f"{what}: {value!r} is not allowed here")
    return value


def _text(value, what) -> str:
    value = str(value)
    if UNSAFE_TEXT.search(value):
        raise RenderError(f"{what}: {value!r} contains a quote, brace, '$' or control character")
    return value


def _secret(value, what) -> str:
    if not value:
        raise RenderError(f"{what} is empty; run 'hotline init' or set it in the config")
    if value in FORBIDDEN_SECRETS:
        raise RenderError(f"{what} is a well-known default; choose another")
    if not SECRET_RE.match(value):
        raise RenderError(f"{what} must be 8-128 characters of A-Z a-z 0-9 _ . ~ + / = -")
    return value


def _gateway(fs) -> dict | None:
    """The carrier gateway on the trunks profile, or None (no gateway_proxy)."""
    if not fs.gateway_proxy:
        return None
    if not fs.outbound_gateway:
        raise RenderError("freeswitch.gateway_proxy is set but freeswitch.outbound_gateway "
                          "(the gateway's name) is empty")
    if fs.gateway_register and not (fs.gateway_username and fs.gateway_password):
        raise RenderError("freeswitch.gateway_register needs gateway_username and "
                          "gateway_password")
    # the carrier chose the password: any printable text the XML can carry as is
    _text(fs.gateway_password, "freeswitch.gateway_password")
    if len(fs.gateway_password) > 128 or " " in fs.gateway_password:
        raise RenderError("freeswitch.gateway_password: at most 128 characters, no spaces")
    return {"name": fs.outbound_gateway, "proxy": fs.gateway_proxy,
            "username": fs.gateway_username, "password": fs.gateway_password,
            "register": fs.gateway_register}


def _agent(row) -> dict:
    ext = _check(EXTENSION_RE, row["extension"], "agent extension")
    name = _text(row.get("display_name") or ext, f"agent {ext} display name")
    return {
        "extension": ext,
        "display_name": name,
        "sip_password": _secret(row.get("sip_password", ""), f"agent {ext} sip_password"),
        "cc_agent": f"{ext}@{CC_DOMAIN}",
    }


def _did(row) -> dict:
    number = _check(NUMBER_RE, row["number"], "DID number")
    return {
        "number": number,
        "pattern": "^" + re.escape(number) + "$",
        "flow": _check(TOKEN_RE, row["flow"], f"DID {number} flow"),
        "language": _check(TOKEN_RE, row.get("language") or "zh_CN", f"DID {number} language"),
    }


def _queue(row, defaults) -> dict:
    name = _check(TOKEN_RE, row["name"], "queue name")
    q = dict(defaults)
    q.update({k: v for k, v in row.items() if k in defaults and v is not None})
    for key in ("strategy", "moh_sound", "announce_sound"):
        q[key] = _text(q[key], f"queue {name} {key}")
    q["name"] = name
    q["cc_name"] = f"{name}@{CC_DOMAIN}"
    return q


def _queues(rows, fallback) -> list[dict]:
    queues = [_queue(r, FALLBACK_QUEUE_DEFAULTS if r["name"] == fallback else QUEUE_DEFAULTS)
              for r in rows]
    if not any(q["name"] == fallback for q in queues):
        queues.append(_queue({"name": fallback}, FALLBACK_QUEUE_DEFAULTS))
    return queues


def _url_host(host: str) -> str:
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def _context(config, agents, dids, queues, connect_watchdog) -> dict:
    fs = config.freeswitch
    for key in ("esl_password", "default_password", "cdr_password"):
        _secret(getattr(fs, key), f"freeswitch.{key}")
    if fs.rtp_start_port >= fs.rtp_end_port:
        raise RenderError("freeswitch.rtp_start_port must be below rtp_end_port")
    for net in fs.trunk_networks:
        _check(re.compile(r"^[0-9a-fA-F:.]+/[0-9]{1,3}$"), net, "freeswitch.trunk_networks entry")
    _check(TOKEN_RE, fs.fallback_queue, "freeswitch.fallback_queue")
    gateway = _gateway(fs)
    dirs = {k: str(v) for k, v in config.dirs.items()}
    dirs.update({k: str(v) for k, v in switch_dirs(config).items()})
    for key, value in dirs.items():
        _text(value, f"directory {key}")
    extensions = [_agent(a) for a in agents]
    seen = set()
    for a in extensions:
        if a["extension"] in seen:
            raise RenderError(f"agent extension {a['extension']} appears twice")
        seen.add(a["extension"])
    return {
        "fs": fs,
        "web": config.web,
        "dirs": dirs,
        "loglevel": LOGLEVELS[config.log.level],
        "domain": fs.sip_ip,
        "cc_domain": CC_DOMAIN,
        "fallback_queue": f"{fs.fallback_queue}@{CC_DOMAIN}",
        "fallback_prompt": f"{dirs['prompts_dir']}/fallback/please_call_later.wav",
        "record_template": RECORD_TEMPLATE.format(recordings_dir=dirs["recordings_dir"]),
        "cdr_url": f"http://{_url_host(config.web.host)}:{config.web.port}/api/cdr",
        "connect_watchdog": int(connect_watchdog),
        "linetest_pattern": "^" + re.escape(fs.linetest_number) + "$",
        "agents": extensions,
        "gateway": gateway,
        "dids": [_did(d) for d in dids if d.get("enabled", True)],
        "queues": _queues(queues, fs.fallback_queue),
        "reserve_agents": config.acd.reserve_agents,
        # the blacklist's caller-ID rules (esl_apps/blacklist/numbers.py) for the region
        "blacklist_rules": [(rx.pattern, prefix) for rx, prefix
                            in dialing(config.locale.default_region).rules()],
    }


def _environment(directory: Path) -> Environment:
    env = Environment(loader=FileSystemLoader(str(directory)), autoescape=True,
                      undefined=StrictUndefined, keep_trailing_newline=True,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["onoff"] = lambda v: "true" if v else "false"
    return env


def _render_tree(source: Path, dest: Path, context: dict) -> list[Path]:
    env = _environment(source)
    written = []
    for path in sorted(source.rglob("*.xml")):
        rel = path.relative_to(source)
        if any(part.startswith((".", "_")) for part in rel.parts):
            continue
        out = dest / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        text = env.get_template(rel.as_posix()).render(context)
        out.write_text(text, encoding="utf-8")
        written.append(out)
    return written


def flow_target(config, connect_watchdog: int = CONNECT_WATCHDOG):
    """Where compiled IVR flows run (esl_apps.ivr.compile)."""
    from esl_apps.ivr.compile import Target
    fs, dirs = config.freeswitch, config.dirs
    return Target(prompts_dir=dirs["prompts_dir"], recordings_dir=dirs["recordings_dir"],
                  socket_host=_url_host(fs.socket_host), socket_port=fs.socket_port,
                  domain=fs.sip_ip, cc_domain=CC_DOMAIN,
                  outbound_gateway=fs.outbound_gateway, connect_watchdog=connect_watchdog,
                  mode=config.ivr.mode)


def flow_queues(flows: dict) -> set[str]:
    return {node.queue for flow in flows.values() for node in flow.nodes.values()
            if node.verb in ("queue", "callback")}


def render_switch(config, dest: Path, agents: list[dict], dids: list[dict],
                  queues: list[dict], *, flows: dict | None = None,
                  connect_watchdog: int = CONNECT_WATCHDOG) -> list[Path]:
    """Render freeswitch/ into dest and dialplan/ into dest/dialplan, and compile the
    IVR flows into dest/dialplan/flows; return the files. A queue a flow names but
    the database lacks is configured with the defaults, so the flow works at once."""
    flows = flows or {}
    known = {q["name"] for q in queues}
    queues = list(queues) + [{"name": name, "max_wait_time": 300, "max_wait_time_with_no_agent": 30}
                             for name in sorted(flow_queues(flows) - known)]
    context = _context(config, agents, dids, queues, connect_watchdog)
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for key in ("recordings_dir", "prompts_dir", "moh_dir", "log_dir", "log", "db", "run",
                "storage", "cdr_errors"):
        Path(context["dirs"][key]).mkdir(parents=True, exist_ok=True)
    (Path(context["dirs"]["prompts_dir"]) / "fallback").mkdir(exist_ok=True)
    for rate in ("8000", "16000"):   # local_stream's moh directories (prompts build fills them)
        (Path(context["dirs"]["moh_dir"]) / rate).mkdir(exist_ok=True)
    written = _render_tree(data_dir("freeswitch"), dest, context)
    written += _render_tree(data_dir("dialplan"), dest / "dialplan", context)
    from esl_apps.ivr.compile import CompileError, compile_flows
    try:
        written += compile_flows(flows, flow_target(config, connect_watchdog), dest / "dialplan")
    except CompileError as exc:
        raise RenderError(str(exc)) from None
    log.info("rendered %d FreeSWITCH config files into %s", len(written), dest)
    return written
