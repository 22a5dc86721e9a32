"""The `sticky` app: a compiled queue node of a queue with sticky_agent_days hands
the call here just before the caller joins the queue. The caller's last agent gets
level 0 in the queue's tiers (esl_apps.waiting.WaitingService.offer_first), then
the call goes back to the node's q_<node> extension, which runs `callcenter`.

Whatever happens here, the call goes on to the queue: on an error the app returns
and the dialplan's own `transfer` after `socket` joins the queue."""
import re

NEXT_RE = re.compile(r"^q_[A-Za-z_][A-Za-z0-9_]* XML hl_[A-Za-z0-9_]+$")
QUEUE_RE = re.compile(r"^[A-Za-z0-9_]{1,64}$")


class StickyApp:
    def __init__(self, session, log, *, offer_first, cc_domain: str):
        self.session = session
        self.log = log
        self.offer_first = offer_first
        self.cc_domain = cc_domain

    def run(self):
        data = self.session.session_data or {}
        join = data.get("variable_hotline_sticky_next", "")
        queue = data.get("variable_hotline_queue", "")
        if not NEXT_RE.match(join):
            self.log.error("sticky: no queue extension to go on to (%r)", join)
            return
        try:
            if QUEUE_RE.match(queue):
                agent = self.offer_first(self.session.uuid, f"{queue}@{self.cc_domain}",
                                         data.get("Caller-Caller-ID-Number", ""))
                self.log.info("sticky: queue %s, first offer to %s", queue, agent or "nobody")
            else:
                self.log.error("sticky: not a queue name: %r", queue)
        finally:
            self.session.call_command("transfer", join)
