"""Hotline's configuration, in layers.

1. defaults in code (the models below);
2. a TOML file: --config, else $HOTLINE_CONFIG, else /etc/hotline/hotline.toml;
3. environment variables HOTLINE_<SECTION>_<KEY> (HOTLINE_DATABASE_URL, ...).

Every error names the key, where the value came from and what was expected.
"""
import os
import tomllib
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import (BaseModel, ConfigDict, Field, PrivateAttr, ValidationError,
                      field_validator)

DEFAULT_CONFIG_PATH = Path("/etc/hotline/hotline.toml")
ENV_PREFIX = "HOTLINE_"


class ConfigError(Exception):
    """A configuration problem, worded for the person who has to fix it."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class PathsConfig(_Section):
    data_dir: Path = Path("/var/lib/hotline")
    log_dir: Path | None = None
    recordings_dir: Path | None = None
    prompts_dir: Path | None = None
    moh_dir: Path | None = None
    switch_conf_dir: Path | None = None

    def resolved(self) -> dict[str, Path]:
        d = self.data_dir
        return {
            "data_dir": d,
            "log_dir": self.log_dir or d / "log",
            "recordings_dir": self.recordings_dir or d / "recordings",
            "prompts_dir": self.prompts_dir or d / "prompts",
            "moh_dir": self.moh_dir or d / "moh",
            "switch_conf_dir": self.switch_conf_dir or d / "freeswitch",
        }


class DatabaseConfig(_Section):
    url: str | None = None

    @field_validator("url")
    @classmethod
    def _check_url(cls, value):
        if value is None:
            return value
        parts = urlsplit(value)
        if parts.scheme == "sqlite":
            if not parts.path or parts.path == "/":
                raise ValueError("expected sqlite:///PATH with a file path")
        elif parts.scheme in ("postgresql", "postgres"):
            if not parts.hostname or not parts.path.strip("/"):
                raise ValueError("expected postgresql://USER:PASSWORD@HOST:PORT/DBNAME")
            try:
                parts.port
            except ValueError:
                raise ValueError("the port in the URL is not a number") from None
        else:
            raise ValueError("expected a URL starting sqlite:/// or postgresql://")
        return value


class WebConfig(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    secret_key: str = ""
    session_minutes: int = Field(480, ge=5)
    # true when the panel is reached over HTTPS (a reverse proxy in front of it): the
    # session cookie is then never sent over plain HTTP
    secure_cookies: bool = False


class FreeswitchConfig(_Section):
    esl_host: str = "127.0.0.1"
    esl_port: int = Field(8021, ge=1, le=65535)
    esl_password: str = ""
    socket_host: str = "127.0.0.1"
    socket_port: int = Field(8084, ge=1, le=65535)
    sip_ip: str = "127.0.0.1"
    internal_sip_port: int = Field(5060, ge=1, le=65535)
    external_sip_port: int = Field(5080, ge=1, le=65535)
    rtp_start_port: int = Field(16384, ge=1024, le=65535)
    rtp_end_port: int = Field(32768, ge=1024, le=65535)
    default_password: str = ""
    max_sessions: int = Field(1000, ge=1)
    sessions_per_second: int = Field(100, ge=1)
    cdr_password: str = ""
    # Networks whose SIP traffic the trunk profile accepts without authentication.
    trunk_networks: list[str] = ["127.0.0.1/32"]
    # Where a call goes when Hotline's socket app cannot take it (fail-open).
    fallback_queue: str = "default"
    # A number that reaches the line-test app (tone, one digit read back).
    linetest_number: str = Field("9999", pattern=r"^[0-9*#+]{1,16}$")
    # The sofia gateway that IVR transfers, desk transfers and click-to-dial use to reach
    # outside numbers ("" = none), defined on the trunks profile from the gateway_* keys.
    outbound_gateway: str = Field("", pattern=r"^[A-Za-z0-9_.-]{0,64}$")
    # The carrier's SIP address: host or host:port.
    gateway_proxy: str = Field("", pattern=r"^([A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?)?$")
    # The carrier account; with gateway_register the switch registers it.
    gateway_username: str = Field("", pattern=r"^[A-Za-z0-9_.+-]{0,64}$")
    gateway_password: str = ""
    gateway_register: bool = False
    # The number customers see when the desk calls them ("" = gateway_username when
    # that is a number, else the agent's extension; never the customer's own number).
    outbound_caller_id: str = Field("", pattern=r"^[0-9+]{0,20}$")


class IvrConfig(_Section):
    # native: flows compiled to dialplan, Python only for lookups (fast);
    # socket: the socket app runs every node of every call.
    mode: Literal["native", "socket"] = "native"
    # Where the YAML flows are (default: the installed ivr_flows directory).
    flows_dir: Path | None = None
    # Seconds between checks of the flows directory for changes.
    reload_seconds: float = Field(2.0, gt=0)


class LocaleConfig(_Section):
    default_region: str = Field("CN", pattern=r"^[A-Z]{2}$")
    language: Literal["zh_CN", "en"] = "zh_CN"
    timezone: str = "Asia/Shanghai"


class RecordingConfig(_Section):
    # Agent-call recordings (esl_apps.jobs.recordings): WAV files become Ogg Vorbis
    # this many days after the call, and are deleted this many days after it.
    compress_after_days: int = Field(7, ge=1)
    retention_days: int = Field(180, ge=1)


class AcdConfig(_Section):
    # Seconds between reconcile passes of mod_callcenter's agents, tiers and members
    # against the database (esl_apps.acd).
    reconcile_seconds: float = Field(5.0, gt=0)
    # mod_callcenter's global reserve-agents (callcenter.conf.xml settings): reserve an
    # agent before offering it a call. Read when mod_callcenter loads: a change needs
    # `hotline switch render` and a FreeSWITCH restart.
    reserve_agents: bool = False


class NotifyRecipient(_Section):
    """A default recipient of work-order notifications (see esl_apps.notify)."""
    name: str = ""
    email: str = ""
    phone: str = ""
    language: Literal["", "zh", "en"] = ""  # "": the panel's ([locale] language)
    # events this recipient gets ([] = every event: dispatch, sla_warning, sla_breach, closed)
    events: list[str] = []


class NotifyConfig(_Section):
    # E-mail over SMTP (esl_apps.notify.sender); smtp_host "" = e-mail off (such
    # notifications fail visibly instead of being dropped).
    smtp_host: str = ""
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_timeout: float = Field(10.0, gt=0)
    mail_from: str = "hotline@localhost"
    # SMS: a JSON POST {"to", "text", "id"} to this URL ("" = SMS off); a 2xx answer
    # is success. sms_token, when set, goes in an "Authorization: Bearer" header.
    sms_url: str = ""
    sms_token: str = ""
    sms_timeout: float = Field(10.0, gt=0)
    # a failed send is retried after retry_seconds, doubling each time, and marked
    # failed after max_attempts
    max_attempts: int = Field(5, ge=1)
    retry_seconds: float = Field(60.0, gt=0)
    send_every_seconds: float = Field(15.0, gt=0)
    # who gets a notification when the caller names nobody; in TOML:
    # [[notify.default_recipients]]
    # name = "值班长"
    # email = "duty@example.com"
    # phone = "+8613800000000"
    # language = "zh"
    default_recipients: list[NotifyRecipient] = []


class LogConfig(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class Config(_Section):
    paths: PathsConfig = PathsConfig()
    database: DatabaseConfig = DatabaseConfig()
    web: WebConfig = WebConfig()
    freeswitch: FreeswitchConfig = FreeswitchConfig()
    ivr: IvrConfig = IvrConfig()
    locale: LocaleConfig = LocaleConfig()
    recording: RecordingConfig = RecordingConfig()
    acd: AcdConfig = AcdConfig()
    notify: NotifyConfig = NotifyConfig()
    log: LogConfig = LogConfig()
    _source: str = PrivateAttr("defaults")

    @property
    def source(self) -> str:
        """Where the file layer came from: its path, or "defaults"."""
        return self._source

    @property
    def dirs(self) -> dict[str, Path]:
        return self.paths.resolved()

    @property
    def flows_dir(self) -> Path:
        from esl_apps.paths import data_dir
        return self.ivr.flows_dir or data_dir("ivr_flows")

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{self.paths.data_dir / 'hotline.db'}"


SECTIONS = {name: field.annotation for name, field in Config.model_fields.items()}


def config_path(explicit: str | os.PathLike | None = None, environ=None) -> Path:
    environ = os.environ if environ is None else environ
    if explicit:
        return Path(explicit)
    if environ.get("HOTLINE_CONFIG"):
        return Path(environ["HOTLINE_CONFIG"])
    return DEFAULT_CONFIG_PATH


def _read_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: TOML syntax error: {exc}") from None
    except PermissionError:
        raise ConfigError(f"{path}: cannot read the config file (permission denied)") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, expected a TOML file") from None


def _env_layer(environ) -> tuple[dict, dict]:
    """HOTLINE_<SECTION>_<KEY> variables as a nested dict, plus key -> variable name."""
    values, origin = {}, {}
    for var, raw in environ.items():
        if not var.startswith(ENV_PREFIX) or var == "HOTLINE_CONFIG":
            continue
        rest = var[len(ENV_PREFIX):].lower()
        for section in SECTIONS:
            if rest.startswith(section + "_"):
                key = rest[len(section) + 1:]
                values.setdefault(section, {})[key] = raw
                origin[f"{section}.{key}"] = f"environment variable {var}"
                break
    return values, origin


def _rebase_paths(layer: dict, base: Path) -> None:
    for section, key in [("paths", k) for k in layer.get("paths", {})] + [("ivr", "flows_dir")]:
        value = layer.get(section, {}).get(key)
        if isinstance(value, str) and not os.path.isabs(value):
            layer[section][key] = str(base / value)


def _describe(error: dict, origin: dict, merged: dict) -> str:
    loc = [str(p) for p in error["loc"]]
    key = ".".join(loc)
    where = origin.get(key) or origin.get(loc[0]) or "defaults"
    if error["type"] == "extra_forbidden":
        known = SECTIONS.get(loc[0]) if len(loc) == 2 else None
        choices = sorted(known.model_fields) if known else sorted(SECTIONS)
        return f"{where}: unknown key '{key}'; expected one of: {', '.join(choices)}"
    msg = error["msg"].removeprefix("Value error, ")
    got = error.get("input")
    shown = "" if isinstance(got, dict) else f" (got {got!r})"
    return f"{where}: key '{key}': {msg}{shown}"


def load_config(path: str | os.PathLike | None = None, environ=None,
                require_file: bool = False) -> Config:
    """Build the Config from the three layers; raise ConfigError naming key and source."""
    environ = os.environ if environ is None else environ
    file_path = config_path(path, environ)
    explicit = bool(path or environ.get("HOTLINE_CONFIG"))
    merged: dict = {}
    origin: dict = {}
    source = "defaults"
    if file_path.exists():
        file_layer = _read_toml(file_path)
        _rebase_paths(file_layer, file_path.parent.resolve())
        for section, values in file_layer.items():
            origin[section] = str(file_path)
            if isinstance(values, dict):
                for key in values:
                    origin[f"{section}.{key}"] = str(file_path)
        merged = file_layer
        source = str(file_path)
    elif explicit or require_file:
        raise ConfigError(f"{file_path}: config file not found (run 'hotline init' to write one)")
    env_values, env_origin = _env_layer(environ)
    _rebase_paths(env_values, Path.cwd())
    for section, values in env_values.items():
        if not isinstance(merged.get(section), dict):
            merged[section] = {}
        merged[section].update(values)
    origin.update(env_origin)
    try:
        config = Config.model_validate(merged)
    except ValidationError as exc:
        lines = [_describe(e, origin, merged) for e in exc.errors()]
        raise ConfigError("\n".join(lines)) from None
    config._source = source
    return config
