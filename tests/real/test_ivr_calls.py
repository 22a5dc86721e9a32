"""The sample heating flow on the real switch, compiled to dialplan, with SIPp
pressing RFC 2833 digits and `hotline run` doing the bill lookup.

The test steers the caller: it waits for the switch to start reading digits
(CHANNEL_EXECUTE of play_and_get_digits), then sends the caller a SIP INFO
(uuid_send_info), on which SIPp presses the next digits. No fixed sleeps."""
import logging
import shutil
import time
from decimal import Decimal

import pytest

from db.connect import bind, open_database
from esl_apps.ivr.digits import read_like_the_switch
from esl_apps.ivr.runtime import Runner
from esl_apps.ivr.services import IvrServices
from esl_apps.prompts.paths import prompt_path
from tests.real import sipp
from tests.real.harness import free_port
from tests.real.hotline_proc import EventWatcher, HotlineProcess
from tests.real.ivr_setup import (FLOWS_DIR, open_all_day_today, sample_flows_with_prompts,
                                  wait_for_open)

pytestmark = pytest.mark.freeswitch

HEATING_DID = "88001234"
ACCOUNT = "20481357"   # sample bill: 1234.50 due 2026-12-31
EVENTS = ("CHANNEL_ANSWER CHANNEL_EXECUTE CHANNEL_EXECUTE_COMPLETE PLAYBACK_START "
          "CHANNEL_HANGUP_COMPLETE")


@pytest.fixture(autouse=True)
def _need_sipp():
    if sipp.sipp_binary() is None:
        pytest.skip("SIPp not installed (apt-get install sip-tester)")


@pytest.fixture(scope="module")
def prompts(tmp_path_factory):
    prompts_dir = tmp_path_factory.mktemp("prompts")
    return sample_flows_with_prompts(prompts_dir), prompts_dir


@pytest.fixture
def switch(real_switch_factory, prompts):
    flows, prompts_dir = prompts
    return real_switch_factory(
        flows=flows, paths={"prompts_dir": str(prompts_dir)}, ivr={"flows_dir": str(FLOWS_DIR)},
        queues=[{"name": "default", "max_wait_time_with_no_agent": 1,
                 "max_wait_time_with_no_agent_time_reached": 1}]).start()


@pytest.fixture
def hotline(switch):
    proc = HotlineProcess(switch)
    open_all_day_today(switch)
    proc.start()
    yield proc
    proc.stop()


class ScriptedCall:
    """The caller of the real test, replayed in Python to get the runtime's path."""
    class Gone(Exception):
        pass

    def __init__(self, keys):
        self.keys = list(keys)
        self.caller, self.did, self.uuid = "13800138000", HEATING_DID, "sim"
        self.log = logging.getLogger("sim")

    def play(self, audio):
        pass

    def read(self, prompt, invalid, *, minimum, maximum, tries, timeout, terminators, regex):
        def once():
            keys = self.keys.pop(0) if self.keys else ""
            return keys.split(terminators)[0] if terminators else keys
        return read_like_the_switch(once, lambda: None, minimum=minimum, tries=tries, regex=regex)

    def say(self, language, kind, value):
        pass

    def set_var(self, name, value):
        pass

    def queue(self, queue, callback_key=None):
        raise self.Gone()  # the real caller hangs up in the queue

    def hangup(self, cause):
        pass


def python_path(flows, switch, keys):
    db = bind(open_database(switch.config.database_url))
    try:
        services = IvrServices(database=db, hours=None)
        services.is_open = lambda name: True
        result = Runner(flows, services, switch.config.dirs["prompts_dir"]).run(
            ScriptedCall(keys), "heating_main", data={"caller": "13800138000"})
    finally:
        db.close()
    return result


