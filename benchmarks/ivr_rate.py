"""The highest call rate with < 0.1 % failed calls on the real switch: IVR flows
compiled to native dialplan, beside the same menus hand-written in XML, and the
reference menu in socket mode.

    .venv/bin/python benchmarks/ivr_rate.py [--variants NAME ...] [--rates R ...]

Needs FreeSWITCH at $HOTLINE_FREESWITCH_BIN or /usr/local/freeswitch/bin/freeswitch
and SIPp; without either it says so and exits 0. One switch runs Hotline's rendered
config in native mode (tests/real/harness.RealSwitch, sessions-per-second and
max-sessions raised) with `hotline run` beside it (bill lookups, CDRs); a second
one in socket mode runs the socket variant. The variants:

  heating_native   the heating flow compiled to dialplan: the caller presses 1,
                   20481357#, hears the bill (the lookup is handed to `hotline run`
                   and back), presses 0 and hangs up in the agent hold notice
  heating_menu_xml the heating flow's first menu hand-written in XML (a dialplan
                   extension in dialplan/public/): play_and_get_digits of the same
                   prompt files, a 1 s confirmation, hangup; the caller presses 1
  ref_native       the issue's reference menu (1 s prompt, play_and_get_digits,
                   1 s confirmation, hangup) as a YAML flow compiled to dialplan
  ref_xml          the same menu hand-written in XML: the baseline
  ref_xml_branch   the same menu hand-written as the flow behaves: the digit picks
                   the branch (a transfer to a dispatch extension in a context of
                   its own), a missed digit skips the confirmation
  ref_socket       the same YAML flow in socket mode (`hotline run` runs every node)

SIPp places the calls (`-r RATE -m TOTAL`): each caller sends PCMA from SIPp's
pcap and the digits as RFC 2833 with fixed pauses. A step fails when more than
0.1 % of its calls failed, counting (conservatively, as a sum) SIPp's failed calls
(its final statistics) and the switch's call records that are missing or wrong:
each CDR that `hotline run` stored must have hung up NORMAL_CLEARING with the
digits read (hotline_input) and, for the flows, the node path (hotline_path) the
caller's keys lead to. The rate is found by geometric bisection; each step offers
calls for a fixed window and then waits until every channel is gone.

Per variant it prints the highest passing rate, the ratio to the hand-written XML
baseline, FreeSWITCH's CPU ms per call (/proc/PID/stat utime+stime over the step,
less its idle rate), `hotline run`'s CPU ms per call, and the answer latency
(INVITE sent -> 200 OK received, SIPp -trace_rtt) at that rate and at the lowest
rate tried.
"""
import argparse
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import machine  # noqa: E402
from benchmarks.sip_probe import ProbeCaller  # noqa: E402
from tests.real import sipp  # noqa: E402
from tests.real.harness import free_port, freeswitch_binary  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "20481357"          # sample bill: 1234.50 due 2026-12-31; no repeated adjacent digit
HEATING_DID = "88001234"
REF_DID = "7003"              # the reference flow (bench_ref.yaml, below)
REF_XML = "7002"              # hand-written reference menu
REF_XML_BRANCH = "7004"       # the same, branching on the digit as the YAML flow does
HEATING_MENU_XML = "7001"     # hand-written heating first menu
MAX_FAILED = 0.001
CALLER = "13800138000"    # SIPp's callers (tests/real/sipp.py); the probe calls as PROBE_CALLER
PROBE_CALLER = "10000"
SLOW_MS = 2300   # last digit -> BYE; unloaded it is ~1280 ms, so this is 1 s late

REF_FLOW = """\
# The issue's reference menu, for benchmarks/ivr_rate.py: a 1 s prompt, one digit,
# a 1 s confirmation, hang up. A missed digit skips the confirmation, so the
# call's path shows it.
name: bench_ref
entry: menu
language: zh
dids: ["REF_DID"]
nodes:
  menu:
    verb: menu
    prompt: {file: ref_prompt.wav}
    timeout: 5
    retries: 1
    next: {"1": confirm, "2": confirm, timeout: bye, invalid: bye}
  confirm:
    verb: play
    file: ref_confirm.wav
    next: {done: bye}
  bye:
    verb: hangup
""".replace("REF_DID", REF_DID)

