"""The mechanics of FreeSWITCH's event socket (mod_event_socket), server side: what
a client of port 8021 sees. Greeting, auth, subscriptions (`event plain|json`,
CUSTOM subclasses, `noevents`), filters, `api`/`bgapi` with their BACKGROUND_JOB,
`exit`, Content-Length framing.

`EventSocketServer` leaves what the switch *says* to its subclass: the reply frames
(`replies`, keyed by verb) and the body of each `api` command (`api_reply`). The
demo switch (esl_apps.demo.switch) writes them by hand; the test suite's fake
(tests/fakeswitch/inbound.py) takes them from traffic recorded from the real switch.
"""
import json
import re
import socket
import socketserver
import threading
import uuid as uuidlib
from typing import ClassVar

from esl_apps.wire import encode_event_plain, encode_frame, read_command

UNKNOWN_API = "-ERR {} Command not found!\n"


def event_frame(event: dict, body: str = "") -> bytes:
    """An event as mod_event_socket frames it: Content-Length first, then the type."""
    data = encode_event_plain(event, body)
    return (f"Content-Length: {len(data)}\nContent-Type: text/event-plain\n\n").encode() + data


class Client:
    def __init__(self, sock):
        self.sock = sock
        self.lock = threading.Lock()
        self.format = None
        self.all = False
        self.names: set[str] = set()
        self.subclasses: set[str] = set()
        self.filters: list[tuple[str, str]] = []

    def send(self, data: bytes):
        with self.lock:
            self.sock.sendall(data)

    def wants(self, event: dict) -> bool:
        if self.format is None:
            return False
        name = event.get("Event-Name", "")
        if name == "CUSTOM":
            ok = self.all or event.get("Event-Subclass") in self.subclasses or (
                "CUSTOM" in self.names and not self.subclasses)
        else:
            ok = self.all or name in self.names
        return ok and passes_filters(self.filters, event)


def _header(event: dict, name: str):
    """Header names compare case-insensitively, as switch_event_get_header does."""
    lowered = name.lower()
    return next((v for k, v in event.items() if k.lower() == lowered), None)


def passes_filters(filters: list[tuple[str, str]], event: dict) -> bool:
    """mod_event_socket's filter rule: with any filter set, an event passes when a
    positive filter matches and no later negative ('-' prefixed) one does; values
    compare case-insensitively, or as a regex when they start with '/'."""
    if not filters:
        return True
    send = False
    for name, value in filters:
        actual = _header(event, name)
        if actual is None:
            continue
        wanted, positive = value, True
        while wanted and wanted[0] in "+- ":
            positive = {"+": True, "-": False}.get(wanted[0], positive)
            wanted = wanted[1:]
        if send and positive:
            continue
        if value.startswith("/"):
            hit = re.search(wanted.strip("/"), actual) is not None
        else:
            hit = actual.lower() == wanted.lower()
        if hit:
            if not positive:
                return False
            send = True
    return send


