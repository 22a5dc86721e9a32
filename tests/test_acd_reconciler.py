"""The ACD against the fake switch answering with replies recorded from real
mod_callcenter (tests/fixtures/esl/inbound_callcenter.jsonl), and its state log,
on both databases."""
import datetime

import pytest

from db.models import Agent, AgentStateLog, Queue, Tier
from esl_apps.acd import commands as cc
from esl_apps.acd.reconciler import Reconciler
from esl_apps.acd.service import AgentEvents
from esl_apps.acd.store import Store, describe
from tests.fakeswitch.recording import Recording

REC = Recording("inbound_callcenter")
REPLIES = REC.api_replies()  # the last reply to each command
SENT = [c[4:].strip() for c in REC.commands() if c.startswith("api ")]
BODIES = [f.body.decode() for f in REC.frames() if f.content_type == "api/response"]
MEMBERS_CMD = "callcenter_config queue list members default@default"
# the members list taken while the agent talked to the caller
MEMBERS_IN_CALL = next(b for c, b in zip(SENT, BODIES) if c == MEMBERS_CMD and "|Answered" in b)
EVENTS = REC.events("callcenter::info")
EMPTY = "+OK\n"
# the recorded switch's queue default@default (the fallback queue's defaults)
RECORDED_DEFAULT = {"max_wait_time": 300, "max_wait_time_with_no_agent": 30}


class Api:
    """Answers like the recorded switch; the list replies are chosen per test."""

    def __init__(self, **lists):
        self.lists = {cc.AGENT_LIST: EMPTY, cc.TIER_LIST: EMPTY,
                      cc.QUEUE_LIST: REPLIES[cc.QUEUE_LIST],
                      "callcenter_config queue list members default@default": EMPTY}
        self.lists.update(lists)
        self.sent = []

    def __call__(self, command):
        self.sent.append(command)
        if command in self.lists:
            return self.lists[command]
        return REPLIES.get(command, "-ERR no reply recorded\n")


@pytest.fixture
def agent(db):
    Queue.create(name="default", **RECORDED_DEFAULT)
    a = Agent.create(extension="1001", display_name="Agent One", sip_password="x" * 12,
                     state="Available", wrap_up_time=2)
    Tier.create(queue=Queue.get(name="default"), agent=a, level=2, position=3)
    return a


def test_commands_refuse_anything_but_validated_values():
    assert cc.agent_status("1001", "On Break") == \
        "callcenter_config agent set status 1001@default 'On Break'"
    for bad in ("1001 Available", "1001\n", "10;1", "x"):
        with pytest.raises(cc.InvalidValue):
            cc.agent_add(bad)
    with pytest.raises(cc.InvalidValue):
        cc.agent_status("1001", "Available' x")
    with pytest.raises(cc.InvalidValue):
        cc.tier_add("default", "1001", 0, 1)
    with pytest.raises(cc.InvalidValue):
        cc.queue_load("a b")
    assert cc.strategy("ring-all") == "ring-all"
    with pytest.raises(cc.InvalidValue):
        cc.strategy("random")


def test_recorded_lists_parse():
    agents = cc.parse_table(REPLIES[cc.AGENT_LIST])
    assert agents[0]["name"] == "1001@default" and agents[0]["status"] in cc.STATUSES
    assert cc.parse_table(REPLIES[cc.TIER_LIST]) == [
        {"queue": "default@default", "agent": "1001@default", "state": "Ready",
         "level": "2", "position": "3"}]
    queues = cc.parse_table(REPLIES[cc.QUEUE_LIST])
    assert {q["name"] for q in queues} >= {"default@default"}
    with pytest.raises(cc.SwitchRefused, match="Invalid Queue not found"):
        cc.check_ok(REPLIES["callcenter_config queue load nosuch@default"], "load")


def test_full_sync_adds_agent_and_tier_to_an_empty_switch(agent):
    Tier.update(level=1, position=1).execute()
    api = Api()
    heals = Reconciler(api, Store(agent._meta.database), "127.0.0.1").run_once()
    assert "callcenter_config agent add 1001@default callback" in api.sent
    assert "callcenter_config agent set contact 1001@default user/1001@127.0.0.1" in api.sent
    assert "callcenter_config agent set status 1001@default Available" in api.sent
    assert "callcenter_config tier add default@default 1001@default 1 1" in api.sent
    assert [h.what for h in heals] == ["agent 1001 added with status Available",
                                       "tier default/1001 added (level 1, position 1)"]
    assert not any("-ERR" in api(c) for c in list(api.sent) if c.startswith("callcenter_config agent set"))


