"""A blocking event-socket connection for one command-line run: auth, api, exit."""
import socket

from esl_apps.inbound import EslUnavailable
from esl_apps.wire import FrameError, check_command_line, read_frame


class OneShotEsl:
    def __init__(self, host: str, port: int, password: str, timeout: float = 5.0):
        try:
            self.sock = socket.create_connection((host, port), timeout=timeout)
            self.rfile = self.sock.makefile("rb")
            headers, _ = read_frame(self.rfile)
            self.sock.sendall(f"auth {check_command_line(password)}\n\n".encode())
            headers, _ = read_frame(self.rfile)
        except (OSError, EOFError, FrameError) as exc:
            raise EslUnavailable(f"FreeSWITCH not reachable at {host}:{port}: {exc}") from None
        if not headers.get("Reply-Text", "").startswith("+OK"):
            self.close()
            raise EslUnavailable("the event-socket password was refused")

    def api(self, command: str) -> str:
        try:
            self.sock.sendall(f"api {check_command_line(command)}\n\n".encode())
            while True:
                headers, body = read_frame(self.rfile)
                if headers.get("Content-Type") == "api/response":
                    return body.decode("utf-8", "replace")
        except (OSError, EOFError, FrameError) as exc:
            raise EslUnavailable(f"connection to FreeSWITCH lost: {exc}") from None

    def close(self):
        try:
            self.sock.sendall(b"exit\n\n")
        except OSError:
            pass
        self.sock.close()
