"""The event-socket wire format: header blocks, Content-Length bodies, plain events.

A frame is "Key: Value" lines ended by an empty line, then Content-Length bytes of
body. Inside a text/event-plain body the header values are URL-encoded.
"""
from urllib.parse import quote, unquote


class FrameError(ValueError):
    """A frame that does not follow the protocol."""


MAX_HEADER_LINES = 256
MAX_BODY = 16 * 1024 * 1024


def parse_headers(block: str, decode: bool = False) -> dict[str, str]:
    headers = {}
    for line in block.splitlines():
        if not line:
            continue
        key, sep, value = line.partition(": ")
        if not sep:
            key, sep, value = line.partition(":")
        if not sep:
            raise FrameError(f"header line without ':' {line[:60]!r}")
        headers[key.strip()] = unquote(value.strip()) if decode else value.strip()
    return headers


def _read_lines(rfile) -> list[str]:
    """The non-empty lines of one block, up to the empty line that ends it."""
    lines = []
    while True:
        raw = rfile.readline(65536)
        if not raw:
            raise EOFError("connection closed")
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not line:
            if lines:
                return lines
            continue
        lines.append(line)
        if len(lines) > MAX_HEADER_LINES:
            raise FrameError("too many header lines")


def _read_body(rfile, headers: dict[str, str]) -> bytes:
    if "Content-Length" not in headers:
        return b""
    try:
        length = int(headers["Content-Length"])
    except ValueError:
        raise FrameError(f"bad Content-Length {headers['Content-Length']!r}") from None
    if not 0 <= length <= MAX_BODY:
        raise FrameError(f"Content-Length {length} out of range")
    body = rfile.read(length)
    if len(body) < length:
        raise EOFError("connection closed inside a body")
    return body


def read_frame(rfile) -> tuple[dict[str, str], bytes]:
    """Read one frame (headers, body) from a binary file object; EOF raises EOFError."""
    headers = parse_headers("\n".join(_read_lines(rfile)))
    return headers, _read_body(rfile, headers)


def encode_frame(headers, body: bytes | str = b"") -> bytes:
    if isinstance(body, str):
        body = body.encode("utf-8")
    items = list(headers.items()) if isinstance(headers, dict) else list(headers)
    if body:
        items = [(k, v) for k, v in items if k != "Content-Length"]
        items.append(("Content-Length", str(len(body))))
    head = "".join(f"{k}: {v}\n" for k, v in items) + "\n"
    return head.encode("utf-8") + body


def encode_event_plain(headers, body: str = "") -> bytes:
    """An event as text/event-plain body: URL-encoded header values, optional body."""
    items = list(headers.items()) if isinstance(headers, dict) else list(headers)
    data = body.encode("utf-8")
    if data:
        items = [(k, v) for k, v in items if k != "Content-Length"]
        items.append(("Content-Length", str(len(data))))
    text = "".join(f"{k}: {quote(str(v), safe='')}\n" for k, v in items) + "\n"
    return text.encode("utf-8") + data


def check_command_line(text: str) -> str:
    """Refuse anything that would let a value end one ESL command and start another."""
    if any(c in text for c in "\r\n\0"):
        raise ValueError("ESL command text must not contain line breaks or NUL")
    return text


def read_command(rfile) -> tuple[str, dict[str, str], bytes]:
    """Read one client command block: its first line, header lines, optional body."""
    lines = _read_lines(rfile)
    headers = parse_headers("\n".join(lines[1:]))
    return lines[0], headers, _read_body(rfile, headers)
