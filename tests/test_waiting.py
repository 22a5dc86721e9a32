"""The caller in the queue: say files, announcements, wait estimate, sticky agent
decision, hold music conversion, and the service driven by callcenter::info
headers against a fake event socket."""
import datetime
import wave
from pathlib import Path
from types import SimpleNamespace

import pytest

from db.models import Agent, CallRecord, Queue, Tier
from esl_apps.prompts import PromptError
from esl_apps.prompts.builtin import BUILTINS
from esl_apps.waiting import sticky
from esl_apps.waiting.announce import (Member, WaitEstimator, announcement, file_string,
                                       language_of, position)
from esl_apps.waiting.moh import build_moh
from esl_apps.waiting.say import en_files, zh_files
from esl_apps.waiting.service import WaitingService, parse_member_list

U1 = "11111111-1111-4111-8111-111111111111"
U2 = "22222222-2222-4222-8222-222222222222"
U3 = "33333333-3333-4333-8333-333333333333"


@pytest.mark.parametrize("n, files", [
    (0, ["digits/0"]), (3, ["digits/3"]), (10, ["digits/10"]),
    (12, ["digits/10", "digits/2"]), (20, ["digits/2", "digits/10"]),
    (47, ["digits/4", "digits/10", "digits/7"]), (250, ["digits/9", "digits/10", "digits/9"])])
def test_zh_numbers(n, files):
    assert zh_files(n) == files


@pytest.mark.parametrize("n, files", [
    (7, ["digits/7"]), (15, ["digits/15"]), (40, ["digits/40"]),
    (42, ["digits/40", "digits/2"])])
def test_en_numbers(n, files):
    assert en_files(n) == files


def test_every_say_file_used_is_built():
    from esl_apps.prompts.sayfiles import SAY_FILES
    for n in range(100):
        assert set(zh_files(n)) <= set(SAY_FILES["zh"]), n
        assert set(en_files(n)) <= set(SAY_FILES["en"]), n


def test_builtin_queue_prompts_in_both_languages():
    for name in ("queue_next", "queue_ahead", "queue_ahead_tail", "queue_wait",
                 "queue_minutes", "queue_callback"):
        assert BUILTINS[name]["zh"] and BUILTINS[name]["en"]


def test_language_of():
    assert language_of("en") == "en" and language_of("en_US") == "en"
    assert language_of("zh_CN") == "zh" and language_of("") == "zh"


def test_announcement_files(tmp_path):
    files = announcement(tmp_path, "zh", 4, 2, "1")
    rel = [str(Path(f).relative_to(tmp_path)) for f in files]
    assert rel == ["builtin/zh/queue_ahead.wav", "say/zh/digits/3.wav",
                   "builtin/zh/queue_ahead_tail.wav", "builtin/zh/queue_wait.wav",
                   "say/zh/digits/2.wav", "builtin/zh/queue_minutes.wav",
                   "builtin/zh/queue_callback.wav", "say/zh/digits/1.wav"]
    first = [str(Path(f).relative_to(tmp_path)) for f in announcement(tmp_path, "en", 1, None)]
    assert first == ["builtin/en/queue_next.wav"]
    # a key the say sets cannot speak, or none, leaves the offer out
    assert not any("callback" in f for f in announcement(tmp_path, "zh", 2, None, "#"))


def test_file_string_refuses_unsafe_paths():
    assert file_string(["/a/b.wav", "/c.wav"]) == "file_string:///a/b.wav!/c.wav"
    for bad in ("/a b.wav", "/a!b.wav", "/a\nb.wav", "/a'b.wav"):
        with pytest.raises(ValueError):
            file_string([bad])


def test_position_by_joined_time_in_the_same_queue():
    a = Member(U1, "m1", "q@default", joined=100)
    b = Member(U2, "m2", "q@default", joined=105)
    c = Member(U3, "m3", "other@default", joined=90)
    members = [a, b, c]
    assert position(a, members) == 1 and position(b, members) == 2 and position(c, members) == 1
    a.state = "Answered"
    assert position(b, members) == 1


def test_wait_estimate():
    now = [10_000.0]
    est = WaitEstimator(clock=lambda: now[0])
    assert est.minutes("q", 1) is None
    est.answered("q", 9_900.0, 9_850.0)         # one answer: its 50 s wait
    assert est.seconds("q", 3) == 50.0 and est.minutes("q", 3) == 1
    est.answered("q", 9_940.0, 9_930.0)
    est.answered("q", 9_980.0, 9_900.0)         # one answer every 40 s
    assert est.seconds("q", 3) == 120.0 and est.minutes("q", 3) == 2
    now[0] += 7200                               # nothing recent: no estimate
    assert est.minutes("q", 3) is None