HAND_XML = """\
<?xml version="1.0"?>
<include>
  <!-- benchmarks/ivr_rate.py: menus written by hand, the baseline for compiled flows. -->
  <extension name="bench_heating_menu_xml">
    <condition field="destination_number" expression="^{heating_menu_xml}$">
      <action application="answer"/>
      <action application="play_and_get_digits" data="1 1 3 5000 none {menu_prompt} {menu_invalid} hotline_input ^[01239]$ 5000"/>
      <action application="playback" data="{confirm}"/>
      <action application="hangup" data="NORMAL_CLEARING"/>
    </condition>
  </extension>
  <extension name="bench_ref_xml_branch">
    <condition field="destination_number" expression="^{ref_xml_branch}$">
      <action application="answer"/>
      <action application="play_and_get_digits" data="1 1 1 5000 none {ref_prompt} silence_stream://250 hotline_input ^[12]$ 5000"/>
      <action application="transfer" data="after_menu XML bench_hand"/>
    </condition>
  </extension>
  <extension name="bench_ref_xml">
    <condition field="destination_number" expression="^{ref_xml}$">
      <action application="answer"/>
      <action application="play_and_get_digits" data="1 1 1 5000 none {ref_prompt} silence_stream://250 hotline_input ^[12]$ 5000"/>
      <action application="playback" data="{confirm}"/>
      <action application="hangup" data="NORMAL_CLEARING"/>
    </condition>
  </extension>
</include>
"""

# The branching menu's second half, in a context of its own as a person would write
# it (a transfer back into public would run the blacklist checks again).
HAND_XML_BRANCH = """\
<?xml version="1.0"?>
<include>
<context name="bench_hand">
  <extension name="after_menu">
    <condition field="destination_number" expression="^after_menu$"/>
    <condition field="${{hotline_input}}" expression="^[12]$">
      <action application="playback" data="{confirm}"/>
      <action application="hangup" data="NORMAL_CLEARING"/>
      <anti-action application="hangup" data="NORMAL_CLEARING"/>
    </condition>
  </extension>
</context>
</include>
"""


# -- the callers ----------------------------------------------------------------
def caller_scenario(steps, hangup_after_ms=None, bye_timeout_ms=30000) -> str:
    """SIPp caller: INVITE, PCMA from the pcap, then each (pause ms, digit) of
    `steps`; then waits for the switch's BYE, or hangs up `hangup_after_ms` later."""
    who = {"caller": "13800138000", "caller_name": "bench"}
    parts = ['<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="bench caller">\n',
             sipp._send(sipp._request("INVITE", 1, tail=sipp.SDP, **who), retrans=True),
             sipp.ANSWERED,
             sipp._send(sipp._request("ACK", 1, tail="Content-Length: 0\n", **who)),
             sipp.PLAY.format(pcaps=sipp.PCAPS, pcap="g711a.pcap")]
    for i, (pause, digit) in enumerate(steps):
        parts.append(f'  <pause milliseconds="{pause}"/>\n')
        play = sipp.PLAY.format(pcaps=sipp.PCAPS, pcap=sipp.DIGIT_PCAP[digit])
        if i == len(steps) - 1 and hangup_after_ms is None:
            play = play.replace("<nop>", '<nop start_rtd="2">')  # last digit -> BYE
        parts.append(play)
    if hangup_after_ms is None:
        parts += [f'  <recv request="BYE" timeout="{bye_timeout_ms}" rtd="2"/>\n',
                  sipp._send(sipp.OK_TO_BYE)]
    else:
        parts += [f'  <pause milliseconds="{hangup_after_ms}"/>\n',
                  sipp._send(sipp._request("BYE", 2, tail="Content-Length: 0\n", **who),
                             retrans=True),
                  '  <recv response="200"/>\n']
    return "".join(parts) + "</scenario>\n"


def keys(first_ms, text, gap_ms=300):
    return [(first_ms if i == 0 else gap_ms, digit) for i, digit in enumerate(text)]


# -- what a good call left in its CDR ------------------------------------------
HEATING_PATH = ["heating_main:main_menu", "heating_main:ask_account", "heating_main:find_bill",
                "heating_main:bill_intro", "heating_main:bill_amount",
                "heating_main:bill_due_date", "heating_main:after_bill", "heating_main:agent",
                "to_agent:hold"]


