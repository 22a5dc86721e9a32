"""The ACD reconciler on the real switch: the two known mod_callcenter races.

Neither race can be triggered on demand, so each test puts mod_callcenter into
the state the race leaves behind, then waits for `hotline run` to heal it:
- freeswitch#2540: an agent left in state Reserved (ring-all), offered nothing;
- freeswitch#1973: a member left Answered after its call hung up.
"""
import sqlite3
import time
import uuid as uuidlib

import pytest

from db.connect import bind, open_database
from db.models import Agent, Queue, Tier
from esl_apps.switch_render import switch_dirs
from tests.real.hotline_proc import HotlineProcess

pytestmark = pytest.mark.freeswitch

AGENT = {"extension": "1001", "display_name": "Agent One", "sip_password": "agent-1001-secret"}


@pytest.fixture
def acd(real_switch_factory):
    switch = real_switch_factory(agents=[AGENT], queues=[{"name": "default",
                                                         "strategy": "ring-all"}]).start()
    hotline = HotlineProcess(switch, HOTLINE_ACD_RECONCILE_SECONDS="0.5")
    db = bind(open_database(switch.config.database_url))
    try:
        queue, _ = Queue.get_or_create(name="default", defaults={"strategy": "ring-all"})
        agent = Agent.create(**AGENT)
        Tier.create(queue=queue, agent=agent, level=1, position=1)
    finally:
        db.close()
    hotline.start()
    wait_for(lambda: "1001@default" in switch.api("callcenter_config tier list"),
             hotline, "the agent's tier pushed")
    yield switch, hotline
    hotline.stop()


def wait_for(predicate, hotline, what, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"no {what}:\n{hotline.output()[-3000:]}"
        time.sleep(0.05)


def agent_row(switch, name="1001@default") -> dict:
    lines = switch.api("callcenter_config agent list").strip().splitlines()
    header = lines[0].split("|")
    rows = [dict(zip(header, line.split("|"))) for line in lines[1:] if "|" in line]
    return next(r for r in rows if r["name"] == name)


def test_agent_stuck_in_reserved_is_set_back_to_waiting(acd):
    switch, hotline = acd
    assert switch.api("callcenter_config agent set state 1001@default Reserved").startswith("+OK")
    assert agent_row(switch)["state"] == "Reserved"
    wait_for(lambda: agent_row(switch)["state"] == "Waiting", hotline, "the heal")
    assert "acd: healed agent 1001 state Reserved -> Waiting" in hotline.output()


def test_member_left_answered_after_hangup_is_removed(acd):
    switch, hotline = acd
    member, gone_call = str(uuidlib.uuid4()), str(uuidlib.uuid4())
    now = int(time.time())
    with sqlite3.connect(switch_dirs(switch.config)["db"] / "callcenter.db", timeout=5) as conn:
        conn.execute("INSERT INTO members (queue, instance_id, uuid, session_uuid, cid_number, "
                     "cid_name, system_epoch, joined_epoch, bridge_epoch, serving_agent, state) "
                     "VALUES ('default@default', 'single_box', ?, ?, '13800138000', 'test', "
                     "?, ?, ?, '1001@default', 'Answered')",
                     (member, gone_call, now, now, now))
    members = "callcenter_config queue list members default@default"
    assert member in switch.api(members)
    wait_for(lambda: member not in switch.api(members), hotline, "the stale member removed")
    assert f"acd: healed member {member} of queue default removed" in hotline.output()


def test_a_queue_setting_changed_in_the_database_reaches_the_switch(acd):
    """`hotline queue set` writes the database; the next reconcile pass re-renders
    callcenter.conf.xml and reloads the queue, once."""
    switch, hotline = acd

    def max_wait():
        lines = switch.api("callcenter_config queue list").strip().splitlines()
        header = lines[0].split("|")
        rows = [dict(zip(header, line.split("|"))) for line in lines[1:] if "|" in line]
        return next(r for r in rows if r["name"] == "default@default")["max_wait_time"]

    db = bind(open_database(switch.config.database_url))
    try:
        Queue.update(max_wait_time=123).where(Queue.name == "default").execute()
    finally:
        db.close()
    wait_for(lambda: max_wait() == "123", hotline, "max_wait_time 123 in mod_callcenter")
    reloads = hotline.output().count("queue default reloaded")
    assert 1 <= reloads <= 2, hotline.output()[-3000:]   # the change (and the first sync)
