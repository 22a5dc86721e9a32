"""Events per second: Hotline's inbound client against the fake switch, beside
greenswitch's raw parse rate on the same bytes (no socket, no dispatch).

    .venv/bin/python benchmarks/esl_events.py [--events 20000]

The events are the CHANNEL_* and callcenter::info events recorded from real
FreeSWITCH (tests/fixtures/esl/inbound_session.jsonl), replayed round-robin.
"""
import argparse
import io
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import gevent  # noqa: E402
from gevent.event import Event  # noqa: E402
from greenswitch.esl import ESLProtocol  # noqa: E402

from esl_apps.inbound import InboundClient  # noqa: E402
from esl_apps.wire import encode_event_plain, encode_frame  # noqa: E402
from tests.fakeswitch.inbound import FakeSwitch  # noqa: E402


def recorded_frames(fake: FakeSwitch, count: int) -> tuple[bytes, list[str]]:
    events = [e for e in fake.recorded_events
              if e.get("Event-Name", "").startswith("CHANNEL_") or
              e.get("Event-Subclass") == "callcenter::info"]
    if not events:
        sys.exit("no CHANNEL_* events in the recording")
    frames = [encode_frame({"Content-Type": "text/event-plain"}, encode_event_plain(e))
              for e in events]
    names = [e["Event-Name"] if e["Event-Name"] != "CUSTOM" else e["Event-Subclass"]
             for e in events]
    blob = b"".join(frames[i % len(frames)] for i in range(count))
    return blob, sorted(set(names))


def client_rate(fake: FakeSwitch, blob: bytes, count: int, names) -> float:
    client = InboundClient("127.0.0.1", fake.port, fake.password)
    seen = [0]
    done = Event()

    def handler(_event):
        seen[0] += 1
        if seen[0] == count:
            done.set()

    for name in names:
        client.on(name, handler)
    client.start()
    if not client.wait_connected(5):
        sys.exit("the client did not connect to the fake switch")
    while fake.subscribed() == 0:
        gevent.sleep(0.01)
    sock = fake.clients[0]
    start = time.perf_counter()
    gevent.get_hub().threadpool.spawn(sock.send, blob)
    if not done.wait(120):
        sys.exit(f"only {seen[0]} of {count} events arrived")
    elapsed = time.perf_counter() - start
    client.stop()
    return count / elapsed


def raw_parse_rate(blob: bytes, count: int) -> float:
    proto = ESLProtocol()
    proto.sock = io.BytesIO()
    proto.sock_file = io.BytesIO(blob)
    proto.connected = True
    start = time.perf_counter()
    proto.receive_events()
    elapsed = time.perf_counter() - start
    parsed = proto._esl_event_queue.qsize()
    if parsed != count:
        sys.exit(f"raw parse saw {parsed} of {count} events")
    return count / elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    fake = FakeSwitch(password="bench").start()
    blob, names = recorded_frames(fake, args.events)
    print(f"{args.events} recorded events ({len(blob) / args.events:.0f} bytes each on "
          f"average; kinds: {', '.join(names)}), best of {args.rounds} rounds")
    client = max(client_rate(fake, blob, args.events, names) for _ in range(args.rounds))
    raw = max(raw_parse_rate(blob, args.events) for _ in range(args.rounds))
    fake.stop()
    print(f"inbound client, end to end over TCP: {client:10.0f} events/s")
    print(f"greenswitch raw parse (in memory):   {raw:10.0f} events/s")
    print(f"ratio client / raw parse:            {client / raw:10.2f}")


if __name__ == "__main__":
    main()