def test_in_sync_switch_needs_nothing(agent):
    row = cc.parse_table(REPLIES[cc.AGENT_LIST])[0]
    agent.state = row["status"]
    agent.save()
    api = Api(**{cc.AGENT_LIST: REPLIES[cc.AGENT_LIST], cc.TIER_LIST: REPLIES[cc.TIER_LIST]})
    heals = Reconciler(api, Store(agent._meta.database), "127.0.0.1").run_once()
    assert heals == []
    assert all(c.split()[1] in ("agent", "tier", "queue") and c.split()[2] == "list"
               for c in api.sent), api.sent


def test_extra_agent_and_tier_in_the_switch_are_removed(db):
    Queue.create(name="default", **RECORDED_DEFAULT)
    api = Api(**{cc.AGENT_LIST: REPLIES[cc.AGENT_LIST], cc.TIER_LIST: REPLIES[cc.TIER_LIST]})
    heals = Reconciler(api, Store(db), "127.0.0.1").run_once()
    assert "callcenter_config agent del 1001@default" in api.sent
    assert "callcenter_config tier del default@default 1001@default" in api.sent
    assert len(heals) == 2


@pytest.mark.parametrize("held, healed", [(True, False), (False, True)])
def test_a_level_zero_tier_is_healed_unless_a_sticky_caller_holds_it(agent, held, healed):
    """The waiting service drops a sticky agent's tier to level 0 for one caller; a
    level 0 nobody holds (Hotline died mid-call) is put back."""
    row = cc.parse_table(REPLIES[cc.AGENT_LIST])[0]
    agent.state = row["status"]
    agent.save()
    tiers = REPLIES[cc.TIER_LIST].replace("|Ready|2|3", "|Ready|0|3")
    assert tiers != REPLIES[cc.TIER_LIST]
    api = Api(**{cc.AGENT_LIST: REPLIES[cc.AGENT_LIST], cc.TIER_LIST: tiers})
    asked = []
    heals = Reconciler(api, Store(agent._meta.database), "127.0.0.1",
                       sticky_held=lambda q, e: asked.append((q, e)) or held).run_once()
    assert asked == [("default", "1001")]
    fix = "callcenter_config tier set level default@default 1001@default 2"
    assert (fix in api.sent) == healed
    assert [h.what for h in heals] == (["tier default/1001 level 0 -> 2"] if healed else [])


def test_stuck_reserved_agent_is_set_waiting_on_the_second_pass(agent):
    text = REPLIES[cc.AGENT_LIST]
    reserved = text.replace("|Available|Waiting|", "|Available|Reserved|")
    assert reserved != text
    agent.state = "Available"
    agent.save()
    api = Api(**{cc.AGENT_LIST: reserved, cc.TIER_LIST: REPLIES[cc.TIER_LIST]})
    rec = Reconciler(api, Store(agent._meta.database), "127.0.0.1")
    assert rec.run_once() == []
    heals = rec.run_once()
    assert "callcenter_config agent set state 1001@default Waiting" in api.sent
    assert "freeswitch#2540" in heals[0].why


def test_stale_answered_member_is_removed_on_the_second_pass(agent, tmp_path):
    import sqlite3
    members = MEMBERS_IN_CALL
    row = cc.parse_table(members)[0]
    assert row["state"] == "Answered"
    db_file = tmp_path / "callcenter.db"
    with sqlite3.connect(db_file) as conn:
        conn.execute("CREATE TABLE members (uuid TEXT, state TEXT)")
        conn.execute("INSERT INTO members VALUES (?, 'Answered')", (row["uuid"],))
    api = Api(**{MEMBERS_CMD: members, cc.AGENT_LIST: REPLIES[cc.AGENT_LIST],
                 cc.TIER_LIST: REPLIES[cc.TIER_LIST],
                 cc.uuid_exists(row["session_uuid"]): "false"})
    rec = Reconciler(api, Store(agent._meta.database), "127.0.0.1", callcenter_db=db_file)
    first = rec.run_once()
    assert not any("member" in h.what for h in first)
    heals = [h for h in rec.run_once() if "member" in h.what]
    assert heals and "freeswitch#1973" in heals[0].why
    with sqlite3.connect(db_file) as conn:
        assert conn.execute("SELECT count(*) FROM members").fetchone()[0] == 0


