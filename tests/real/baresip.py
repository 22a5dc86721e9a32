"""baresip as an auto-answering agent phone, driven over ctrl_tcp (netstrings)."""
import json
import shutil
import socket
import subprocess
import time
from pathlib import Path

from tests.pgcluster import free_port

CONFIG = """module_path /usr/lib/baresip/modules
sip_listen 127.0.0.1:{sip_port}
net_interface 127.0.0.1
audio_player aubridge,nil
audio_source {audio_source}
audio_alert aubridge,nil
module g711.so
module aubridge.so
module aufile.so
module account.so
module menu.so
module ctrl_tcp.so
ctrl_tcp_listen 127.0.0.1:{ctrl_port}
rtp_ports {rtp_port}-{rtp_end}
"""


def baresip_binary() -> str | None:
    return shutil.which("baresip")


class AgentPhone:
    def __init__(self, workdir: Path, extension: str, password: str, registrar_port: int,
                 audio_file: Path | None = None):
        """audio_file: a WAV (16-bit mono 8 kHz) the phone sends as its voice (aufile);
        else it sends silence."""
        self.dir = workdir / f"baresip-{extension}"
        self.extension = extension
        self.password = password
        self.registrar_port = registrar_port
        self.ctrl_port = free_port()
        self.proc = None
        self.sock = None
        self.buffer = b""
        self.events: list[dict] = []
        self._token = 0
        self.audio_source = f"aufile,{audio_file}" if audio_file else "aubridge,nil"

    def start(self, timeout: float = 15.0):
        self.dir.mkdir(parents=True, exist_ok=True)
        rtp = 40000 + (self.ctrl_port % 500) * 20
        (self.dir / "config").write_text(CONFIG.format(
            sip_port=free_port(), ctrl_port=self.ctrl_port, rtp_port=rtp, rtp_end=rtp + 19,
            audio_source=self.audio_source))
        (self.dir / "accounts").write_text(
            f"<sip:{self.extension}@127.0.0.1:{self.registrar_port}>"
            f";auth_pass={self.password};answermode=auto;regint=300\n")
        self.log = open(self.dir / "baresip.log", "w")
        self.proc = subprocess.Popen([baresip_binary(), "-f", str(self.dir)],
                                     stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while self.sock is None:
            try:
                self.sock = socket.create_connection(("127.0.0.1", self.ctrl_port), timeout=1)
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError(f"baresip for {self.extension} did not start")
                time.sleep(0.05)
        while "OK" not in self.command("reginfo", timeout=2).get("data", ""):
            if time.monotonic() > deadline:
                raise RuntimeError(f"agent {self.extension} did not register: "
                                   + (self.dir / "baresip.log").read_text()[-2000:])
            time.sleep(0.1)
        return self

    def _read_frame(self, timeout: float) -> dict | None:
        self.sock.settimeout(timeout)
        while True:
            head, sep, rest = self.buffer.partition(b":")
            if sep and head.isdigit() and len(rest) > int(head):
                n = int(head)
                frame, self.buffer = rest[:n], rest[n + 1:]
                return json.loads(frame)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return None
            if not chunk:
                raise ConnectionError("baresip closed its control socket")
            self.buffer += chunk

    def command(self, name: str, params: str = "", timeout: float = 5.0) -> dict:
        self._token += 1
        token = str(self._token)
        body = json.dumps({"command": name, "params": params, "token": token}).encode()
        self.sock.sendall(str(len(body)).encode() + b":" + body + b",")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            frame = self._read_frame(max(0.01, deadline - time.monotonic()))
            if frame is None:
                break
            if frame.get("event"):
                self.events.append(frame)
            elif frame.get("token") == token:
                return frame
        return {}

    def wait_event(self, kind: str, timeout: float = 20.0) -> dict | None:
        """Wait for a ctrl_tcp event such as CALL_ESTABLISHED or CALL_CLOSED."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events:
                if event.get("type") == kind:
                    self.events.remove(event)
                    return event
            frame = self._read_frame(max(0.01, deadline - time.monotonic()))
            if frame is not None and frame.get("event"):
                self.events.append(frame)
        return None

    def stop(self):
        if self.sock:
            self.sock.close()
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if getattr(self, "log", None):
            self.log.close()