def test_sticky_decision_and_commands():
    assert sticky.should_offer("Available\n", "Waiting\n")
    assert not sticky.should_offer("On Break", "Waiting")
    assert not sticky.should_offer("Available", "In a queue call")
    assert (sticky.set_level_command("q@default", "1001@default", 0)
            == "callcenter_config tier set level q@default 1001@default 0")
    with pytest.raises(ValueError):
        sticky.set_level_command("q@default", "1001@default; hupall", 0)
    text = ("queue|agent|state|level|position\nq@default|1001@default|Ready|1|1\n"
            "q@default|1002@default|Ready|2|1\nz@default|1001@default|Ready|5|1\n+OK\n")
    assert sticky.tier_levels(text, "q@default") == {"1001@default": 1, "1002@default": 2}


def test_last_agent_lookup(db):
    now = datetime.datetime(2026, 11, 20, 12, 0)
    a1 = Agent.create(extension="1001", display_name="A", sip_password="x" * 12)
    a2 = Agent.create(extension="1002", display_name="B", sip_password="x" * 12)
    caller = "+8613800138000"
    CallRecord.create(call_uuid="c1", direction="inbound", caller_e164=caller, queue="default",
                      agent=a1, start_at=now - datetime.timedelta(days=2))
    CallRecord.create(call_uuid="c2", direction="inbound", caller_e164=caller, queue="default",
                      agent=a2, start_at=now - datetime.timedelta(days=10))
    CallRecord.create(call_uuid="c3", direction="inbound", caller_e164=caller, queue="other",
                      agent=a2, start_at=now - datetime.timedelta(hours=1))
    assert sticky.last_agent(caller, "default", 7, now) == "1001"
    assert sticky.last_agent(caller, "default", 1, now) is None
    assert sticky.last_agent(caller, "other", 1, now) == "1002"
    assert sticky.last_agent("+8613900000000", "default", 30, now) is None
    assert sticky.last_agent(caller, "default", 0, now) is None
    assert sticky.caller_key("13800138000", "CN") == caller
    assert sticky.caller_key("not a number", "CN") is None


def test_parse_member_list():
    text = ("queue|instance_id|uuid|session_uuid|cid_number|cid_name|system_epoch|joined_epoch|"
            "rejoined_epoch|bridge_epoch|abandoned_epoch|base_score|skill_score|serving_agent|"
            "serving_system|state|score\n"
            f"q@default|hotline|m1|{U1}|138|x|0|1700000000|0|0|0|0|0|||Waiting|5\n+OK\n")
    rows = parse_member_list(text)
    assert rows[0]["session_uuid"] == U1 and rows[0]["state"] == "Waiting"


def _wav(path: Path, rate=8000, seconds=0.2):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x10\x00\xf0\xff" * int(rate * seconds / 2))


