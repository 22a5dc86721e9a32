"""A blocking one-shot check that FreeSWITCH's event socket answers (for `hotline check`)."""
import socket

from esl_apps.wire import FrameError, read_frame


def probe_event_socket(host: str, port: int, password: str, timeout: float = 3.0) -> str:
    """Return FreeSWITCH's version line; raise ConnectionError with the reason."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            rfile = sock.makefile("rb")
            headers, _ = read_frame(rfile)
            if headers.get("Content-Type") != "auth/request":
                raise ConnectionError(f"unexpected greeting {headers.get('Content-Type')!r}")
            sock.sendall(f"auth {password}\n\n".encode())
            headers, _ = read_frame(rfile)
            if not headers.get("Reply-Text", "").startswith("+OK"):
                raise ConnectionError("the event-socket password was refused")
            sock.sendall(b"api version\n\n")
            _, body = read_frame(rfile)
            sock.sendall(b"exit\n\n")
            return body.decode("utf-8", "replace").strip()
    except (OSError, EOFError, FrameError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise ConnectionError(reason) from None