def in_order(path: list, wanted: list) -> bool:
    it = iter(path)
    return all(any(node == w for node in it) for w in wanted)


def flow_data(record, key: str):
    """A flow's call-data value in a stored CDR: under "ivr" as `section.key`, or (as
    the CDR receiver stored it before) as data_<section>__<key>."""
    data = record.call_data
    nested = data.get("ivr")
    if isinstance(nested, dict) and key in nested:
        return nested[key]
    return data.get("data_" + key.replace(".", "__"))


def check_heating(record) -> str | None:
    data = record.call_data
    if not in_order(data.get("path", "").split(), HEATING_PATH):
        return "path " + data.get("path", "")[-120:]
    if flow_data(record, "bill.amount_due") != "1234.5":
        return "bill amount " + repr(flow_data(record, "bill.amount_due"))
    return None


def check_digit(record) -> str | None:
    return None if record.call_data.get("input") == "1" else \
        f"input {record.call_data.get('input')!r}"


def check_ref_flow(record) -> str | None:
    path = record.call_data.get("path", "").split()
    if path[-3:] != ["bench_ref:menu", "bench_ref:confirm", "bench_ref:bye"]:
        return "path " + " ".join(path)
    return check_digit(record)


@dataclass
class Variant:
    name: str
    mode: str                 # which switch: native or socket
    number: str
    steps: list
    hangup_after_ms: int | None
    check: object
    lo: int
    hi: int
    window: float             # seconds of offered calls per step
    baseline: str | None = None
    what: str = ""
    # a call whose BYE comes later than this after the last digit counts as failed
    # (the switch ends the menu calls: digit ~0.14 s + 1 s confirmation; unloaded ~1.28 s)
    bye_within_ms: int | None = None


def variants(first_ms: int = 14000) -> dict:
    """`first_ms`: when the heating caller presses 1 (see prepare)."""
    # Heating timeline (ms after the answer): the notice and the welcome play with
    # playback_terminators=any, so a digit then would be eaten; 1 well inside the
    # 10.8 s menu prompt; the account 1 s later; the bill is read back from ~16 s
    # after # (measured), then the after-bill menu prompt (6.5 s) and its 5 s wait:
    # 0 at 21 s sits in the middle of that; hang up 2 s into the agent hold notice.
    heating = keys(first_ms, "1") + keys(1000, ACCOUNT + "#") + keys(21000, "0")
    menu = keys(1500, "1")
    return {v.name: v for v in [
        Variant("heating_native", "native", HEATING_DID, heating, 2000, check_heating,
                3, 30, 45.0, "heating_menu_xml",
                "heating flow compiled (whole call, lookup handed to hotline run)"),
        Variant("heating_menu_xml", "native", HEATING_MENU_XML, menu, None, check_digit,
                10, 160, 15.0, None, "heating first menu, hand-written XML", SLOW_MS),
        Variant("ref_native", "native", REF_DID, menu, None, check_ref_flow,
                10, 160, 15.0, "ref_xml", "reference menu, YAML compiled to dialplan", SLOW_MS),
        Variant("ref_xml", "native", REF_XML, menu, None, check_digit,
                10, 160, 15.0, None, "reference menu, hand-written XML", SLOW_MS),
        Variant("ref_xml_branch", "native", REF_XML_BRANCH, menu, None, check_digit,
                10, 160, 15.0, "ref_xml", "reference menu, hand-written XML that branches "
                "on the digit (a transfer to a dispatch extension)", SLOW_MS),
        Variant("ref_socket", "socket", REF_DID, menu, None, check_ref_flow,
                10, 160, 15.0, "ref_xml", "reference menu, YAML in socket mode", SLOW_MS),
    ]}


def wav_seconds(path) -> float:
    with wave.open(str(path)) as wav:
        return wav.getnframes() / wav.getframerate()


# -- setting up -------------------------------------------------------------------
def tone_wav(path: Path, seconds=1.0, hz=425, rate=8000):
    frames = bytearray()
    for i in range(int(seconds * rate)):
        sample = int(6000 * math.sin(2 * math.pi * hz * i / rate))
        frames += sample.to_bytes(2, "little", signed=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(frames))


