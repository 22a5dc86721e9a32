"""Hotline itself beside a RealSwitch: `hotline run` as a subprocess on the same
config, and a blocking event watcher on the switch's event socket."""
import json
import os
import queue
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from esl_apps.wire import parse_headers, read_frame
from tests.real.harness import Esl

HOTLINE = str(Path(sys.executable).with_name("hotline"))


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def write_config(config, path: Path) -> Path:
    """The switch's Config as a hotline.toml, with a web secret added."""
    data = config.model_dump(exclude_none=True)
    data["web"]["secret_key"] = secrets.token_urlsafe(32)
    lines = []
    for section, values in data.items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {_toml_value(value)}" for key, value in values.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class HotlineProcess:
    def __init__(self, switch, **env_overrides):
        self.switch = switch
        self.config_path = write_config(switch.config, switch.root / "hotline.toml")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
        self.env["HOTLINE_CONFIG"] = str(self.config_path)
        self.env.update(env_overrides)
        self.proc = None
        subprocess.run([HOTLINE, "init"], env=self.env, check=True, capture_output=True)

    def start(self, timeout=20.0):
        self.out = open(self.switch.root / "hotline.out", "w")
        self.proc = subprocess.Popen([HOTLINE, "run"], env=self.env, stdout=self.out,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while "connected to FreeSWITCH" not in self.output():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("hotline run did not connect:\n" + self.output())
            time.sleep(0.05)
        return self

    def output(self) -> str:
        path = self.switch.root / "hotline.out"
        return path.read_text() if path.exists() else ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(20)
        if self.proc:
            self.out.close()
        self.proc = None


class EventWatcher:
    """Subscribes to events on the real switch and collects them in a thread."""

    def __init__(self, switch, events="CHANNEL_ANSWER CHANNEL_EXECUTE_COMPLETE "
                                      "CHANNEL_HANGUP_COMPLETE"):
        self.esl = Esl("127.0.0.1", switch.esl_port, switch.fs.esl_password)
        self.esl.sock.sendall(f"event plain {events}\n\n".encode())
        headers, _ = read_frame(self.esl.rfile)
        assert headers.get("Reply-Text", "").startswith("+OK"), headers
        self.esl.sock.settimeout(None)
        self.queue = queue.Queue()
        self.seen: list[dict] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        try:
            while True:
                headers, body = read_frame(self.esl.rfile)
                if headers.get("Content-Type") == "text/event-plain":
                    head = body.decode("utf-8", "replace").split("\n\n", 1)[0]
                    self.queue.put(parse_headers(head, decode=True))
        except (EOFError, OSError):
            return

    def mark(self) -> int:
        """Where the events seen so far end: wait(..., since=mark) skips them (all
        the events still queued come after it)."""
        return len(self.seen)

    def wait(self, predicate, timeout=30.0, what="event", since=0) -> dict:
        deadline = time.monotonic() + timeout
        for event in self.seen[since:]:
            if predicate(event):
                return event
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                names = [(e.get("Event-Name"), e.get("Application")) for e in self.seen]
                raise TimeoutError(f"no {what}; saw {names}")
            try:
                event = self.queue.get(timeout=remaining)
            except queue.Empty:
                continue
            self.seen.append(event)
            if predicate(event):
                return event

    def close(self):
        self.esl.close()
