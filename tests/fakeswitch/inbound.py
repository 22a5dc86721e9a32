"""The inbound side of the fake: what a client of port 8021 sees.

Greeting, reply texts, api bodies and events are taken from a recording of the
real switch (tests/fixtures/esl/inbound_session.jsonl); the mechanics
(subscriptions, filters, Content-Length framing) are those of mod_event_socket,
in esl_apps.demo.eventsocket (the demo switch uses them too). Tests drive it
through a small control surface: emit(), api_responses, commands, stop(), start().
"""
from esl_apps.demo.eventsocket import (  # noqa: F401 - re-exported for the tests
    UNKNOWN_API,
    EventSocketServer,
    event_frame,
    passes_filters,
)
from tests.fakeswitch.recording import Recording

# APIs whose reply does not depend on their arguments
SAME_REPLY_ANY_ARGS = {"reloadxml", "global_setvar"}


def recorded_replies(*recordings: Recording) -> dict[str, tuple[dict, bytes]]:
    """The switch's reply frames keyed by what the client sent (command verb, with
    "event"'s format and "auth-bad" for a refused password), plus the greeting and
    the disconnect notice, all as the real switch framed them."""
    out = {}
    for rec in recordings:
        frames = [f for f in rec.frames() if f.content_type != "text/event-plain"]
        assert frames and frames[0].content_type == "auth/request", rec.name
        out.setdefault("greeting", (frames[0].headers, frames[0].body))
        replies = [f for f in frames[1:] if f.content_type in ("command/reply", "api/response")]
        for command, reply in zip(rec.commands(), replies):
            verb = command.split()[0]
            if verb == "auth" and reply.headers.get("Reply-Text", "").startswith("-ERR"):
                verb = "auth-bad"
            elif verb == "event":
                verb = "event-" + command.split()[1]
            out.setdefault(verb, (reply.headers, reply.body))
        for frame in frames:
            if frame.content_type == "text/disconnect-notice":
                out.setdefault("disconnect", (frame.headers, frame.body))
    return out


class FakeSwitch(EventSocketServer):
    def __init__(self, password: str, recording: str = "inbound_session", port: int = 0):
        super().__init__(password, port)
        rec = Recording(recording)
        self.replies = recorded_replies(rec, Recording("inbound_badauth"))
        self.api_responses = rec.api_replies()
        self.recorded_events = rec.events()
        self.background_job = rec.events("BACKGROUND_JOB")[0]

    def api_reply(self, command: str) -> str:
        return self._api_reply(command)

    def _api_reply(self, command: str) -> str:
        """The recorded reply to this command; else to the same API with other
        arguments (global_setvar answers +OK whatever it sets); else not found."""
        if command in self.api_responses:
            return self.api_responses[command]
        name = command.split(" ")[0]
        for recorded, body in self.api_responses.items():
            if recorded.split(" ")[0] == name and name in SAME_REPLY_ANY_ARGS:
                return body
        return UNKNOWN_API.format(name)

    def bgapi_reply(self, command: str) -> str:
        return self.api_responses.get(command, UNKNOWN_API.format(command.split(" ")[0]))