def test_live_member_is_left_alone(agent, tmp_path):
    api = Api(**{MEMBERS_CMD: MEMBERS_IN_CALL, cc.AGENT_LIST: REPLIES[cc.AGENT_LIST],
                 cc.TIER_LIST: REPLIES[cc.TIER_LIST]})
    rec = Reconciler(api, Store(agent._meta.database), "127.0.0.1")
    assert rec.run_once() == [] and rec.run_once() == []
    assert api.sent.count(cc.uuid_exists(cc.parse_table(MEMBERS_IN_CALL)[0]["session_uuid"])) == 2


def test_status_newer_in_hotline_is_pushed(agent):
    store = Store(agent._meta.database)
    store.record(agent, "Available", "Waiting", "hotline")
    api = Api(**{cc.AGENT_LIST: REPLIES[cc.AGENT_LIST].replace("|Available|", "|On Break|"),
                 cc.TIER_LIST: REPLIES[cc.TIER_LIST]})
    heals = Reconciler(api, store, "127.0.0.1").run_once()
    assert "callcenter_config agent set status 1001@default Available" in api.sent
    assert heals[0].what == "agent 1001 status On Break -> Available in mod_callcenter"


def test_status_newer_in_the_switch_is_taken(agent):
    """A feature code used while Hotline was not listening."""
    store = Store(agent._meta.database)
    store.record(agent, "Available", "Waiting", "hotline", at=datetime.datetime(2020, 1, 1))
    api = Api(**{cc.AGENT_LIST: REPLIES[cc.AGENT_LIST].replace("|Available|", "|On Break|"),
                 cc.TIER_LIST: REPLIES[cc.TIER_LIST]})
    heals = Reconciler(api, store, "127.0.0.1").run_once()
    assert not any("set status" in c for c in api.sent)
    assert heals[0].what == "agent 1001 status Available -> On Break in Hotline"
    assert Agent.get_by_id(agent.id).state == "On Break"
    assert AgentStateLog.select().order_by(AgentStateLog.id.desc()).first().source == "reconciler"


def test_recorded_events_make_the_state_log(agent):
    store = Store(agent._meta.database)
    agent.state = "Logged Out"
    agent.save()
    timers = []
    events = AgentEvents(store, later=lambda *a: timers.append(a))
    for event in EVENTS:
        events.handle(event)
    rows = [(r.status, r.state, r.source) for r in
            AgentStateLog.select().order_by(AgentStateLog.at, AgentStateLog.id)]
    statuses = [s for s, _, src in rows if src == "phone"]
    assert statuses[:3] == ["Available", "On Break", "Available"]
    states = [st for _, st, src in rows if src == "switch"]
    assert "In a queue call" in states and "Wrap Up" in states
    assert states[-1] == "Wrap Up"  # the Waiting right after the call is the wrap-up
    # wrap_up_time later (2 s for this agent) the wrap-up is over
    (seconds, over, *args), = timers
    assert seconds == 2
    wrap = AgentStateLog.select().order_by(AgentStateLog.id.desc()).first()
    over(*args)
    last = AgentStateLog.select().order_by(AgentStateLog.id.desc()).first()
    assert (last.state, last.source, last.at - wrap.at) == (
        "Waiting", "switch", datetime.timedelta(seconds=2))
    over(*args)                                    # fires once: nothing more
    assert AgentStateLog.select().count() == len(rows) + 1
    assert Agent.get_by_id(agent.id).state == "Available"
    assert describe("Available", "Wrap Up") == "Available / Wrap Up"


def test_a_wrap_up_interrupted_is_not_ended_again(agent):
    store = Store(agent._meta.database)
    timers = []
    events = AgentEvents(store, later=lambda *a: timers.append(a))
    events.handle({"CC-Action": "bridge-agent-end", "CC-Agent": "1001@default"})
    store.record(agent, "On Break", "", "hotline", reason="lunch")   # a break during it
    timers[0][1](*timers[0][2:])
    assert [r.state for r in AgentStateLog.select().order_by(AgentStateLog.id)] == ["Wrap Up", ""]


def test_hotline_change_is_not_logged_twice(agent):
    store = Store(agent._meta.database)
    store.record(agent, "On Break", "", "hotline", reason="lunch")
    echo = next(e for e in EVENTS if e.get("CC-Agent-Status") == "On Break")
    AgentEvents(store).handle(echo)
    assert [r.source for r in AgentStateLog.select()] == ["hotline"]


