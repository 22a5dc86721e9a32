"""Recorded event-socket traffic: a JSON-lines transcript of both directions.

Each line is {"from": "switch" | "client", "data": "<raw text>"}, written by
tests/fixtures/esl/record.py (a TCP proxy between a client and real FreeSWITCH).
"""
import io
import json
from pathlib import Path

from esl_apps.wire import parse_headers, read_frame

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "esl"


class Frame:
    def __init__(self, headers: dict, body: bytes):
        self.headers = headers
        self.body = body

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")

    def event(self) -> dict:
        """The URL-decoded headers of a text/event-plain body."""
        head, _, _rest = self.body.decode("utf-8").partition("\n\n")
        return parse_headers(head, decode=True)

    def event_body(self) -> str:
        _head, _, rest = self.body.decode("utf-8").partition("\n\n")
        return rest


class Recording:
    def __init__(self, name: str):
        self.name = name
        self.chunks = [json.loads(line) for line in
                       (FIXTURES / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
                       if line.strip()]

    def stream(self, side: str) -> bytes:
        return "".join(c["data"] for c in self.chunks if c["from"] == side).encode("utf-8")

    def frames(self, side: str = "switch") -> list[Frame]:
        rfile = io.BytesIO(self.stream(side))
        out = []
        while True:
            try:
                headers, body = read_frame(rfile)
            except EOFError:
                return out
            out.append(Frame(headers, body))

    def commands(self) -> list[str]:
        """What the client sent, one command block each."""
        return [c for c in self.stream("client").decode("utf-8").split("\n\n") if c.strip()]

    def events(self, name: str | None = None) -> list[dict]:
        found = [f.event() for f in self.frames() if f.content_type == "text/event-plain"]
        if name is None:
            return found
        return [e for e in found if e.get("Event-Name") == name
                or e.get("Event-Subclass") == name]

    def api_replies(self) -> dict[str, str]:
        """Each `api X` the client sent, paired with the switch's api/response body."""
        sent = [c[4:].strip() for c in self.commands() if c.startswith("api ")]
        bodies = [f.body.decode("utf-8") for f in self.frames()
                  if f.content_type == "api/response"]
        return dict(zip(sent, bodies))