def test_heating_flow_bill_lookup_read_back_then_agent(switch, hotline, prompts, tmp_path):
    flows, prompts_dir = prompts
    watcher = EventWatcher(switch, EVENTS)
    try:
        wait_for_open(switch)
        caller = sipp.start(tmp_path / "sipp", switch.trunks_port, HEATING_DID, free_port(),
                            free_port() & ~1,
                            sipp.stepped_scenario(["1", ACCOUNT + "#", "0"]))

        def on_call(event):
            return event.get("variable_hotline_did") == HEATING_DID

        uuid = watcher.wait(lambda e: e.get("Event-Name") == "CHANNEL_ANSWER" and on_call(e),
                            what="the heating call answered")["Unique-ID"]
        mine = lambda e: e.get("Unique-ID") == uuid  # noqa: E731

        def reading(n):
            return watcher.wait(
                lambda e: mine(e) and e.get("Event-Name") == "CHANNEL_EXECUTE"
                and e.get("Application") == "play_and_get_digits"
                and sum(1 for s in watcher.seen if mine(s) and s.get("Event-Name")
                        == "CHANNEL_EXECUTE" and s.get("Application")
                        == "play_and_get_digits") >= n, what=f"digit read #{n}")

        for n in (1, 2, 3):          # main menu, account number, after the bill
            reading(n)
            assert switch.api(f"uuid_send_info {uuid} text plain next").startswith("+OK")
        watcher.wait(lambda e: mine(e) and e.get("Event-Name") == "CHANNEL_EXECUTE"
                     and e.get("Application") == "callcenter", what="the queue")
        switch.api(f"uuid_send_info {uuid} text plain hangup")
        hangup = watcher.wait(lambda e: mine(e) and e.get("Event-Name")
                              == "CHANNEL_HANGUP_COMPLETE", what="hangup")
        out, _ = caller.communicate(timeout=30)
        assert caller.returncode == 0, out[-3000:]
    finally:
        watcher.close()

    # the call data the lookup and the reads left on the channel
    assert hangup["variable_hotline_data_account"] == ACCOUNT
    # SQLite hands a DECIMAL back as a float: 1234.5
    assert Decimal(hangup["variable_hotline_data_bill__amount_due"]) == Decimal("1234.50")
    assert hangup["variable_hotline_data_bill__due_date"] == "2026-12-31"
    assert f"[{uuid}] heating_main:find_bill lookup -> done" in hotline.output()

    # every prompt was played, in order, the amount read back by the say engine
    played = [e["Playback-File-Path"] for e in watcher.seen
              if mine(e) and e.get("Event-Name") == "PLAYBACK_START"]
    heating = flows["heating_main"]

    def prompt(node, field=None):
        p = heating.nodes[node] if field is None else getattr(heating.nodes[node], field)
        return str(prompt_path(p, "zh", FLOWS_DIR, prompts_dir))

    expected = [str(prompts_dir / "builtin/zh/record_notice.wav"), prompt("welcome"),
                prompt("main_menu", "prompt"), prompt("ask_account", "prompt"),
                prompt("bill_intro")]
    positions = [played.index(p) for p in expected]
    assert positions == sorted(positions), played
    said = played[positions[-1] + 1:]
    say_zh = str(prompts_dir / "say" / "zh")
    amount = [p.removeprefix(say_zh + "/") for p in said if p.startswith(say_zh)]
    assert "currency/yuan.wav" in amount and "digits/1000.wav" in amount, amount
    assert prompt("bill_due_intro") in said and prompt("after_bill", "prompt") in said
    hold = flows["to_agent"].nodes["hold"]
    assert str(prompt_path(hold, "zh", FLOWS_DIR, prompts_dir)) in said

    # the switch walked the same nodes as the Python runtime does with these keys
    sim = python_path(flows, switch, ["1", ACCOUNT + "#", "0"])
    assert hangup["variable_hotline_path"].split() == sim.path
    assert sim.path[-1] == "to_agent:queue"


