"""A private FreeSWITCH for one test: Hotline's rendered config on free loopback
ports, started as a subprocess, ready when sofia reports both profiles RUNNING."""
import base64
import logging
import os
import queue
import random
import secrets
import signal
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

from esl_apps.config import Config
from esl_apps.switch_render import freeswitch_args, render_switch, switch_dirs
from esl_apps.wire import read_frame

log = logging.getLogger(__name__)

DEFAULT_BINARY = "/usr/local/freeswitch/bin/freeswitch"
START_TIMEOUT = 30.0


def freeswitch_binary() -> Path:
    return Path(os.environ.get("HOTLINE_FREESWITCH_BIN") or DEFAULT_BINARY)


def free_port() -> int:
    """A loopback port free for both TCP and UDP (SIP listens on both)."""
    for _ in range(50):
        with socket.socket() as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = tcp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free loopback port found")


class EslError(Exception):
    pass


class Esl:
    """A blocking inbound event-socket client: auth, then api commands."""

    def __init__(self, host, port, password, timeout=10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.rfile = self.sock.makefile("rb")
        headers, _ = read_frame(self.rfile)
        if headers.get("Content-Type") != "auth/request":
            self.close()
            raise EslError(f"unexpected greeting {headers}")
        self.sock.sendall(f"auth {password}\n\n".encode())
        headers, _ = read_frame(self.rfile)
        if not headers.get("Reply-Text", "").startswith("+OK"):
            self.close()
            raise EslError(f"auth refused: {headers.get('Reply-Text')}")

    def api(self, command: str) -> str:
        self.sock.sendall(f"api {command}\n\n".encode())
        while True:
            headers, body = read_frame(self.rfile)
            if headers.get("Content-Type") == "api/response":
                return body.decode("utf-8", "replace")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class CdrReceiver:
    """What mod_xml_cdr posts to Hotline's /api/cdr, kept for the test to look at."""

    def __init__(self, host, port):
        posts = self.posts = queue.Queue()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                posts.put({"path": self.path, "headers": dict(self.headers), "body": body})
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def next_post(self, timeout=30.0) -> dict:
        return self.posts.get(timeout=timeout)

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    @staticmethod
    def form(post) -> dict:
        return {k: v[0] for k, v in parse_qs(post["body"].decode()).items()}

    @staticmethod
    def basic_auth(post) -> str:
        scheme, _, value = post["headers"].get("Authorization", "").partition(" ")
        return base64.b64decode(value).decode() if scheme == "Basic" else ""


class RealSwitch:
    """RealSwitch(tmp_path, agents=..., dids=..., queues=..., freeswitch={...}, log={...}).

    `flows` are loaded IVR flows to compile into the dialplan.
    Keyword arguments other than agents/dids/queues/flows/connect_watchdog/receive_cdrs are
    config sections merged over the generated ones. With receive_cdrs=True a
    CdrReceiver takes the web port (so no `hotline run` beside it): `self.cdrs`."""

    def __init__(self, tmp_path, agents=(), dids=(), queues=(), connect_watchdog=30,
                 receive_cdrs=False, flows=None, **config_overrides):
        self.root = Path(tmp_path)
        self.binary = freeswitch_binary()
        # below the kernel's ephemeral ports (ip_local_port_range starts at 32768), which
        # free_port() and every outgoing connection draw from: an RTP range inside them
        # once met a port SIPp held ("Bind Error", INCOMPATIBLE_DESTINATION at answer)
        rtp_start = random.randrange(16384, 30000, 2)
        sections = {
            # the switch runs the tree `hotline run` recompiles flows into
            "paths": {"data_dir": str(self.root / "data"),
                      "switch_conf_dir": str(self.root / "conf")},
            "web": {"host": "127.0.0.1", "port": free_port()},
            "freeswitch": {
                "esl_port": free_port(), "esl_password": secrets.token_hex(16),
                "default_password": secrets.token_hex(16), "cdr_password": secrets.token_hex(16),
                "socket_port": free_port(), "internal_sip_port": free_port(),
                "external_sip_port": free_port(),
                "rtp_start_port": rtp_start, "rtp_end_port": rtp_start + 1999,
            },
            "log": {"level": "INFO"},
        }
        for section, values in config_overrides.items():
            sections.setdefault(section, {}).update(values)
        self.config = Config.model_validate(sections)
        self.conf_dir = self.config.dirs["switch_conf_dir"]
        self.connect_watchdog = connect_watchdog
        self.proc = None
        self._esl = None
        self._log_offset = 0
        self.start_seconds = None
        self.receive_cdrs = receive_cdrs
        self.cdrs = None
        self.flows = flows or {}
        self.render(agents, dids, queues)

    # -- ports and paths
    @property
    def fs(self):
        return self.config.freeswitch

    @property
    def esl_port(self):
        return self.fs.esl_port

    @property
    def agents_port(self):
        return self.fs.internal_sip_port

    @property
    def trunks_port(self):
        return self.fs.external_sip_port

    @property
    def socket_port(self):
        return self.fs.socket_port

    @property
    def web_port(self):
        return self.config.web.port

    @property
    def log_path(self) -> Path:
        return switch_dirs(self.config)["log"] / "freeswitch.log"

    # -- life cycle
    def render(self, agents=(), dids=(), queues=()):
        return render_switch(self.config, self.conf_dir, list(agents), list(dids), list(queues),
                             flows=self.flows, connect_watchdog=self.connect_watchdog)

    def start(self, timeout=START_TIMEOUT):
        if self.receive_cdrs and self.cdrs is None:
            # Without a receiver every call's record is retried (2 x 5 s) before
            # the channel goes away, which also holds up the stop.
            self.cdrs = CdrReceiver(self.config.web.host, self.web_port)
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        began = time.monotonic()
        self._out = open(self.root / "freeswitch.out", "ab")
        self.proc = subprocess.Popen(freeswitch_args(self.binary, self.config, self.conf_dir),
                                     stdin=subprocess.DEVNULL, stdout=self._out,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_ready(began + timeout)
        self.start_seconds = time.monotonic() - began
        log.info("FreeSWITCH ready in %.2fs", self.start_seconds)
        return self

    def _wait_ready(self, deadline):
        last = "no answer yet"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"FreeSWITCH exited with {self.proc.returncode}:\n"
                                   + self.log_text(since_start=True)[-3000:])
            try:
                status = self.api("sofia status")
                if ("agents" in status and "trunks" in status
                        and status.count("RUNNING") >= 2):
                    return
                last = status
            except (OSError, EOFError, EslError) as exc:
                last = repr(exc)
                self._drop_esl()
            time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"FreeSWITCH not ready ({last})\n"
                           + self.log_text(since_start=True)[-3000:])

    def stop(self, timeout=20.0):
        self._drop_esl()
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc:
            self._out.close()
        self.proc = None

    def close(self):
        """Stop the switch, then the CDR receiver (records posted while stopping land)."""
        self.stop()
        if self.cdrs is not None:
            self.cdrs.close()
            self.cdrs = None

    def restart(self):
        self.stop()
        return self.start()

    # -- talking to it
    def esl(self) -> Esl:
        return Esl("127.0.0.1", self.esl_port, self.fs.esl_password)

    def api(self, command: str) -> str:
        if self._esl is None:
            self._esl = self.esl()
        return self._esl.api(command)

    def _drop_esl(self):
        if self._esl is not None:
            self._esl.close()
            self._esl = None

    def log_text(self, since_start=False) -> str:
        if not self.log_path.exists():
            return ""
        with open(self.log_path, "rb") as fh:
            if since_start:
                fh.seek(self._log_offset)
            return fh.read().decode("utf-8", "replace")

    def wait_for(self, predicate, timeout=10.0, interval=0.05, what="condition"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(interval)
        raise TimeoutError(f"timed out waiting for {what}")
