"""Screen-pop latency: from the switch event to the desk receiving the pop.

    .venv/bin/python benchmarks/screen_pop.py [--agents 200] [--rounds 3]

One process under gevent, as `hotline run` is: the panel (create_app) on gevent's
WSGIServer, the inbound client connected over TCP to the fake switch
(tests/fakeswitch), the desk's DeskEvents consumer and PopHub, and one
server-sent-event connection per agent (a plain HTTP client per agent, signed in
with a session cookie; a browser's EventSource reads the same bytes). SQLite
database in a temporary directory; half the callers are known customers, so half
the pops carry a customer card with a call and its note.

Latency is measured from just before the fake switch writes the event to its
socket to the moment the agent's connection has read the pop (same clock). The
clients share the event loop with the server, so the figures include their
work too. Two patterns:

- sequential: one call at a time, each agent in turn;
- burst: every agent's call bridged at the same moment (all events written in
  one go), the worst case of a hotline where every agent is offered a call at once.
"""
from gevent import monkey

monkey.patch_all()

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import gevent
import gevent.event
from gevent import socket
from gevent.pywsgi import WSGIServer

from db import migrate
from db.connect import bind, open_database
from db.models import (
    Agent,
    CallNote,
    CallRecord,
    Customer,
    CustomerPhone,
    NoteCategory,
    User,
    database,
)
from esl_apps.inbound import InboundClient
from tests.fakeswitch.inbound import FakeSwitch
from webui.auth import SEEN_KEY, WebUser
from webui.desk.control import AgentControl
from webui.events import DeskEvents, PopHub

PASSWORD = "ClueCon"


def setup_database(path: str, agents: int):
    db = bind(open_database(f"sqlite:///{path}"))
    migrate.upgrade(db)
    users = []
    category = NoteCategory.get(NoteCategory.code == "repair")
    with db.atomic():
        for i in range(agents):
            ext = str(2000 + i)
            user = User.create(username=f"agent{ext}", role="agent", password_hash="x")
            Agent.create(user=user, extension=ext, display_name=ext, sip_password="x" * 16)
            users.append(user)
            if i % 2 == 0:  # a known caller with one earlier call and its note
                number = f"+86138{i:08d}"
                customer = Customer.create(name=f"客户 {i}", address="幸福路 8 号",
                                           region="和平区")
                CustomerPhone.create(customer=customer, e164=number)
                call = CallRecord.create(call_uuid=str(uuid.uuid4()), direction="inbound",
                                         caller=number[3:], caller_e164=number,
                                         customer=customer)
                CallNote.create(call=call, customer=customer, text="暖气不热",
                                category=category)
    db.close()
    return db, users


def session_cookie(app, user) -> str:
    serializer = app.session_interface.get_signing_serializer(app)
    return serializer.dumps({"_user_id": WebUser(user).get_id(), "_fresh": True,
                             SEEN_KEY: time.time()})


class Desk:
    """One agent's SSE connection, reading pops as they come."""

    def __init__(self, port: int, cookie: str, ext: str, received: dict):
        self.ext = ext
        self.received = received
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.sendall((f"GET /desk/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           f"Accept: text/event-stream\r\n"
                           f"Cookie: hotline_session={cookie}\r\n\r\n").encode())
        self.ready = gevent.event.Event()
        self.greenlet = gevent.spawn(self.read)

    def read(self):
        buf = b""
        while True:
            data = self.sock.recv(65536)
            if not data:
                return
            buf += data
            if not self.ready.is_set() and b": connected" in buf:
                status = buf.split(b"\r\n", 1)[0]
                if b" 200 " not in status:
                    raise SystemExit(f"desk {self.ext}: {status!r}")
                self.ready.set()
            while b"\n\n" in buf:
                block, buf = buf.split(b"\n\n", 1)
                if b"event: pop" in block:
                    at = time.perf_counter()
                    line = next(x for x in block.split(b"\n") if x.startswith(b"data: "))
                    payload = json.loads(line[6:])
                    self.received[payload["leg_uuid"]] = (at, payload)

    def close(self):
        self.greenlet.kill()
        self.sock.close()


