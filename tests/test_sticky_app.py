"""The `sticky` app: ask the waiting service for the caller's last agent, then always
go on to the queue node's q_ extension."""
import logging

import pytest

from esl_apps.apps.sticky import StickyApp

U1 = "1a1a1a1a-0000-4000-8000-000000000001"
NEXT = "q_queue XML hl_heating_0a1b2c3d_zh"


class Session:
    def __init__(self, **variables):
        self.uuid = U1
        self.session_data = {"Caller-Caller-ID-Number": "13800138000"}
        self.session_data.update({f"variable_{k}": v for k, v in variables.items()})
        self.sent = []

    def call_command(self, app, arg=None, block=False):
        self.sent.append((app, arg))


def run(session, offer_first):
    StickyApp(session, logging.getLogger("test"), offer_first=offer_first,
              cc_domain="default").run()


def test_asks_then_joins_the_queue():
    asked = []
    session = Session(hotline_queue="repairs", hotline_sticky_next=NEXT)
    run(session, lambda *a: asked.append(a) or "1001@default")
    assert asked == [(U1, "repairs@default", "13800138000")]
    assert session.sent == [("transfer", NEXT)]


def test_a_failure_still_joins_the_queue():
    def broken(*a):
        raise RuntimeError("database gone")
    session = Session(hotline_queue="repairs", hotline_sticky_next=NEXT)
    with pytest.raises(RuntimeError):
        run(session, broken)
    assert session.sent == [("transfer", NEXT)]


@pytest.mark.parametrize("queue, nxt, asks, sent", [
    ("repairs; hupall", NEXT, False, [("transfer", NEXT)]),      # a bad name is not used
    ("repairs", "q_queue XML public", False, []),                 # only a flow context
    ("repairs", NEXT + " && hupall", False, []),
])
def test_values_are_checked(queue, nxt, asks, sent):
    asked = []
    session = Session(hotline_queue=queue, hotline_sticky_next=nxt)
    run(session, lambda *a: asked.append(a))
    assert bool(asked) == asks and session.sent == sent
