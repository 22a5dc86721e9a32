"""Concurrent IVR calls in socket mode: the `ivr` app (its own process, under
gevent, as `hotline run` composes it) driven by N fake-switch calls at once.

    .venv/bin/python benchmarks/ivr_load.py [--calls 1 100 1000] [--min-calls 400]

Each call replays tests/fixtures/esl/outbound_ivr_socket.jsonl, a real call through
the whole heating flow (menu 1, account 20481357#, the bill read back, 0 for an
agent, hang-up in the queue): tests/fakeswitch/outbound.FakeCall sends what the
real switch sent and raises Drift if the app's commands differ. Each call gets its
own channel UUID and caller number, and the recorded prompts directory is mapped
to the app's. The app process (benchmarks/ivr_load_app.py) looks bills up in
SQLite (db.sample_data) and finds every schedule open.

Two ways of replaying, each for every N:

- flat out: every switch frame is sent as soon as the app's command arrives, so
  the calls compete for the app's one core: capacity (calls/s), CPU per call, and
  the read latency under saturation. The N calls of a round dial in at the
  switch's sessions_per_second (100/s; FreeSWITCH creates no sessions faster, and
  a burst of 1000 connects overflows the app's listen queue of 128), and rounds
  are repeated until at least --min-calls calls have run (N=1: calls one after the
  other).
- real time: frames are held back by the gaps recorded between them (prompts
  playing, the caller keying), so a call lasts as long as the real one (~35 s);
  starts are spread at random over one call length (--ramp), so calls arrive at
  the rate that keeps N calls going and up to N are live at once: the read
  latency at that load, and memory per concurrent call.

Latency: from the fake sending the CHANNEL_EXECUTE_COMPLETE of play_and_get_digits
that carries the caller's digits (3 reads per call) to the app's next command
arriving. CPU and memory are the app process's (/proc/PID/stat utime+stime,
/proc/PID/status VmHWM less VmRSS after one warm-up call, over the peak number of
calls live at once); the fake's own CPU is printed beside them to show it is not
the bottleneck, and so is the CPU other processes took meanwhile (a shared machine
skews the figures; --wait-quiet waits for it to calm down first).
"""
import argparse
import os
import sys

from gevent import monkey

monkey.patch_all()

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import random  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402

from benchmarks import machine  # noqa: E402
from esl_apps.config import FreeswitchConfig  # noqa: E402
from tests.fakeswitch.outbound import Drift, FakeCall  # noqa: E402

HERE = Path(__file__).resolve().parent
RECORDING = "outbound_ivr_socket"
RECORDED_PROMPTS = re.compile(r"/tmp/hotline-record-[^/]+/prompts")
RECORDED_CALLER = "13800138000"
STAMP = re.compile(rb"\nEvent-Date-Timestamp: (\d+)\n")


def _is_read_complete(headers, body) -> bool:
    return (headers.get("Content-Type") == "text/event-plain"
            and b"Event-Name: CHANNEL_EXECUTE_COMPLETE\n" in body
            and b"\nApplication: play_and_get_digits\n" in body)


class Script:
    """The recording, parsed once and shared by every call."""

    def __init__(self, name=RECORDING):
        call = FakeCall(name)
        self.recording, self.commands, self.frames = call.recording, call.commands, call.frames
        text = "".join(c["data"] for c in self.recording.chunks)
        self.prompts_dir = RECORDED_PROMPTS.search(text).group(0)
        self.uuid = self.recording.frames()[0].headers["Unique-ID"]
        if RECORDED_CALLER not in text:
            sys.exit(f"the recording has no caller {RECORDED_CALLER}")
        # which batches end a digit read, and the recorded gap before each frame
        self.reads = {id(batch) for batch in self.frames
                      if any(_is_read_complete(h, b) for h, b in batch)}
        self.gaps = {}
        for batch in self.frames:
            last, gaps = None, []
            for _headers, body in batch:
                found = STAMP.search(body)
                now = int(found.group(1)) / 1e6 if found else None
                gaps.append(now - last if now is not None and last is not None else 0.0)
                last = now if now is not None else last
            self.gaps[id(batch)] = gaps


class _Stamped:
    """The fake's read side: note when the first line of a command arrives."""

    def __init__(self, rfile, call):
        self.rfile = rfile
        self.call = call

    def readline(self, *args):
        line = self.rfile.readline(*args)
        if self.call.mark is not None and line.strip():
            self.call.latencies.append(time.perf_counter() - self.call.mark)
            self.call.mark = None
        return line

    def read(self, *args):
        return self.rfile.read(*args)


