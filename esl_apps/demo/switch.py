"""The demo switch: a stand-in for FreeSWITCH that Hotline reaches over the event
socket exactly as it reaches the real one (esl_apps.demo.eventsocket), with just
enough state behind the APIs Hotline uses: mod_callcenter (agents, tiers, queues:
esl_apps.demo.callcenter), mod_hash (the blacklist realm), global variables and
the calls it has up (`uuid_exists`). Reply texts are those of FreeSWITCH 1.11.1.

Calls are placed on it by esl_apps.demo.calls; it turns them into the events the
real switch sends (CHANNEL_ANSWER / CHANNEL_BRIDGE of the agent's leg with the
variables mod_callcenter copies to it, CHANNEL_HANGUP_COMPLETE, callcenter::info).
"""
import datetime
import itertools
import logging
import threading
import time
import uuid as uuidlib

from esl_apps.demo.callcenter import Callcenter
from esl_apps.demo.eventsocket import UNKNOWN_API, EventSocketServer

log = logging.getLogger(__name__)

VERSION = "FreeSWITCH Version 1.11.1-release~64bit ( 64bit) [Hotline demo switch]\n"
CORE_UUID = str(uuidlib.uuid4())
DISCONNECT = b"Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"

# The frames mod_event_socket sends, as recorded from FreeSWITCH 1.11.1
# (tests/fixtures/esl/inbound_session.jsonl; a test compares them).
REPLIES = {
    "greeting": ({"Content-Type": "auth/request"}, b""),
    "auth": ({"Content-Type": "command/reply", "Reply-Text": "+OK accepted"}, b""),
    "auth-bad": ({"Content-Type": "command/reply", "Reply-Text": "-ERR invalid"}, b""),
    "event-plain": ({"Content-Type": "command/reply",
                     "Reply-Text": "+OK event listener enabled plain"}, b""),
    "bgapi": ({"Content-Type": "command/reply", "Reply-Text": "+OK Job-UUID: "}, b""),
    "filter": ({"Content-Type": "command/reply", "Reply-Text": "+OK filter added."}, b""),
    "noevents": ({"Content-Type": "command/reply",
                  "Reply-Text": "+OK no longer listening for events"}, b""),
    "exit": ({"Content-Type": "command/reply", "Reply-Text": "+OK bye"}, b""),
    "disconnect": ({"Content-Type": "text/disconnect-notice",
                    "Content-Length": str(len(DISCONNECT))}, DISCONNECT),
}


class DemoSwitch(EventSocketServer):
    replies = REPLIES

    def __init__(self, password: str, port: int = 0):
        super().__init__(password, port)
        self.callcenter = Callcenter(notify=self.emit_event)
        self.globals: dict[str, str] = {}
        self.hash: dict[str, str] = {}
        self.live: set[str] = set()   # channel UUIDs of calls up now
        self._lock = threading.Lock()
        self._sequence = itertools.count(1)
        self.background_job = self.headers("BACKGROUND_JOB")

    def track(self, uuid: str, up: bool) -> None:
        """A channel comes up or goes away (what uuid_exists answers)."""
        with self._lock:
            (self.live.add if up else self.live.discard)(uuid)

    # -- events -------------------------------------------------------------
    def headers(self, name: str, **more) -> dict:
        """The headers every event of the switch starts with."""
        now = time.time()
        return {"Event-Name": name, "Core-UUID": CORE_UUID,
                "FreeSWITCH-Hostname": "hotline-demo", "FreeSWITCH-Switchname": "hotline-demo",
                "FreeSWITCH-IPv4": "127.0.0.1",
                "Event-Date-Local": datetime.datetime.fromtimestamp(now).strftime(
                    "%Y-%m-%d %H:%M:%S"),
                "Event-Date-GMT": time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(now)),
                "Event-Date-Timestamp": str(int(now * 1e6)),
                "Event-Sequence": str(next(self._sequence)), **more}

    def emit_event(self, fields: dict) -> int:
        name = fields.get("Event-Name", "CUSTOM")
        return self.emit(self.headers(name, **fields))

    def channel_event(self, name: str, uuid: str, caller: str, caller_name: str,
                      destination: str, variables: dict) -> int:
        """A CHANNEL_* event of one leg, its channel variables as variable_*."""
        fields = {"Unique-ID": uuid, "Channel-Call-UUID": uuid,
                  "Caller-Caller-ID-Number": caller, "Caller-Caller-ID-Name": caller_name,
                  "Caller-Destination-Number": destination, "Caller-Unique-ID": uuid,
                  "Answer-State": "hangup" if name == "CHANNEL_HANGUP_COMPLETE" else "answered",
                  **{f"variable_{k}": str(v) for k, v in variables.items()}}
        return self.emit(self.headers(name, **fields))

    # -- the API ------------------------------------------------------------
    def api_reply(self, command: str) -> str:
        name, _, args = command.partition(" ")
        if name == "callcenter_config":
            if args.startswith("member list"):
                return "uuid|queue|session_uuid|cid_number|cid_name|state\n+OK\n"
            return self.callcenter.command(args)
        if name == "version":
            return VERSION
        if name == "status":
            return "UP 0 years, 0 days (Hotline demo switch)\nFreeSWITCH is ready\n"
        if name == "reloadxml":
            return "+OK [Success]\n"
        if name == "global_setvar":
            key, _, value = args.partition("=")
            with self._lock:
                self.globals[key.strip()] = value
            return "+OK"
        if name == "global_getvar":
            with self._lock:
                return self.globals.get(args.strip(), "")
        if name == "uuid_exists":
            with self._lock:
                return "true" if args.strip() in self.live else "false"
        if name == "uuid_getvar":
            return "_undef_"
        if name == "hash":
            return self._hash(args)
        if name == "hash_dump":
            with self._lock:
                lines = [f"D/{k.replace('/', '_', 1)}/{v}\n" for k, v in sorted(self.hash.items())]
            return "".join(lines) or "-ERR no reply\n"
        return UNKNOWN_API.format(name)

    def _hash(self, args: str) -> str:
        action, _, rest = args.partition("/")
        with self._lock:
            if action == "insert":
                realm, key, value = rest.split("/", 2)
                self.hash[f"{realm}/{key}"] = value
                return "+OK\n"
            if action == "delete":
                realm, key = rest.split("/", 1)
                return "+OK\n" if self.hash.pop(f"{realm}/{key}", None) is not None \
                    else "-ERR Not found\n"
        return "-ERR Usage: hash [insert|delete]/<realm>/<key>/<val>\n"