def prepare(root: Path):
    """The sample flows plus bench_ref.yaml, every prompt built, and the hand-written XML."""
    from esl_apps.ivr.loader import load_flows
    from esl_apps.prompts.build import build
    from esl_apps.prompts.paths import prompt_path
    flows_dir, prompts_dir = root / "flows", root / "prompts"
    flows_dir.mkdir()
    for path in (ROOT / "ivr_flows").glob("*.yaml"):
        shutil.copy(path, flows_dir / path.name)
    tone_wav(flows_dir / "ref_prompt.wav")
    tone_wav(flows_dir / "ref_confirm.wav", hz=600)
    (flows_dir / "bench_ref.yaml").write_text(REF_FLOW, encoding="utf-8")
    flows, errors = load_flows(flows_dir, prompts_dir=prompts_dir)
    if errors:
        sys.exit("\n".join(map(str, errors)))
    report = build(flows, prompts_dir)
    if report.failed:
        sys.exit(f"prompts failed: {report.failed}")

    def path(prompt):
        return str(prompt_path(prompt, "zh", flows_dir, prompts_dir))
    menu = flows["heating_main"].nodes["main_menu"]
    ref = flows["bench_ref"].nodes
    public = HAND_XML.format(heating_menu_xml=HEATING_MENU_XML, ref_xml=REF_XML,
                          ref_xml_branch=REF_XML_BRANCH,
                          menu_prompt=path(menu.prompt), menu_invalid=path(menu.invalid_prompt),
                          ref_prompt=path(ref["menu"].prompt), confirm=path(ref["confirm"]))
    xml = (public, HAND_XML_BRANCH.format(confirm=path(ref["confirm"])))
    # the heating caller presses 1 2.8 s into the menu prompt
    from esl_apps.prompts.paths import builtin_path
    first_ms = int(1000 * (wav_seconds(builtin_path(prompts_dir, "zh", "record_notice"))
                           + wav_seconds(path(flows["heating_main"].nodes["welcome"])) + 2.8))
    return flows, flows_dir, prompts_dir, xml, first_ms


class Rig:
    """A RealSwitch on Hotline's config in one IVR mode, the hand-written menus
    added to its public dialplan, and `hotline run` beside it."""

    def __init__(self, root: Path, mode: str, flows, flows_dir, prompts_dir, xml,
                 fs_priority="auto"):
        from tests.real import harness
        from tests.real.harness import RealSwitch
        from tests.real.hotline_proc import HotlineProcess
        from tests.real.ivr_setup import open_all_day_today, wait_for_open
        self.switch = RealSwitch(
            root / mode, flows=flows,
            paths={"prompts_dir": str(prompts_dir)},
            ivr={"mode": mode, "flows_dir": str(flows_dir)},
            queues=[{"name": "default", "max_wait_time_with_no_agent": 1,
                     "max_wait_time_with_no_agent_time_reached": 1}],
            freeswitch={"sessions_per_second": 1000, "max_sessions": 6000,
                        "rtp_start_port": 16384, "rtp_end_port": 32000})
        public, branch = xml
        (self.switch.conf_dir / "dialplan" / "public" / "60_bench_hand_written.xml").write_text(
            public, encoding="utf-8")
        flows_xml = self.switch.conf_dir / "dialplan" / "flows"
        flows_xml.mkdir(parents=True, exist_ok=True)
        (flows_xml / "bench_hand_written.xml").write_text(branch, encoding="utf-8")
        began = time.monotonic()
        self.hotline = self.db = None
        if fs_priority == "normal":
            # FreeSWITCH makes itself SCHED_FIFO when it may (set_auto_priority in
            # switch_core.c); -np keeps it a normal process, beside hotline run
            args = harness.freeswitch_args
            harness.freeswitch_args = lambda *a: args(*a) + ["-np"]
            try:
                self.switch.start()
            finally:
                harness.freeswitch_args = args
        else:
            self.switch.start()
        try:
            self.hotline = HotlineProcess(self.switch)
            open_all_day_today(self.switch)
            self.hotline.start()
            wait_for_open(self.switch)
            from db.connect import bind, open_database
            self.db = bind(open_database(self.switch.config.database_url))
        except BaseException:
            self.close()
            raise
        self.ready_seconds = time.monotonic() - began

    def fs_cpu(self):
        return machine.process_cpu(self.switch.proc.pid)

    def hotline_cpu(self):
        return machine.process_cpu(self.hotline.proc.pid)

    def channels(self) -> int:
        text = self.switch.api("show channels count").strip()
        return int(text.split()[0]) if text and text.split()[0].isdigit() else -1

    def last_cdr(self) -> int:
        from db.models import CallRecord
        with self.db.connection_context():
            row = CallRecord.select(CallRecord.id).order_by(CallRecord.id.desc()).first()
        return row.id if row else 0

    def cdrs_after(self, last_id):
        from db.models import CallRecord
        with self.db.connection_context():
            return list(CallRecord.select().where(CallRecord.id > last_id)
                        .order_by(CallRecord.id))

    def close(self):
        if self.db is not None:
            self.db.close()
        if self.hotline is not None:
            self.hotline.stop()
        self.switch.close()