def test_an_edit_mid_call_leaves_the_call_on_its_version(real_switch_factory, prompts,
                                                         tmp_path):
    """A designer saves a change while a caller is in the menu: `hotline run`
    recompiles and the switch reloads, the caller goes on in the version the call
    started with, and the next call gets the new one."""
    flows, prompts_dir = prompts
    flows_dir = tmp_path / "flows"
    shutil.copytree(FLOWS_DIR, flows_dir)
    switch = real_switch_factory(
        flows=flows, paths={"prompts_dir": str(prompts_dir)}, ivr={"flows_dir": str(flows_dir)},
        queues=[{"name": "default", "max_wait_time_with_no_agent": 1,
                 "max_wait_time_with_no_agent_time_reached": 1}]).start()
    hotline = HotlineProcess(switch)
    open_all_day_today(switch)
    hotline.start()
    watcher = EventWatcher(switch, EVENTS)
    try:
        wait_for_open(switch)
        caller = sipp.start(tmp_path / "sipp", switch.trunks_port, HEATING_DID, free_port(),
                            free_port() & ~1, sipp.stepped_scenario(["9", "1"]))

        def reads(uuid, n):
            def seen(e):
                return e.get("Unique-ID") == uuid and e.get("Event-Name") == "CHANNEL_EXECUTE" \
                    and e.get("Application") == "play_and_get_digits"
            return watcher.wait(lambda e: seen(e) and sum(map(seen, watcher.seen)) >= n,
                                what=f"digit read #{n}")

        uuid = watcher.wait(lambda e: e.get("Event-Name") == "CHANNEL_ANSWER"
                            and e.get("variable_hotline_did") == HEATING_DID)["Unique-ID"]
        reads(uuid, 1)   # in the entry extension, the welcome and the menu copied in
        reloaded = hotline.output().count("the switch reloaded its XML")
        menu = flows_dir / "heating_main.yaml"
        menu.write_text(menu.read_text().replace("    timeout: 5\n", "    timeout: 6\n", 1))
        deadline = time.monotonic() + 20
        while hotline.output().count("the switch reloaded its XML") == reloaded:
            assert time.monotonic() < deadline, hotline.output()[-2000:]
            time.sleep(0.05)
        assert switch.api(f"uuid_send_info {uuid} text plain next").startswith("+OK")
        after = reads(uuid, 2)         # "9": English, the main menu again
        # the first menu's dispatch, named when the call started: the old version
        dispatch = watcher.wait(
            lambda e: e.get("Unique-ID") == uuid and e.get("Event-Name") == "CHANNEL_EXECUTE"
            and e.get("Application") == "transfer"
            and e.get("Application-Data", "").startswith("o_main_menu "), what="dispatch")
        before = dispatch["Application-Data"].split()[-1]
        assert before.startswith("hl_heating_main_") and before.endswith("_zh"), before
        assert after["Caller-Context"] == before.replace("_zh", "_en")
        assert switch.api(f"uuid_send_info {uuid} text plain next").startswith("+OK")
        reads(uuid, 3)                 # "1": the account number, still the old version
        switch.api(f"uuid_send_info {uuid} text plain hangup")
        out, _ = caller.communicate(timeout=30)
        assert caller.returncode == 0, out[-3000:]
        old = before.split("_")[-2]
        contexts = {e.get("Caller-Context") for e in watcher.seen
                    if e.get("Unique-ID") == uuid and e.get("Event-Name") == "CHANNEL_EXECUTE"}
        assert {c for c in contexts if c.startswith("hl_heating_main_")} == {
            f"hl_heating_main_{old}_zh", f"hl_heating_main_{old}_en"}
        # the next call starts in the new version
        second = sipp.start(tmp_path / "sipp2", switch.trunks_port, HEATING_DID, free_port(),
                            free_port() & ~1, sipp.stepped_scenario([]))
        uuid2 = watcher.wait(lambda e: e.get("Event-Name") == "CHANNEL_ANSWER"
                             and e.get("variable_hotline_did") == HEATING_DID
                             and e.get("Unique-ID") != uuid)["Unique-ID"]
        new_context = reads(uuid2, 1)["Caller-Context"]
        assert new_context.startswith("hl_heating_main_") and old not in new_context
        switch.api(f"uuid_send_info {uuid2} text plain hangup")
        second.communicate(timeout=30)
    finally:
        watcher.close()
        hotline.stop()