class EventSocketServer:
    """A listener on 127.0.0.1 speaking the event-socket protocol. Subclasses set
    `replies` ({verb: (headers, body)} for greeting, auth, auth-bad, disconnect,
    event-plain, filter, noevents, exit, bgapi), `background_job` (the headers of a
    BACKGROUND_JOB event) and answer `api_reply(command)`."""

    replies: ClassVar[dict[str, tuple[dict, bytes]]] = {}
    background_job: ClassVar[dict] = {"Event-Name": "BACKGROUND_JOB"}

    def __init__(self, password: str, port: int = 0):
        self.password = password
        self.commands: list[str] = []
        self.clients: list[Client] = []
        self._port = port
        self._server = None

    def api_reply(self, command: str) -> str:
        return UNKNOWN_API.format(command.split(" ")[0])

    def bgapi_reply(self, command: str) -> str:
        return self.api_reply(command)

    # -- control surface -------------------------------------------------
    @property
    def port(self) -> int:
        return self._port

    def start(self):
        fake = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                fake._serve(self.request)

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", self._port), Handler)
        self._server.daemon_threads = True
        self._port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        """Go away like a stopped switch: listener closed, every connection reset."""
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        for client in list(self.clients):
            try:
                client.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            client.sock.close()
        self.clients.clear()

    def emit(self, event: dict, body: str = "") -> int:
        """Deliver an event to every subscribed client; how many got it."""
        event = dict(event)
        sent = 0
        for client in list(self.clients):
            if not client.wants(event):
                continue
            if client.format == "json":
                doc = dict(event)
                if body:
                    doc["_body"] = body
                data = json.dumps(doc).encode()
                frame = (f"Content-Length: {len(data)}\nContent-Type: text/event-json\n\n"
                         .encode() + data)
            else:
                frame = event_frame(event, body)
            try:
                client.send(frame)
                sent += 1
            except OSError:
                pass
        return sent

    def subscribed(self) -> int:
        return sum(1 for c in self.clients if c.format)

    def inject(self, data: bytes) -> None:
        """Write raw bytes to every client (for malformed-frame tests)."""
        for client in list(self.clients):
            client.send(data)

    # -- protocol ----------------------------------------------------------
    def _reply(self, client, key, text=None, **extra):
        headers, body = self.replies[key]
        headers = dict(headers)
        if text is not None:
            headers["Reply-Text"] = text
        headers.update(extra)
        client.send(encode_frame(headers, body))

    def _filter(self, client, rest: str) -> None:
        header, _, value = rest.partition(" ")
        if header.lower() == "delete" and value:
            header, _, value = value.partition(" ")
            if header.lower() == "all":
                client.filters.clear()
            else:
                client.filters[:] = [(h, v) for h, v in client.filters
                                     if not (h.lower() == header.lower() and (not value or v == value))]
            self._reply(client, "filter", f"+OK filter deleted. [{header}][{value}]")
        elif value:
            if header.lower() == "add":
                header, _, value = value.partition(" ")
            client.filters.append((header, value))
            self._reply(client, "filter", f"+OK filter added. [{header}]=[{value}]")
        else:
            self._reply(client, "filter", "-ERR invalid syntax")

    def _serve(self, sock):
        client = Client(sock)
        rfile = sock.makefile("rb")
        try:
            self._reply(client, "greeting")
            line, _, _ = read_command(rfile)
            if line != f"auth {self.password}":
                self._reply(client, "auth-bad")
                self._reply(client, "disconnect")
                return
            self._reply(client, "auth")
            self.clients.append(client)
            while True:
                command, _, _ = read_command(rfile)
                self.commands.append(command)
                if not self._command(client, command):
                    return
        except (EOFError, OSError, ValueError):
            return
        finally:
            if client in self.clients:
                self.clients.remove(client)
            try:
                sock.close()
            except OSError:
                pass

    def _command(self, client, command: str) -> bool:
        verb, _, rest = command.partition(" ")
        if verb == "api":
            # mod_event_socket answers an empty result (eval of an unset variable) so
            body = self.api_reply(rest.strip()) or "-ERR no reply\n"
            client.send(encode_frame({"Content-Type": "api/response"}, body))
        elif verb == "bgapi":
            job = str(uuidlib.uuid4())
            self._reply(client, "bgapi", f"+OK Job-UUID: {job}", **{"Job-UUID": job})
            command, _, arg = rest.strip().partition(" ")
            body = self.bgapi_reply(rest.strip())
            event = dict(self.background_job, **{"Job-UUID": job, "Job-Command": command})
            event.pop("Content-Length", None)
            if arg:
                event["Job-Command-Arg"] = arg
            else:
                event.pop("Job-Command-Arg", None)
            self.emit(event, body)
        elif verb == "event":
            fmt, _, names = rest.partition(" ")
            if fmt not in ("plain", "json"):
                self._reply(client, "event-plain", "-ERR invalid format")
                return True
            if not names.split():
                self._reply(client, "event-plain", "-ERR no keywords supplied")
                return True
            client.format = fmt
            # As mod_event_socket does: after CUSTOM every word is a subclass name.
            custom = False
            for word in names.split():
                if custom:
                    client.subclasses.add(word)
                elif word == "ALL":
                    client.all = True
                elif word == "CUSTOM":
                    custom = True
                    client.names.add(word)
                else:
                    client.names.add(word)
            self._reply(client, "event-plain", f"+OK event listener enabled {fmt}")
        elif verb == "filter":
            self._filter(client, rest.lstrip(" "))
        elif verb == "noevents":
            client.format = None
            client.names.clear(), client.subclasses.clear()
            self._reply(client, "noevents")
        elif verb == "exit":
            self._reply(client, "exit")
            self._reply(client, "disconnect")
            return False
        else:
            self._reply(client, "exit", "-ERR command not found")
        return True