# -- one step ----------------------------------------------------------------------
@dataclass
class Step:
    rate: int
    calls: int
    sipp_ok: int = 0
    sipp_failed: int = 0
    cdr_ok: int = 0
    cdr_bad: int = 0
    cdr_missing: int = 0
    peak_channels: int = 0
    fs_ms: float = 0.0
    hotline_ms: float = 0.0
    sipp_ms: float = 0.0
    answer: list = field(default_factory=list)       # SIPp: INVITE -> 200 OK, ms
    probe: list = field(default_factory=list)        # sip_probe: INVITE -> 200 OK, ms
    probe_failed: int = 0
    after_digit: list = field(default_factory=list)  # SIPp: last digit -> BYE, ms
    slow: int = 0
    seconds: float = 0.0
    other_cores: float = 0.0    # CPU taken meanwhile by processes not in the benchmark
    reasons: dict = field(default_factory=dict)
    note: str = ""

    @property
    def failed(self) -> int:
        return self.sipp_failed + self.cdr_bad + self.cdr_missing + self.slow

    @property
    def passed(self) -> bool:
        return self.failed <= MAX_FAILED * self.calls


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class Sampler(threading.Thread):
    """Counts the switch's channels every second on a connection of its own."""

    def __init__(self, switch):
        super().__init__(daemon=True)
        self.esl = switch.esl()
        self.peak = 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.wait(1.0):
            try:
                text = self.esl.api("show channels count").strip()
                self.peak = max(self.peak, int(text.split()[0]))
            except (OSError, ValueError, IndexError, EOFError):
                return

    def close(self):
        self.stop.set()
        self.join(3)
        self.esl.close()


class Prober(threading.Thread):
    """Times the answer of one extra call every `every` seconds while a step runs
    (benchmarks/sip_probe.py: µs clock, unlike SIPp's 4 ms one)."""

    def __init__(self, switch, number, every=1.0):
        super().__init__(daemon=True)
        self.caller = ProbeCaller("127.0.0.1", switch.trunks_port, caller=PROBE_CALLER)
        self.number, self.every = number, every
        self.times, self.failed = [], 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.wait(self.every):
            took = self.caller.answer_time(self.number)
            if took is None:
                self.failed += 1
            else:
                self.times.append(took * 1000)

    def close(self):
        self.stop.set()
        self.join(15)
        self.caller.close()


def idle_probe(switch, number, count=30) -> list:
    caller = ProbeCaller("127.0.0.1", switch.trunks_port, caller=PROBE_CALLER)
    try:
        times = []
        for _ in range(count):
            took = caller.answer_time(number)
            if took is not None:
                times.append(took * 1000)
            time.sleep(0.05)
        return times
    finally:
        caller.close()


def read_stats(path: Path) -> dict:
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    if len(lines) < 2:
        return {}
    head = lines[0].rstrip(";").split(";")
    last = lines[-1].rstrip(";").split(";")
    return dict(zip(head, last))


def read_rtt(workdir: Path) -> dict:
    """SIPp's -trace_rtt: {timer number: [ms, ...]} (timer 1: INVITE -> 200 OK;
    timer 2: the last digit -> the switch's BYE). SIPp's clock ticks in 4 ms here."""
    values = {}
    for path in workdir.glob("*_rtt.csv"):
        for line in path.read_text().splitlines()[1:]:
            parts = line.split(";")
            if len(parts) >= 3:
                try:
                    values.setdefault(int(parts[2]), []).append(float(parts[1]))
                except ValueError:
                    pass
    return values