def agent_leg(ext: str, i: int) -> dict:
    member = str(uuid.uuid4())
    return {"Event-Name": "CHANNEL_BRIDGE", "Unique-ID": str(uuid.uuid4()),
            "Event-Date-Timestamp": str(int(time.time() * 1e6)),
            "Caller-Caller-ID-Number": f"138{i:08d}", "Caller-Caller-ID-Name": f"Caller {i}",
            "variable_cc_agent": f"{ext}@default", "variable_cc_side": "agent",
            "variable_cc_queue": "heating@default",
            "variable_cc_member_session_uuid": member,
            "variable_hotline_data_account": f"2048{i:04d}",
            "variable_hotline_path": "main:menu main:agent"}


def percentile(values, p):
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def wait_for(received, keys, seconds=10.0):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end and not all(k in received for k in keys):
        gevent.sleep(0.001)
    return [k for k in keys if k not in received]


def run(agents: int, rounds: int):
    from tests.webpanel import make_app

    tmp = tempfile.mkdtemp(prefix="hotline-pop-")
    db, users = setup_database(os.path.join(tmp, "hotline.db"), agents)
    hub = PopHub()
    app = make_app(HOTLINE_POP_HUB=hub, HOTLINE_AGENT_CONTROL=AgentControl(db), TESTING=False)
    app.logger.disabled = True
    web = WSGIServer(("127.0.0.1", 0), app, log=None)
    web.start()
    fake = FakeSwitch(PASSWORD).start()
    esl = InboundClient("127.0.0.1", fake.port, PASSWORD)
    DeskEvents(esl, hub, database)
    esl.start()
    if not esl.wait_connected(5):
        sys.exit("the inbound client did not connect to the fake switch")
    while fake.subscribed() == 0:
        gevent.sleep(0.01)

    received: dict = {}
    opened = time.perf_counter()
    desks = []
    for user in users:
        ext = Agent.get(Agent.user == user).extension
        desks.append(Desk(web.server_port, session_cookie(app, user), ext, received))
    for desk in desks:
        if not desk.ready.wait(30):
            sys.exit(f"desk {desk.ext} did not connect")
    opened = time.perf_counter() - opened
    assert all(hub.listeners(d.ext) == 1 for d in desks)

    seq, burst, cards = [], [], 0
    for _round in range(rounds):
        for i, desk in enumerate(desks):   # sequential
            event = agent_leg(desk.ext, i)
            sent = time.perf_counter()
            fake.emit(event)
            missing = wait_for(received, [event["Unique-ID"]])
            if missing:
                sys.exit(f"pop for {desk.ext} never arrived")
            at, payload = received[event["Unique-ID"]]
            seq.append(at - sent)
            cards += payload["customer"] is not None
            gevent.sleep(0.002)
        events = [agent_leg(desk.ext, i) for i, desk in enumerate(desks)]   # burst
        sent = time.perf_counter()
        for event in events:
            fake.emit(event)
        missing = wait_for(received, [e["Unique-ID"] for e in events], 30)
        if missing:
            sys.exit(f"{len(missing)} pops of the burst never arrived")
        burst += [received[e["Unique-ID"]][0] - sent for e in events]
        gevent.sleep(0.2)

    for desk in desks:
        desk.close()
    esl.stop()
    fake.stop()
    web.stop(timeout=1)
    return {"opened": opened, "seq": seq, "burst": burst, "cards": cards}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    try:
        from benchmarks.machine import describe
    except ImportError:  # the machine description is a nicety
        describe = None
    if describe is not None:
        print(describe())
    result = run(args.agents, args.rounds)
    ms = 1000
    print(f"{args.agents} desk connections (SSE) open in {result['opened']:.2f} s")
    for name, values in (("sequential", result["seq"]), ("burst", result["burst"])):
        print(f"{name:10s} pops {len(values):5d}  p50 {percentile(values, 50) * ms:7.2f} ms  "
              f"p99 {percentile(values, 99) * ms:7.2f} ms  max {max(values) * ms:7.2f} ms  "
              f"mean {statistics.mean(values) * ms:7.2f} ms")
    print(f"pops with a customer card: {result['cards']} of {len(result['seq'])} sequential")


if __name__ == "__main__":
    main()
