"""A scripted call for driving the IVR runtime in tests: keys to press, what the
queue and transfers do, and a log of everything the caller heard."""
import logging

from esl_apps.ivr.digits import read_like_the_switch
from esl_apps.ivr.loader import load_flows


class Gone(Exception):
    pass


class FakeSession:
    Gone = Gone

    def __init__(self, keys=(), caller="13800138000", did="88001234", queue="timeout",
                 transfer_ok=True, hang_up_after=None):
        self.keys = list(keys)       # one string per read attempt; "" is a timeout
        self.caller, self.did, self.uuid = caller, did, "fake-uuid"
        self.log = logging.getLogger("tests.ivr")
        self.queue_result = queue
        self.transfer_ok = transfer_ok
        self.hang_up_after = hang_up_after   # number of actions before the caller hangs up
        self.heard: list[str] = []           # labels of what was played, said
        self.actions: list[tuple] = []       # (what, detail)
        self.variables: dict = {}
        self.handed_back = None

    def _act(self, what, detail=""):
        if self.hang_up_after is not None and len(self.actions) >= self.hang_up_after:
            raise Gone()
        self.actions.append((what, detail))

    def play(self, audio):
        self._act("play", audio.path)
        self.heard.append(audio.label)

    def read(self, prompt, invalid, *, minimum, maximum, tries, timeout, terminators, regex):
        self._act("read", regex)

        def once():
            self.heard.append(prompt.label)
            keys = self.keys.pop(0) if self.keys else ""
            for terminator in terminators:
                keys = keys.split(terminator)[0]
            return keys[:maximum]

        def bad():
            if invalid is not None:
                self.heard.append(invalid.label)
        return read_like_the_switch(once, bad, minimum=minimum, tries=tries, regex=regex)

    def say(self, language, kind, value):
        self._act("say", f"{language} {kind} {value}")
        self.heard.append(f"[{kind}] {value}")

    def set_var(self, name, value):
        self.variables[name] = value

    def queue(self, queue, callback_key=None):
        self._act("queue", queue)
        return self.queue_result

    def transfer(self, to, target):
        self._act("transfer", f"{to} {target}")
        return self.transfer_ok

    def voicemail(self, box, max_seconds):
        self._act("voicemail", box)

    def hangup(self, cause):
        self._act("hangup", cause)

    def handback(self, flow, node, language):
        self.handed_back = (flow.name, node, language)


def flows_from(tmp_path, **texts) -> dict:
    """Write flows given as name=YAML text and load them together (no errors allowed)."""
    for name, text in texts.items():
        (tmp_path / f"{name}.yaml").write_text(text, encoding="utf-8")
    flows, errors = load_flows(tmp_path)
    assert not errors, "\n".join(map(str, errors))
    return flows