class TimedCall(FakeCall):
    """FakeCall with the shared script, a timestamp on each digit read, and
    (real time) the recorded gaps between frames."""

    def __init__(self, script: Script, substitutions: dict, real_time: bool):
        # FakeCall.__init__ would parse the 600 KB recording again for every call
        self.recording, self.commands, self.frames = (script.recording, script.commands,
                                                      script.frames)
        self.substitutions = substitutions
        self.received = []
        self.closed_by_app = False
        self.script = script
        self.real_time = real_time
        self.mark = None
        self.latencies = []

    def _send(self, sock, frames):
        gaps = self.script.gaps[id(frames)] if self.real_time else None
        for i, frame in enumerate(frames):
            if gaps and gaps[i] > 0:
                gevent.sleep(gaps[i])
            super()._send(sock, [frame])
            if id(frames) in self.script.reads and _is_read_complete(*frame):
                self.mark = time.perf_counter()

    def _play(self, sock, rfile):
        # FreeSWITCH sets TCP_NODELAY on its outbound sockets (mod_event_socket.c);
        # without it, the frames written one by one wait for the app's delayed ACK
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return super()._play(sock, _Stamped(rfile, self))


class App:
    """The app process: benchmarks/ivr_load_app.py."""

    def __init__(self, workdir: Path, max_calls: int):
        extra = ["--profile", os.environ["IVR_LOAD_PROFILE"]] \
            if os.environ.get("IVR_LOAD_PROFILE") else []
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "ivr_load_app.py"), str(workdir),
             "--max-calls", str(max_calls)] + extra,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("PORT "):
            sys.exit(f"the app process did not start: {line!r}")
        self.port = int(line.split()[1])

    def cpu(self) -> float:
        return machine.process_cpu(self.proc.pid)

    def memory(self) -> dict:
        with open(f"/proc/{self.proc.pid}/status") as fh:
            return {k: int(v.split()[0]) for k, v in
                    (line.split(":", 1) for line in fh) if k in ("VmRSS", "VmHWM")}

    def settle(self, quiet=0.3, limit=30.0):
        """Wait until the app has stopped using CPU (its last calls wound up)."""
        deadline = time.monotonic() + limit
        before = self.cpu()
        while time.monotonic() < deadline:
            time.sleep(quiet)
            now = self.cpu()
            if now - before < 0.01:
                return
            before = now

    def stop(self):
        self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def one_round(script, app, offsets, real_time, serial, live) -> tuple[list, Counter, list]:
    """One call per start offset (seconds); `live` keeps the peak of calls at once."""
    calls = []
    for _ in offsets:
        calls.append(TimedCall(script, {
            script.prompts_dir: str(app.prompts_dir),
            script.uuid: str(uuid.uuid4()),
            RECORDED_CALLER: f"139{serial[0]:08d}",
        }, real_time))
        serial[0] += 1
    failures = Counter()
    examples = []

    def run(call, delay):
        if delay:
            gevent.sleep(delay)
        live["now"] += 1
        live["peak"] = max(live["peak"], live["now"])
        try:
            call.run("127.0.0.1", app.port, timeout=120)
        except Drift as exc:
            failures["drift"] += 1
            examples.append(str(exc)[:300])
            return
        except Exception as exc:  # noqa: BLE001 - counted and shown
            failures[type(exc).__name__] += 1
            examples.append(f"{type(exc).__name__}: {exc}"[:300])
            return
        finally:
            live["now"] -= 1
        if call.closed_by_app or len(call.received) != len(call.commands):
            failures["incomplete"] += 1
            examples.append(f"app sent {len(call.received)} of {len(call.commands)} commands")

    greenlets = [gevent.spawn(run, call, delay) for call, delay in zip(calls, offsets)]
    gevent.joinall(greenlets)
    latencies = [x for call in calls for x in call.latencies]
    return latencies, failures, examples


def measure(script, count, rounds, real_time, starts, quiet=0.0) -> dict:
    """`starts(count)`: the start offsets of one round's calls."""
    with tempfile.TemporaryDirectory(prefix="hotline-ivr-load-") as tmp:
        app = App(Path(tmp), max_calls=max(1000, count))
        app.prompts_dir = Path(tmp) / "prompts"
        try:
            serial = [0]
            _, failures, examples = one_round(script, app, [0], False, serial,
                                              {"now": 0, "peak": 0})  # warm-up
            if failures:
                sys.exit(f"the warm-up call failed: {examples}")
            app.settle()
            if quiet:
                machine.wait_quiet([app.proc.pid], quiet)
            base_rss = app.memory()["VmRSS"]
            cpu0, own0 = app.cpu(), resource.getrusage(resource.RUSAGE_SELF)
            busy0, overflows0 = machine.busy_cpu(), machine.listen_overflows()
            live = {"now": 0, "peak": 0}
            began = time.perf_counter()
            latencies, failures, examples = [], Counter(), []
            for _ in range(rounds):
                lat, fail, ex = one_round(script, app, starts(count), real_time, serial, live)
                latencies += lat
                failures += fail
                examples += ex
            wall = time.perf_counter() - began
            busy = machine.busy_cpu()
            cpu = app.cpu() - cpu0
            own = resource.getrusage(resource.RUSAGE_SELF)
            own_cpu = own.ru_utime + own.ru_stime - own0.ru_utime - own0.ru_stime
            other = max(0.0, busy - busy0 - cpu - own_cpu) / wall
            overflows = machine.listen_overflows() - overflows0
            app.settle()
            cpu = app.cpu() - cpu0
            peak = app.memory()["VmHWM"]
        finally:
            app.stop()
    total = count * rounds
    return {"n": count, "calls": total, "wall": wall, "rate": total / wall,
            "p50": percentile(latencies, 50) * 1000, "p99": percentile(latencies, 99) * 1000,
            "reads": len(latencies), "cpu_ms": cpu / total * 1000,
            "app_util": cpu / wall, "fake_util": own_cpu / wall, "other": other,
            "kib_per_call": (peak - base_rss) / max(1, live["peak"]),
            "base_mib": base_rss / 1024,
            "failures": failures, "examples": examples, "peak": live["peak"],
            "overflows": overflows}