def run_step(rig: Rig, variant: Variant, rate: int, workdir: Path, idle_fs: float,
             idle_hotline: float, call_seconds: float) -> Step:
    calls = max(round(rate * variant.window), 1)
    step = Step(rate, calls)
    workdir.mkdir(parents=True, exist_ok=True)
    scenario = workdir / "caller.xml"
    scenario.write_text(caller_scenario(variant.steps, variant.hangup_after_ms), encoding="ascii")
    stat = workdir / "stat.csv"
    cmd = [sipp.sipp_binary(), f"127.0.0.1:{rig.switch.trunks_port}", "-sf", str(scenario),
           "-s", variant.number, "-r", str(rate), "-rp", "1000", "-m", str(calls),
           "-l", "20000", "-i", "127.0.0.1", "-p", str(free_port()),
           "-mp", str(free_port() & ~1), "-nostdin", "-timer_resol", "1", "-recv_timeout", "40000",
           "-timeout", f"{int(variant.window + call_seconds + 90)}s", "-timeout_error",
           "-trace_stat", "-stf", str(stat), "-fd", "1", "-trace_rtt", "-rtt_freq", "1",
           "-trace_err", "-error_file", str(workdir / "errors.log")]
    last_cdr = rig.last_cdr()
    sampler = Sampler(rig.switch)
    sampler.start()
    prober = Prober(rig.switch, variant.number)
    prober.start()
    fs0, hl0 = rig.fs_cpu(), rig.hotline_cpu()
    own0, busy0 = os.times(), machine.busy_cpu()
    began = time.monotonic()
    done = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, check=False)
    prober.close()
    step.probe, step.probe_failed = prober.times, prober.failed
    # every channel gone (SIPp ends with its last call; the switch may lag behind)
    deadline = time.monotonic() + 60
    while rig.channels() > 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    left = rig.channels()
    if left > 0:
        step.note = f"{left} channels still up 60 s after SIPp ended; hupall"
        rig.switch.api("hupall NORMAL_CLEARING")
    # the CDRs of every call posted and stored

    def mine():
        return [r for r in rig.cdrs_after(last_cdr)
                if r.callee == variant.number and r.caller == CALLER]
    deadline = time.monotonic() + 15
    while len(mine()) < calls and time.monotonic() < deadline:
        time.sleep(0.5)
    step.seconds = time.monotonic() - began
    sampler.close()
    own, busy = os.times(), machine.busy_cpu()
    ours = (rig.fs_cpu() - fs0) + (rig.hotline_cpu() - hl0) + sum(own[:4]) - sum(own0[:4])
    step.other_cores = max(0.0, busy - busy0 - ours) / step.seconds
    step.fs_ms = max(0.0, rig.fs_cpu() - fs0 - idle_fs * step.seconds) / calls * 1000
    step.hotline_ms = max(0.0, rig.hotline_cpu() - hl0 - idle_hotline * step.seconds) \
        / calls * 1000
    step.sipp_ms = (own.children_user + own.children_system - own0.children_user
                    - own0.children_system) / calls * 1000
    step.peak_channels = sampler.peak
    stats = read_stats(stat)
    step.sipp_ok = int(stats.get("SuccessfulCall(C)", 0) or 0)
    step.sipp_failed = int(stats.get("FailedCall(C)", 0) or 0)
    if not stats:
        step.sipp_failed = calls
        step.note += f" no SIPp statistics (exit {done.returncode}): {done.stderr[-300:]}"
    elif step.sipp_ok + step.sipp_failed < calls:
        step.sipp_failed += calls - step.sipp_ok - step.sipp_failed
    timers = read_rtt(workdir)
    step.answer, step.after_digit = timers.get(1, []), timers.get(2, [])
    if variant.bye_within_ms:
        step.slow = sum(1 for ms in step.after_digit if ms > variant.bye_within_ms)
    records = mine()
    step.cdr_missing = max(0, calls - len(records))
    for record in records:
        why = None
        if record.hangup_cause != "NORMAL_CLEARING":
            why = f"hangup {record.hangup_cause}"
        else:
            why = variant.check(record)
        if why is None:
            step.cdr_ok += 1
        else:
            step.cdr_bad += 1
            key = why.split(" ")[0]
            step.reasons.setdefault(key, why)
    return step


