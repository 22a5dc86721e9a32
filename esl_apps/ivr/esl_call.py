"""A live call, driven over its outbound event socket (greenswitch session).

Every verb action is the same application, with the same arguments, that the
compiled dialplan runs (esl_apps.ivr.compile), so a node behaves alike in both.
Values are sent as application arguments of `sendmsg`, never spliced into API
command lines, and call data never carries a `${` (see calldata.clean).
"""
import re

from greenswitch.esl import OutboundSessionHasGoneAway

from esl_apps.ivr import compile as native
from esl_apps.ivr.digits import Read
from esl_apps.ivr.verbs.base import RETURN
from esl_apps.prompts.paths import say_dir


class EslCall:
    Gone = OutboundSessionHasGoneAway

    def __init__(self, session, log, target, offer_first=None):
        self.session = session
        self.offer_first = offer_first   # the sticky agent (WaitingService.offer_first)
        self.log = log
        self.target = target
        data = session.session_data or {}
        self.vars = data
        self.uuid = session.uuid
        self.caller = data.get("Caller-Caller-ID-Number", "")
        self.did = data.get("variable_hotline_did", "")
        self._prefix = None

    def var(self, name, default=""):
        return self.vars.get(f"variable_{name}", default)

    def _run(self, app, arg=None):
        event = self.session.call_command(app, arg, block=True)
        if event is not None:
            self.vars = event.headers
        return self.vars

    def _set(self, name, value):
        self.session.call_command("set", f"{name}={value}")

    def answer(self):
        self._run("answer")

    def play(self, audio):
        self._run("playback", audio.path)

    def read(self, prompt, invalid, *, minimum, maximum, tries, timeout, terminators, regex):
        self.session.call_command("unset", native.INPUT_VAR)
        got = self._run("play_and_get_digits", native.pagd_args(
            maximum, tries, timeout, terminators, prompt.path,
            invalid.path if invalid else None, regex))
        digits = got.get(f"variable_{native.INPUT_VAR}", "")
        return Read(digits if digits and re.search(regex, digits) else "",
                    got.get(f"variable_{native.INPUT_VAR}_invalid", ""))

    def say(self, language, kind, value):
        prefix = str(say_dir(self.target.prompts_dir, language))
        if prefix != self._prefix:
            self._set("sound_prefix", prefix)
            self._prefix = prefix
        self._run("say", native.say_args(language, kind, value))

    def set_var(self, name, value):
        self._set(name, value)

    def queue(self, queue, callback_key=None):
        self._set("hotline_queue", queue)
        self._set("hangup_after_bridge", "false")   # the caller stays for a survey
        self._set("RECORD_BRIDGE_REQ", "true")      # record the agent call, not the survey
        if callback_key:
            self._set("cc_exit_keys", callback_key)
        if self.offer_first is not None:
            try:
                self.offer_first(self.uuid, f"{queue}@{self.target.cc_domain}", self.caller)
            except Exception:
                self.log.exception("sticky agent not applied; the queue decides")
        got = self._run("callcenter", f"{queue}@{self.target.cc_domain}")
        return native.queue_result(got.get("variable_cc_cause", ""),
                                   got.get("variable_cc_cancel_reason", ""))

    def transfer(self, to, target) -> bool:
        dial = native.FlowCompiler({}, self.target).dial_string(to, target)
        if dial is None:
            self.log.error("transfer to %s %s: no outbound gateway is configured", to, target)
            return False
        self._set("continue_on_fail", "true")
        self._set("hangup_after_bridge", "true")
        got = self._run("bridge", dial)
        return got.get("variable_originate_disposition") == "SUCCESS"

    def voicemail(self, box, max_seconds):
        self._set("hotline_voicemail_box", box)
        self._set("hotline_voicemail_file", native.voicemail_file(self.target, box))
        self._run("playback", native.BEEP)
        self._run("record", f"${{hotline_voicemail_file}} {max_seconds} 200 5")
        self.hangup("NORMAL_CLEARING")

    def hangup(self, cause):
        self._run("hangup", cause)

    def transfer_to(self, extension, context):
        self.session.call_command("transfer", f"{extension} XML {context}")

    def handback(self, flow, node, language):
        """Give the call back to the compiled flow at `node` (native mode)."""
        context = self.var("hotline_context")
        if not context.startswith(f"hl_{flow.name}_"):
            context = native.context_name(flow.name, native.version(flow), language)
        self.transfer_to("r_return" if node == RETURN else f"n_{node}", context)
