"""`hotline flow try`: the caller's side of a flow, in a terminal.

What the caller would hear is printed; keys typed at the `keys>` prompt are the
DTMF (Enter alone is silence, so the read times out). End of input is the
caller hanging up.
"""
from esl_apps.calllog import call_logger
from esl_apps.ivr.digits import read_like_the_switch

SAY = {"number": "number", "money": "money", "date": "date", "digits": "digits"}


class CallerHungUp(Exception):
    pass


class TerminalCall:
    Gone = CallerHungUp

    def __init__(self, echo, prompt_input, caller="13800000000", did="", uuid="try"):
        self.echo = echo                  # print a line
        self.prompt_input = prompt_input  # ask for a line; raise EOFError at the end
        self.caller = caller
        self.did = did
        self.uuid = uuid
        self.log = call_logger("esl_apps.ivr.try", uuid)
        self.variables: dict = {}

    def _ask(self, text) -> str:
        try:
            return self.prompt_input(text)
        except EOFError:
            self.echo("(the caller hangs up)")
            raise CallerHungUp() from None

    def play(self, audio):
        self.echo(f"  ♪ {audio.label}")

    def read(self, prompt, invalid, *, minimum, maximum, tries, timeout, terminators, regex):
        def once():
            self.play(prompt)
            keys = self._ask(f"keys ({minimum}-{maximum} digit(s), {timeout:g} s)> ").strip()
            for terminator in terminators:
                if terminator in keys:
                    keys = keys[:keys.index(terminator)]
            return keys[:maximum]

        def bad():
            if invalid is not None:
                self.play(invalid)
        return read_like_the_switch(once, bad, minimum=minimum, tries=tries, regex=regex)

    def say(self, language, kind, value):
        self.echo(f"  ♪ [{language} {SAY[kind]}] {value}")

    def set_var(self, name, value):
        self.variables[name] = value

    def queue(self, queue, callback_key=None):
        offer = f", {callback_key} = leave for a call back" if callback_key else ""
        answer = self._ask(f"queue {queue}: does an agent answer? [y/N{offer}]> ").strip()
        if callback_key and answer == callback_key:
            self.echo(f"  ↩ the caller pressed {callback_key} to be called back")
            return "callback"
        if answer.lower() in ("y", "yes"):
            self.echo(f"  ☎ an agent of queue {queue} talks to the caller, then hangs up")
            return "answered"
        self.echo(f"  … nobody answers in queue {queue}")
        return "timeout"

    def transfer(self, to, target):
        self.echo(f"  → transferred to {to} {target}")
        return True

    def voicemail(self, box, max_seconds):
        self.echo(f"  ● beep; recording a message for box {box} (up to {max_seconds} s)")

    def hangup(self, cause):
        self.echo(f"  ✕ hang up ({cause})")

    def handback(self, flow, node, language):  # pragma: no cover - try runs every node
        raise AssertionError("the simulator runs every node itself")