def test_build_moh(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    _wav(src / "tune.wav")
    report = build_moh(tmp_path / "moh", src)
    assert len(report.built) == 2 and not report.cached
    for rate in (8000, 16000):
        with wave.open(str(tmp_path / "moh" / str(rate) / "tune.wav")) as w:
            assert w.getframerate() == rate and w.getnchannels() == 1
    assert len(build_moh(tmp_path / "moh", src).cached) == 2
    with pytest.raises(PromptError, match="asterisk-moh-opsound-wav"):
        build_moh(tmp_path / "moh", tmp_path / "none")


class FakeEsl:
    def __init__(self, replies=None):
        self.sent = []
        self.replies = replies or {}
        self.handlers = []
        self.on_connect = []
        self.connected = SimpleNamespace(is_set=lambda: True)

    def on(self, name, handler):
        self.handlers.append((name, handler))

    def api(self, command):
        self.sent.append(command)
        for prefix, reply in self.replies.items():
            if command.startswith(prefix):
                return reply
        return "+OK\n"


def _service(db, esl, now, **kw):
    return WaitingService(esl, db, Path("/p"), clock=lambda: now[0], **kw)


def test_service_announces_position_every_frequency(db, monkeypatch):
    import gevent
    Queue.create(name="q", announce_frequency=20)
    esl = FakeEsl({"uuid_getvar " + U2 + " hotline_language": "en\n",
                   "uuid_getvar " + U2 + " cc_exit_keys": "1\n",
                   "uuid_getvar": "_undef_\n"})
    now = [1000.0]
    svc = _service(db, esl, now)
    assert [n for n, _ in esl.handlers] == ["callcenter::info"] and esl.on_connect
    for uuid in (U1, U2):
        svc.handle({"CC-Action": "member-queue-start", "CC-Queue": "q@default",
                    "CC-Member-Session-UUID": uuid, "CC-Member-UUID": "m" + uuid[:2],
                    "CC-Member-CID-Number": "13800138000"})
        now[0] += 1
    gevent.sleep(0.05)   # the members' variables are read in greenlets
    svc.handle({"CC-Action": "member-queue-start", "CC-Queue": "q@default",
                "CC-Member-Session-UUID": "not-a-uuid; hupall"})
    assert set(svc.members) == {U1, U2}
    assert svc.announce_due() == 0
    now[0] = 1021.5
    assert svc.announce_due() == 2
    displace = [c for c in esl.sent if c.startswith("uuid_displace")]
    assert displace[0] == (f"uuid_displace {U1} start file_string:///p/builtin/zh/queue_next.wav 0")
    assert displace[1].startswith(f"uuid_displace {U2} start file_string:///p/builtin/en/"
                                  "queue_ahead.wav!/p/say/en/digits/1.wav!")
    assert displace[1].endswith("/p/builtin/en/queue_callback.wav!/p/say/en/digits/1.wav 0")
    assert svc.announce_due() == 0                 # not again before 20 s
    svc.handle({"CC-Action": "member-queue-end", "CC-Member-Session-UUID": U1})
    now[0] += 20
    esl.sent.clear()
    assert svc.announce_due() == 1
    assert esl.sent[0].startswith(f"uuid_displace {U2} stop file_string://")
    assert "queue_next.wav" in esl.sent[1]         # first in line now


def test_service_sticky_agent_gets_level_zero_then_back(db):
    import gevent
    a1 = Agent.create(extension="1001", display_name="A", sip_password="x" * 12)
    q = Queue.create(name="q", announce_frequency=0, sticky_agent_days=7)
    Tier.create(queue=q, agent=a1, level=3)
    CallRecord.create(call_uuid="old", direction="inbound", caller_e164="+8613800138000",
                      queue="q", agent=a1, start_at=datetime.datetime.utcnow()
                      - datetime.timedelta(days=1))
    esl = FakeEsl({"uuid_getvar": "_undef_\n"})
    now = [1000.0]
    svc = _service(db, esl, now, sticky_seconds=5)
    svc.handle({"CC-Action": "member-queue-start", "CC-Queue": "q@default",
                "CC-Member-Session-UUID": U1, "CC-Member-CID-Number": "13800138000"})
    gevent.sleep(0.05)
    assert "callcenter_config tier set level q@default 1001@default 0" in esl.sent
    svc.handle({"CC-Action": "agent-offering", "CC-Agent": "1001@default",
                "CC-Member-Session-UUID": U1})
    assert esl.sent[-1] == "callcenter_config tier set level q@default 1001@default 3"
    assert svc.holds == {}


def _tier_commands(esl):
    return [c for c in esl.sent if c.startswith("callcenter_config tier")]


def _sticky_setup(db):
    a1 = Agent.create(extension="1001", display_name="A", sip_password="x" * 12)
    a2 = Agent.create(extension="1002", display_name="B", sip_password="x" * 12)
    q = Queue.create(name="q", announce_frequency=0, sticky_agent_days=7)
    Queue.create(name="plain", announce_frequency=0)
    Tier.create(queue=q, agent=a1, level=2)
    Tier.create(queue=q, agent=a2, level=1)
    CallRecord.create(call_uuid="old", direction="inbound", caller_e164="+8613800138000",
                      queue="q", agent=a1, start_at=datetime.datetime.utcnow()
                      - datetime.timedelta(days=1))


def test_offer_first_holds_the_tier_before_the_caller_joins(db):
    """The queue node asks before `callcenter`: level 0 is set before mod_callcenter
    knows the member; the member's own events then end the hold."""
    import gevent
    _sticky_setup(db)
    esl = FakeEsl({"uuid_getvar": "_undef_\n"})
    svc = _service(db, esl, [1000.0], sticky_seconds=5)
    assert svc.offer_first(U1, "q@default", "13800138000") == "1001@default"
    assert _tier_commands(esl) == ["callcenter_config tier set level q@default 1001@default 0"]
    assert svc.holds_tier("q", "1001") and not svc.holds_tier("q", "1002")
    assert svc.offer_first(U1, "q@default", "13800138000") is None     # asked once per call
    svc.handle({"CC-Action": "member-queue-start", "CC-Queue": "q@default",
                "CC-Member-Session-UUID": U1, "CC-Member-CID-Number": "13800138000"})
    gevent.sleep(0.05)
    assert len(_tier_commands(esl)) == 1      # no late second try
    svc.handle({"CC-Action": "agent-offering", "CC-Agent": "1002@default",
                "CC-Member-Session-UUID": U1})                  # 1001 was busy
    assert esl.sent[-1] == "callcenter_config tier set level q@default 1001@default 2"
    assert not svc.holds_tier("q", "1001")


def test_offer_first_declines_what_it_should(db):
    _sticky_setup(db)
    esl = FakeEsl()
    svc = _service(db, esl, [1000.0])
    assert svc.offer_first(U1, "plain@default", "13800138000") is None    # not sticky
    assert svc.offer_first(U1, "q@default", "13900139000") is None        # no history
    assert svc.offer_first(U1, "q@default", "not a number") is None
    assert svc.offer_first("x; hupall", "q@default", "13800138000") is None
    assert _tier_commands(esl) == [] and svc.holds == {}


def test_an_expired_hold_is_put_back_once(db):
    _sticky_setup(db)
    esl = FakeEsl()
    svc = _service(db, esl, [1000.0], sticky_seconds=60)
    svc.offer_first(U1, "q@default", "13800138000")
    first = svc.holds[U1]
    svc.handle({"CC-Action": "member-queue-end", "CC-Member-Session-UUID": U1})
    svc.offer_first(U1, "q@default", "13800138000")      # the caller queues again
    svc._expire(U1, first)                                 # the first hold's timer
    assert svc.holds_tier("q", "1001")
    svc._expire(U1, svc.holds[U1])
    assert not svc.holds
    assert [c.rsplit(" ", 1)[1] for c in _tier_commands(esl)] == ["0", "2", "0", "2"]


def test_sticky_flags_are_pushed_for_the_dialplan(db):
    _sticky_setup(db)
    esl = FakeEsl({"callcenter_config member list": "uuid|session_uuid|queue|state\n+OK\n"})
    now = [1000.0]
    svc = _service(db, esl, now)
    svc.resync()
    assert sorted(c for c in esl.sent if c.startswith("global_setvar")) == [
        "global_setvar hotline_sticky_plain=0", "global_setvar hotline_sticky_q=7"]
    esl.sent.clear()
    Queue.update(sticky_agent_days=0).where(Queue.name == "q").execute()
    Queue.create(name="bad name; x", sticky_agent_days=3)
    now[0] += 31
    svc.queue_settings("q@default")
    assert esl.sent == ["global_setvar hotline_sticky_q=0"]   # only the change, names checked


def test_service_sticky_skips_an_agent_without_a_tier(db):
    import gevent
    a1 = Agent.create(extension="1001", display_name="A", sip_password="x" * 12)
    Queue.create(name="q", sticky_agent_days=7)   # 1001 no longer has a tier in q
    CallRecord.create(call_uuid="old", direction="inbound", caller_e164="+8613800138000",
                      queue="q", agent=a1, start_at=datetime.datetime.utcnow())
    esl = FakeEsl({"uuid_getvar": "_undef_\n"})
    svc = _service(db, esl, [1000.0])
    svc.handle({"CC-Action": "member-queue-start", "CC-Queue": "q@default",
                "CC-Member-Session-UUID": U1, "CC-Member-CID-Number": "13800138000"})
    gevent.sleep(0.05)
    assert not any("tier set" in c for c in esl.sent)


def test_bridge_feeds_the_estimate(db):
    svc = _service(db, FakeEsl(), [1000.0])
    svc.handle({"CC-Action": "bridge-agent-start", "CC-Queue": "q@default",
                "CC-Member-Session-UUID": U1, "CC-Member-Joined-Time": "900",
                "CC-Agent-Answered-Time": "990"})
    assert svc.estimator.seconds("q@default", 1) == 90.0
