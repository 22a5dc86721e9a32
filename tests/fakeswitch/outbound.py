"""The outbound side of the fake: FreeSWITCH dialling into Hotline's socket app.

It replays a recorded call (tests/fixtures/esl/outbound_*.jsonl) frame by frame:
after the app's k-th command it sends exactly the frames the real switch sent
after that command. Every command the app sends is compared with the recorded
one, so an app that drifts from what the real switch was driven with fails
loudly instead of being answered with made-up events. Substitutions (a digit,
the UUID) are applied inside frames and Content-Length is recomputed.
"""
import io
import socket

from esl_apps.wire import encode_frame, read_command, read_frame
from tests.fakeswitch.recording import Recording


class Drift(AssertionError):
    """The app sent something other than what the recorded call saw."""


def _split_commands(text: str) -> list[str]:
    return [block for block in text.split("\n\n") if block.strip()]


def script(rec: Recording) -> tuple[list[str], list[list[tuple[dict, bytes]]]]:
    """(recorded commands, frames[k] = switch frames sent after the k-th command)."""
    commands: list[str] = []
    frames: list[list] = [[]]
    client_buf, switch_buf = "", b""
    for chunk in rec.chunks:
        if chunk["from"] == "client":
            client_buf += chunk["data"]
            *done, client_buf = client_buf.split("\n\n")
            for block in done:
                if block.strip():
                    commands.append(block)
                    frames.append([])
            continue
        switch_buf += chunk["data"].encode("utf-8")
        stream = io.BytesIO(switch_buf)
        while True:
            start = stream.tell()
            try:
                frames[len(commands)].append(read_frame(stream))
            except EOFError:
                switch_buf = switch_buf[start:]
                break
    return commands, frames


def _normalise(command: str) -> list[str]:
    return [line.strip() for line in command.strip().splitlines() if line.strip()]


class FakeCall:
    def __init__(self, recording: str, substitutions: dict[str, str] | None = None):
        self.recording = Recording(recording)
        self.commands, self.frames = script(self.recording)
        self.substitutions = substitutions or {}
        self.received: list[str] = []
        self.closed_by_app = False  # the app closed before sending every recorded command

    def _sub(self, data: bytes) -> bytes:
        text = data.decode("utf-8")
        for old, new in self.substitutions.items():
            text = text.replace(old, new)
        return text.encode("utf-8")

    def _send(self, sock, frames):
        for headers, body in frames:
            headers = {k: self._sub(v.encode()).decode() for k, v in headers.items()}
            sock.sendall(encode_frame(headers, self._sub(body)))

    def _play(self, sock, rfile) -> None:
        self._send(sock, self.frames[0])
        for k, expected in enumerate(self.commands, start=1):
            try:
                first, headers, _body = read_command(rfile)
            except (EOFError, socket.timeout):
                self.closed_by_app = True
                return
            got = "\n".join([first] + [f"{h}: {v}" for h, v in headers.items()])
            self.received.append(got)
            if _normalise(self._sub(expected.encode()).decode()) != _normalise(got):
                raise Drift(f"command {k}: app sent {got!r}, the recorded call had "
                            f"{expected!r}")
            self._send(sock, self.frames[k])

    def run(self, host: str, port: int, timeout: float = 10.0) -> list[str]:
        """Dial the app and play the recorded switch side; the app's commands."""
        with socket.create_connection((host, port), timeout=timeout) as sock:
            try:
                self._play(sock, sock.makefile("rb"))
            finally:
                # The call is over (or drifted): the switch closes the socket, as
                # FreeSWITCH does after its disconnect notice.
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        return self.received