def table(title, rows, show_rate):
    print(title)
    head = (f"{'N':>5} {'calls':>5} {'peak':>5} {'calls/s':>7} {'p50 ms':>7} {'p99 ms':>8} "
            f"{'CPU ms/call':>11} {'app CPU':>7} {'fake CPU':>8} {'KiB/call':>8} "
            f"{'failed':>6} {'others':>6}")
    print(head)
    for r in rows:
        rate = f"{r['rate']:7.1f}" if show_rate else f"{'-':>7}"
        print(f"{r['n']:5d} {r['calls']:5d} {r['peak']:5d} {rate} {r['p50']:7.2f} "
              f"{r['p99']:8.2f} {r['cpu_ms']:11.2f} {r['app_util']:7.0%} "
              f"{r['fake_util']:8.0%} {r['kib_per_call']:8.1f} "
              f"{sum(r['failures'].values()):6d} {r['other']:6.2f}")
    print("  peak: calls live at once; app CPU, fake CPU: share of one core over the run; "
          "KiB/call: the app's VmHWM less its RSS after the warm-up call, over the peak; others: "
          "cores used meanwhile by processes outside the benchmark")
    for r in rows:
        if r["overflows"]:
            print(f"  N={r['n']}: {r['overflows']} connects overflowed a listen queue "
                  "(TcpExtListenOverflows) and were retried by the kernel")
        if r["failures"]:
            print(f"  N={r['n']}: failures {dict(r['failures'])}")
            for example in r["examples"][:3]:
                print(f"    {example}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, nargs="+", default=[1, 100, 1000],
                        help="concurrent calls, one sweep point each")
    parser.add_argument("--min-calls", type=int, default=400,
                        help="flat out: repeat rounds of N calls until this many ran")
    parser.add_argument("--ramp", type=float, default=None,
                        help="real time: spread the call starts over this many seconds "
                             "(default: the recorded call's length, so N calls arrive at "
                             "the steady rate of N concurrent calls and peak at N live)")
    parser.add_argument("--start-rate", type=float,
                        default=FreeswitchConfig().sessions_per_second,
                        help="flat out: calls started per second (default: the switch's "
                             "sessions_per_second, the fastest FreeSWITCH would connect; "
                             "0: all at once)")
    parser.add_argument("--no-real-time", action="store_true")
    parser.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS",
                        help="before each measurement, wait up to this long for other "
                             "processes to use under 0.25 cores (the machine may be shared)")
    args = parser.parse_args()
    random.seed(1)
    script = Script()
    length = sum(sum(script.gaps[id(b)]) for b in script.frames)
    print(machine.describe())
    print(f"recording {RECORDING}: {len(script.commands)} app commands, "
          f"{sum(map(len, script.frames))} switch frames, 3 digit reads a call, "
          f"{length:.1f} s of recorded gaps; app: {sys.executable} benchmarks/ivr_load_app.py "
          f"(gevent, SQLite lookups, INFO log to a file)")
    flat = []
    for n in args.calls:
        rounds = max(1, -(-args.min_calls // n))
        rate = args.start_rate
        flat.append(measure(script, n, rounds, False,
                            lambda count: [i / rate if rate else 0 for i in range(count)],
                            quiet=args.wait_quiet))
    pace = f"started {args.start_rate:g}/s" if args.start_rate else "started all at once"
    table(f"\nflat out (no gaps; rounds of N calls {pace} until >= {args.min_calls} calls; "
          "latency = queueing at saturation):", flat, True)
    print(f"  app idle RSS after one call: {flat[-1]['base_mib']:.1f} MiB")
    if not args.no_real_time:
        ramp = length if args.ramp is None else args.ramp
        paced = [measure(script, n, 1, True,
                         lambda count: [random.uniform(0, ramp) if count > 1 else 0
                                        for _ in range(count)],
                         quiet=args.wait_quiet) for n in args.calls]
        table(f"\nreal time (recorded gaps, ~{length:.0f} s a call; starts spread evenly at "
              f"random over {ramp:.0f} s, i.e. N/{ramp:.0f} calls/s arriving and up to N "
              "live at once):", paced, False)


if __name__ == "__main__":
    main()