def pair(values, digits=0) -> str:
    if not values:
        return "-"
    return f"{percentile(values, 50):.{digits}f}/{percentile(values, 99):.{digits}f}"


def show_step(variant: Variant, step: Step):
    verdict = "pass" if step.passed else "FAIL"
    print(f"  {variant.name} {step.rate}/s: {step.calls} calls in {step.seconds:.0f} s, "
          f"peak {step.peak_channels} channels; failed {step.failed} (SIPp {step.sipp_failed}, "
          f"CDR bad {step.cdr_bad}, CDR missing {step.cdr_missing}, slow {step.slow})  {verdict}",
          flush=True)
    print(f"      CPU ms/call: FreeSWITCH {step.fs_ms:.1f}, hotline run {step.hotline_ms:.1f}, "
          f"SIPp {step.sipp_ms:.1f}; p50/p99 ms: answer (INVITE -> 200 OK) SIPp "
          f"{pair(step.answer)}, probe {pair(step.probe, 1)} ({len(step.probe)} probes, "
          f"{step.probe_failed} unanswered), last digit -> BYE {pair(step.after_digit)}; "
          f"other processes {step.other_cores:.2f} cores", flush=True)
    for why in list(step.reasons.values())[:3]:
        print(f"      bad CDR: {why}")
    if step.note:
        print(f"      {step.note.strip()}")


def search(rig, variant, root, idle, rates=None, resolution=0.2, quiet=0.0) -> list:
    """Geometric bisection between variant.lo (assumed to pass) and variant.hi
    (assumed to fail); the bounds are tried only when every step went one way."""
    call_seconds = sum(p for p, _ in variant.steps) / 1000 + (variant.hangup_after_ms or 3000) / 1000
    steps = []

    def run(rate):
        if quiet:
            load = machine.wait_quiet([rig.switch.proc.pid, rig.hotline.proc.pid], quiet)
            if load >= 0.25:
                print(f"  (other processes still use {load:.2f} cores after waiting "
                      f"{quiet:g} s; going on)")
        step = run_step(rig, variant, rate, root / f"{variant.name}-{rate}-{len(steps)}",
                        idle[0], idle[1], call_seconds)
        steps.append(step)
        show_step(variant, step)
        time.sleep(2)
        return step.passed

    if rates:
        for rate in rates:
            run(rate)
        return steps
    low, high = variant.lo, variant.hi
    while high / low > 1 + resolution:
        mid = round(math.sqrt(low * high))
        if mid in (low, high):
            break
        if run(mid):
            low = mid
        else:
            high = mid
    if low == variant.lo and not any(s.rate == low for s in steps):
        run(low)
    if high == variant.hi and not any(s.rate == high for s in steps):
        run(high)
    return steps


def best(steps):
    passed = [s for s in steps if s.passed]
    return max(passed, key=lambda s: s.rate) if passed else None


def wait_idle(rig, timeout=30.0):
    deadline = time.monotonic() + timeout
    while rig.channels() > 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)  # the last CDR posts


