"""The `ivr` app: run flow nodes on a call handed over by the dialplan.

Native mode: the compiled dialplan hands over only the nodes it cannot run
itself (lookups); `hotline_resume` says which (FLOW:NODE), and the call goes
back to the compiled flow at the next node. Socket mode: the whole flow named
by `hotline_flow` runs here. Either way a flow that ends without taking the
call anywhere sends it to the fail-open route.
"""
from esl_apps.ivr import calldata
from esl_apps.ivr.compile import FALLBACK
from esl_apps.ivr.esl_call import EslCall


class IvrApp:
    def __init__(self, session, log, *, runner, target, offer_first=None):
        self.session = session
        self.log = log
        self.runner = runner
        self.target = target
        self.offer_first = offer_first

    def run(self):
        call = EslCall(self.session, self.log, self.target, self.offer_first)
        resume = call.var("hotline_resume")
        if resume:
            flow, _, node = resume.partition(":")
        else:  # socket mode: set up the call as the compiled entry does
            flow, node = call.var("hotline_flow"), None
            call.answer()
            call.set_var("playback_terminators", "any")
            call.set_var(calldata.var_name("caller"), calldata.clean(call.caller))
            call.set_var(calldata.var_name("did"), calldata.clean(call.did))
            call.set_var(calldata.EXPORTS, ",".join(calldata.BASE_EXPORTS))
        data = {key: value for key, value in
                ((calldata.key_of(name.removeprefix("variable_")), value)
                 for name, value in call.vars.items() if name.startswith("variable_"))
                if key is not None}
        data.setdefault("caller", call.caller)
        data.setdefault("did", call.did)
        language = call.var("hotline_language")[:2]
        exports = call.var(calldata.EXPORTS)
        result = self.runner.run(call, flow, node or None,
                                 language=language if language in ("zh", "en") else None,
                                 data=data, path=call.var("hotline_path").split(),
                                 exports=exports.split(",") if exports else None)
        self.log.info("flow %s ended: %s %s", flow, result.end, result.detail)
        if result.end == "fallback":
            call.transfer_to(*FALLBACK.split(" XML "))
