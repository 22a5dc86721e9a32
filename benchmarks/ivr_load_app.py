"""The app side of benchmarks/ivr_load.py: the `ivr` socket app in a process of its
own, composed as esl_apps/main.py composes it for socket mode, with stub services.

    .venv/bin/python benchmarks/ivr_load_app.py WORKDIR [--max-calls N]

It listens on a free loopback port, prints `PORT <n>` on stdout once it accepts
calls, and runs until its stdin closes or it gets SIGTERM. Flows: the installed
ivr_flows/. Lookups: a migrated SQLite database in WORKDIR with db.sample_data's
bills. Business hours: always open. Logging: INFO into WORKDIR/app.log, as
`hotline run` logs (so its cost is counted).
"""
import argparse
import os
import sys

from gevent import monkey

monkey.patch_all()

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import logging  # noqa: E402
import signal  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
from gevent.event import Event  # noqa: E402

from db import migrate  # noqa: E402
from db.connect import bind, open_database  # noqa: E402
from db.sample_data import load_sample_billing  # noqa: E402
from esl_apps.apps.ivr import IvrApp  # noqa: E402
from esl_apps.config import FreeswitchConfig  # noqa: E402
from esl_apps.ivr.compile import Target  # noqa: E402
from esl_apps.ivr.loader import load_flows  # noqa: E402
from esl_apps.ivr.runtime import Runner  # noqa: E402
from esl_apps.ivr.services import IvrServices  # noqa: E402
from esl_apps.outbound import OutboundServer  # noqa: E402
from esl_apps.paths import data_dir  # noqa: E402

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"  # as esl_apps/cli/run_cmd.py


class AlwaysOpen(IvrServices):
    """Lookups from the database; every schedule open."""

    def is_open(self, schedule):
        return True


KEEP_EVENTS = ("CHANNEL_EXECUTE_COMPLETE", "CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE")


def only_needed_events():
    """Experiment (IVR_LOAD_EXPERIMENT=filter): drop every event but those the app
    waits for before parsing it, as a switch-side `filter Event-Name ...` would. Not
    how Hotline runs; it measures what such a filter would save the app."""
    from esl_apps.hardened import HardenedSession
    original = HardenedSession.handle_event

    def handle_event(self, event):
        if event.headers.get("Content-Type") != "text/event-plain":
            return original(self, event)
        data = self._read_socket(self.sock_file, int(event.headers["Content-Length"]))
        name = data[12:data.find("\n")] if data.startswith("Event-Name: ") else ""
        if name in KEEP_EVENTS:
            event.parse_data(data)
            self._esl_event_queue.put(event)
    HardenedSession.handle_event = handle_event


def build(workdir: Path, max_calls: int) -> OutboundServer:
    db = bind(open_database(f"sqlite:///{workdir / 'hotline.db'}"))
    migrate.upgrade(db)
    load_sample_billing(db)
    db.close()  # as main.Services: a connection per greenlet from here on
    flows, errors = load_flows(data_dir("ivr_flows"))
    if errors:
        sys.exit("\n".join(map(str, errors)))
    target = Target(prompts_dir=workdir / "prompts", recordings_dir=workdir / "recordings",
                    mode="socket")
    runner = Runner(flows, AlwaysOpen(database=db), target.prompts_dir, handback=None)
    apps = {"ivr": lambda session, calllog: IvrApp(session, calllog, runner=runner,
                                                    target=target)}
    return OutboundServer("127.0.0.1", 0, apps, max_calls=max_calls)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--max-calls", type=int, default=FreeswitchConfig().max_sessions)
    parser.add_argument("--profile", type=Path, help="write cProfile stats here at exit")
    args = parser.parse_args()
    if args.profile:
        import cProfile
        profiler = cProfile.Profile()
        profiler.enable()
    args.workdir.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT,
                        filename=str(args.workdir / "app.log"))
    if os.environ.get("IVR_LOAD_EXPERIMENT") == "filter":
        only_needed_events()
    server = build(args.workdir, args.max_calls)
    server.start()
    stop = Event()
    gevent.signal_handler(signal.SIGTERM, stop.set)

    def stdin_closed():
        # stdin is not monkey-patched: read it in the hub's thread pool
        gevent.get_hub().threadpool.apply(sys.stdin.read)
        stop.set()
    gevent.spawn(stdin_closed)
    print(f"PORT {server.port}", flush=True)
    stop.wait()
    server.stop(timeout=2)
    if args.profile:
        profiler.disable()
        profiler.dump_stats(str(args.profile))


if __name__ == "__main__":
    main()