def idle_rates(rig, seconds=3.0):
    fs0, hl0 = rig.fs_cpu(), rig.hotline_cpu()
    time.sleep(seconds)
    return (rig.fs_cpu() - fs0) / seconds, (rig.hotline_cpu() - hl0) / seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    names = list(variants())
    parser.add_argument("--variants", nargs="+", choices=names, default=names)
    parser.add_argument("--rates", type=int, nargs="+",
                        help="run these rates instead of searching")
    parser.add_argument("--window", type=float, help="seconds of offered calls per step "
                        "(default: 45 for the heating flow, longer than its ~40 s call, "
                        "so a step reaches its full concurrency; 15 for the ~3 s menus)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--fs-priority", choices=["auto", "normal"], default="auto",
                        help="auto: FreeSWITCH's default, SCHED_FIFO real-time when it may "
                             "(as root here); normal: start it with -np")
    parser.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS",
                        help="before each step, wait up to this long for other processes "
                             "to use under 0.25 cores (the machine may be shared)")
    args = parser.parse_args()
    # a SIGTERM unwinds like Ctrl-C, so the switches (own sessions) are stopped too
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped by SIGTERM"))

    binary = freeswitch_binary()
    if not binary.is_file():
        print(f"SKIPPED: no FreeSWITCH binary at {binary} (build FreeSWITCH 1.11.1 by hand "
              "into /usr/local/freeswitch, or set HOTLINE_FREESWITCH_BIN)")
        return
    if sipp.sipp_binary() is None:
        print("SKIPPED: SIPp is not installed (apt-get install sip-tester)")
        return
    root = Path(tempfile.mkdtemp(prefix="hotline-ivr-rate-"))
    began = time.monotonic()
    version = subprocess.run([str(binary), "-version"], capture_output=True,
                                           text=True, check=False).stdout.strip()
    print(f"{version}; {sipp_version()}; {machine.describe()}")
    print(f"pass: failed calls (SIPp failed + CDR bad or missing) <= {MAX_FAILED:.1%} of the "
          "step's calls")
    flows, flows_dir, prompts_dir, xml, first_ms = prepare(root)
    chosen = [variants(first_ms)[n] for n in args.variants]
    if args.window:
        for v in chosen:
            v.window = args.window
    results, idle_answer = {}, {}
    try:
        for mode in ("native", "socket"):
            todo = [v for v in chosen if v.mode == mode]
            if not todo:
                continue
            rig = Rig(root, mode, flows, flows_dir, prompts_dir, xml, args.fs_priority)
            try:
                idle = idle_rates(rig)
                policy = subprocess.run(["chrt", "-p", str(rig.switch.proc.pid)],
                                        capture_output=True, text=True, check=False)
                policy = policy.stdout.splitlines()[0].split(": ")[-1] if policy.stdout else "?"
                print(f"\n{mode} switch + hotline run ready in {rig.ready_seconds:.1f} s; idle "
                      f"CPU: FreeSWITCH {idle[0]:.1%}, hotline run {idle[1]:.1%} of a core; "
                      f"FreeSWITCH scheduling {policy}")
                for variant in todo:
                    print(f"{variant.name}: {variant.what}; {variant.window:g} s of calls per "
                          f"step, search {variant.lo}..{variant.hi} calls/s", flush=True)
                    idle_answer[variant.name] = idle_probe(rig.switch, variant.number)
                    wait_idle(rig)
                    print(f"  answer with the switch otherwise idle (30 probe calls, p50/p99 ms):"
                          f" {pair(idle_answer[variant.name], 1)}", flush=True)
                    results[variant.name] = search(rig, variant, root, idle, args.rates,
                                                   quiet=args.wait_quiet)
            finally:
                rig.close()
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    summary(chosen, results, idle_answer)
    print(f"\ntotal {time.monotonic() - began:.0f} s")


def sipp_version() -> str:
    out = subprocess.run([sipp.sipp_binary(), "-v"], capture_output=True,
                                       text=True, check=False)
    for line in (out.stdout + out.stderr).splitlines():
        if "SIPp v" in line:
            return line.strip()
    return "SIPp"


def summary(chosen, results, idle_answer):
    print("\nmax calls/s with <= 0.1 % failed; CPU per call at that rate; answer latency "
          "(INVITE -> 200 OK, p50/p99 ms): probe calls with the switch idle and during the "
          "max-rate step, and SIPp's (4 ms clock) in that step")
    print(f"{'variant':<17} {'calls/s':>8} {'x XML':>6} {'FS ms/call':>10} {'hotline ms':>10} "
          f"{'answer idle':>11} {'answer at max':>13} {'SIPp at max':>11}")
    for v in chosen:
        steps = results.get(v.name, [])
        top = best(steps)
        base = best(results.get(v.baseline, [])) if v.baseline else None
        idle = pair(idle_answer.get(v.name, []), 1)
        if top is None:
            tried = min((s.rate for s in steps), default=v.lo)
            print(f"{v.name:<17} {'< ' + str(tried):>8} {'':>6} {'':>10} {'':>10} {idle:>11}")
            continue
        ceiling = "" if any(s.rate > top.rate for s in steps) else ">="
        if base is not None:
            ratio = f"{top.rate / base.rate:6.2f}"
        else:
            ratio = f"{'-' if v.baseline else 'base':>6}"
        print(f"{v.name:<17} {ceiling + str(top.rate):>8} {ratio} {top.fs_ms:10.1f} "
              f"{top.hotline_ms:10.1f} {idle:>11} {pair(top.probe, 1):>13} "
              f"{pair(top.answer):>11}")

if __name__ == "__main__":
    main()