def test_a_queue_setting_changed_in_hotline_reloads_the_queue(agent):
    """`hotline queue set --max-wait-time` (or a web edit while the switch was away)
    reaches a running switch at the next pass."""
    Queue.update(max_wait_time=120, tier_rules_apply=True).execute()
    api = Api(**{cc.TIER_LIST: REPLIES[cc.TIER_LIST]})
    heals = Reconciler(api, Store(agent._meta.database), "127.0.0.1").run_once()
    assert "callcenter_config queue reload default@default" in api.sent
    assert api.sent.index("reloadxml") < api.sent.index("callcenter_config queue reload default@default")
    why = next(h.why for h in heals if h.what == "queue default reloaded")
    assert "max_wait_time 300 in the switch, 120 in Hotline" in why
    assert "tier_rules_apply false in the switch, true in Hotline" in why


class PressDuringPass(Api):
    """Interleaves an agent's status button with a reconcile pass: the button is
    pressed (row set, status logged) when the pass asks for the agent list, i.e.
    after the pass has read the database."""

    def __init__(self, press, **lists):
        super().__init__(**lists)
        self.press = press

    def __call__(self, command):
        if command == cc.AGENT_LIST and self.press:
            self.press()
            self.press = None
        return super().__call__(command)


def test_a_status_button_pressed_during_a_pass_is_not_overwritten(agent):
    store = Store(agent._meta.database)
    store.record(agent, "Available", "Waiting", "hotline")

    def press():  # the desk's Break button: row, log and the switch all say On Break
        store.record(Agent.get_by_id(agent.id), "On Break", "Idle", "desk", reason="lunch")

    api = PressDuringPass(press, **{
        cc.AGENT_LIST: REPLIES[cc.AGENT_LIST].replace("|Available|", "|On Break|"),
        cc.TIER_LIST: REPLIES[cc.TIER_LIST]})
    heals = Reconciler(api, store, "127.0.0.1").run_once()
    assert not any("set status" in c for c in api.sent)  # the stale Available not pushed
    assert not any("status" in h.what for h in heals)
    assert Agent.get_by_id(agent.id).state == "On Break"
    assert Agent.get_by_id(agent.id).break_reason == "lunch"


def test_a_status_button_pressed_just_before_the_write_wins(agent):
    """The press lands between the pass's re-read and its write: the write is a
    compare-and-set on the row, so the switch's older status is not written over it."""
    store = Store(agent._meta.database)
    store.record(agent, "Available", "Waiting", "hotline", at=datetime.datetime(2020, 1, 1))

    class RacingStore(Store):
        def changed_since(self, stale):
            unchanged = super().changed_since(stale)
            store.record(Agent.get_by_id(agent.id), "Logged Out", "Idle", "desk")
            return unchanged

    api = Api(**{cc.AGENT_LIST: REPLIES[cc.AGENT_LIST].replace("|Available|", "|On Break|"),
                 cc.TIER_LIST: REPLIES[cc.TIER_LIST]})
    heals = Reconciler(api, RacingStore(agent._meta.database), "127.0.0.1").run_once()
    assert not any("status" in h.what for h in heals)
    assert Agent.get_by_id(agent.id).state == "Logged Out"
    last = AgentStateLog.select().order_by(AgentStateLog.id.desc()).first()
    assert (last.status, last.source) == ("Logged Out", "desk")


def test_a_status_button_pressed_during_the_push_is_what_the_switch_keeps(agent):
    """The press lands while the pass pushes the row's older status (after its re-read):
    the press's own push may have gone first, so the pass pushes the row's new status
    after its own; the switch's last word is the press."""
    store = Store(agent._meta.database)
    store.record(agent, "On Break", "", "hotline", reason="lunch")
    pushed = "callcenter_config agent set status 1001@default 'On Break'"

    class PressDuringPush(Api):
        def __call__(self, command):
            if command == pushed and not self.sent.count(command):
                store.record(Agent.get_by_id(agent.id), "Available", "Waiting", "desk")
            return super().__call__(command)

    available = "callcenter_config agent set status 1001@default Available"
    api = PressDuringPush(**{cc.AGENT_LIST: REPLIES[cc.AGENT_LIST],
                             cc.TIER_LIST: REPLIES[cc.TIER_LIST],
                             pushed: REPLIES[available]})   # the recording has one of them
    heals = Reconciler(api, store, "127.0.0.1").run_once()
    status = [c for c in api.sent if "set status" in c]
    assert status == [pushed, available]
    assert not any("status" in h.what for h in heals)
    assert Agent.get_by_id(agent.id).state == "Available"
    last = AgentStateLog.select().order_by(AgentStateLog.id.desc()).first()
    assert (last.status, last.source) == ("Available", "desk")
