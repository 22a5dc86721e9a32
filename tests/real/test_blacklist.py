"""The blacklist on the real switch: entries added with `hotline blacklist add` reach
FreeSWITCH's mod_hash through `hotline run`, and the public dialplan refuses a
blacklisted SIPp caller with 486 before any IVR; the CDR leaves a BlockedCall row.
Every wait is for an event, a switch reply or a database row, never a fixed sleep."""
import subprocess

import peewee
import pytest

from db.connect import bind, open_database
from db.models import BlacklistEntry, BlockedCall
from tests.real import sipp
from tests.real.conftest import require_freeswitch
from tests.real.harness import RealSwitch, free_port
from tests.real.hotline_proc import HOTLINE, EventWatcher, HotlineProcess

pytestmark = pytest.mark.freeswitch

DID = "88001234"
BLOCKED = "13900139000"         # every DID, an exact number
PREFIX = "1370013*"             # every DID, a prefix
VIP = "13600136000"             # allowed, although 1360013* is blocked
SCOPED = "13500135000"          # blocked for DID only

BUSY = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="blocked caller">
  <send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "SIPp" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: sip:{caller}@[local_ip]:[local_port]
Max-Forwards: 70
{sdp}]]></send>
  <recv response="100" optional="true"/>
  <recv response="486"/>
  <send><![CDATA[
ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
CSeq: 1 ACK
Contact: sip:{caller}@[local_ip]:[local_port]
Max-Forwards: 70
Content-Length: 0
]]></send>
</scenario>
"""


class Rig:
    def __init__(self, root):
        self.switch = RealSwitch(root, dids=[{"number": DID, "flow": "main",
                                              "language": "zh_CN"}]).start()
        self.hotline = HotlineProcess(self.switch)
        self.hotline.start()
        self.watcher = EventWatcher(self.switch, "CHANNEL_ANSWER CHANNEL_HANGUP_COMPLETE")
        self.db = bind(open_database(self.switch.config.database_url))

    def cli(self, *args) -> subprocess.CompletedProcess:
        return subprocess.run([HOTLINE, "blacklist", *args], env=self.hotline.env,
                              capture_output=True, text=True, timeout=30, check=False)

    def held(self) -> str:
        return self.switch.api("hash_dump db hotline_bl")

    def busy_call(self, caller, number):
        """A call the switch must refuse with 486; its CHANNEL_HANGUP_COMPLETE."""
        workdir = self.switch.root / "sipp"
        text = BUSY.format(caller=caller, sdp=sipp.SDP)
        proc = sipp.start(workdir, self.switch.trunks_port, number, free_port(),
                          free_port() & ~1, text, timeout=30)
        out, _ = proc.communicate(timeout=45)
        assert proc.returncode == 0, out[-3000:]
        return self.watcher.wait(lambda e: e.get("Event-Name") == "CHANNEL_HANGUP_COMPLETE"
                                 and e.get("Caller-Caller-ID-Number") == caller
                                 and e.get("Caller-Destination-Number") == number,
                                 what=f"hangup of {caller} -> {number}")

    def answered_call(self, caller, number):
        """A call that passes the blacklist (the line test answers); its answer event."""
        result = sipp.call(self.switch.root / "sipp", self.switch.trunks_port, number,
                           free_port(), free_port() & ~1, digits="5", caller=caller)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        return self.watcher.wait(lambda e: e.get("Event-Name") == "CHANNEL_ANSWER"
                                 and e.get("Caller-Caller-ID-Number") == caller
                                 and e.get("Caller-Destination-Number") == number,
                                 what=f"answer of {caller} -> {number}")

    def blocked_row(self, uuid, timeout=30.0) -> BlockedCall:
        def row():
            try:
                return BlockedCall.get_or_none(BlockedCall.call_uuid == uuid)
            except peewee.OperationalError:  # the writer holds the lock for a moment
                return None
        return self.switch.wait_for(row, timeout=timeout, interval=0.1,
                                    what=f"BlockedCall row for {uuid}")

    def close(self):
        self.db.close()
        self.watcher.close()
        self.hotline.stop()
        self.switch.close()


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    require_freeswitch()
    if sipp.sipp_binary() is None:
        pytest.skip("SIPp not installed (apt-get install sip-tester)")
    rig = Rig(tmp_path_factory.mktemp("blacklist"))
    try:
        for args in ([BLOCKED, "--reason", "harassment"], [PREFIX, "--reason", "robocalls"],
                     ["1360013*"], [VIP, "--allow", "--reason", "hospital"],
                     [SCOPED, "--did", DID, "--expires", "7d"]):
            result = rig.cli("add", *args)
            assert result.returncode == 0, result.stderr
        # `hotline run` notices the new entries and pushes them
        rig.switch.wait_for(lambda: rig.held().count("D/hotline_bl_") == 5, timeout=15,
                            what="the five entries in the switch")
        yield rig
    finally:
        rig.close()


def entry_id(pattern) -> int:
    return BlacklistEntry.get(BlacklistEntry.pattern == pattern).id


def test_a_blacklisted_caller_gets_busy_and_is_logged(rig):
    hangup = rig.busy_call(BLOCKED, DID)
    assert hangup["variable_hotline_blocked"] == str(entry_id("86" + BLOCKED))
    assert hangup["variable_hangup_cause"] == "USER_BUSY"
    assert "variable_hotline_flow" not in hangup            # never reached the IVR
    row = rig.blocked_row(hangup["Unique-ID"])
    assert (row.caller, row.did, row.pattern) == (BLOCKED, DID, "+86" + BLOCKED)
    assert row.entry.reason == "harassment"


@pytest.mark.parametrize("form", ["+86" + BLOCKED, "0086" + BLOCKED])
def test_every_form_of_the_caller_id_matches(rig, form):
    hangup = rig.busy_call(form, rig.switch.fs.linetest_number)
    assert hangup["variable_hotline_blocked"] == str(entry_id("86" + BLOCKED))
    assert rig.blocked_row(hangup["Unique-ID"]).caller == form


def test_a_prefix_entry_blocks_every_number_under_it(rig):
    hangup = rig.busy_call("13700138888", DID)
    assert hangup["variable_hotline_blocked"] == str(entry_id("861370013"))
    assert rig.blocked_row(hangup["Unique-ID"]).pattern == "+861370013*"


def test_a_whitelisted_caller_passes_and_is_marked_vip(rig):
    answer = rig.answered_call(VIP, rig.switch.fs.linetest_number)
    assert answer["variable_hotline_vip"] == "true"
    assert answer["variable_hotline_data_vip"] == "true"
    assert "variable_hotline_blocked" not in answer
    # a neighbour under the blocked prefix is not a VIP
    hangup = rig.busy_call("13600136001", DID)
    assert hangup["variable_hotline_blocked"] == str(entry_id("861360013"))


def test_a_did_scoped_entry_does_not_block_another_did(rig):
    answer = rig.answered_call(SCOPED, rig.switch.fs.linetest_number)
    assert "variable_hotline_blocked" not in answer
    hangup = rig.busy_call(SCOPED, DID)
    assert hangup["variable_hotline_blocked"] == str(
        BlacklistEntry.get(BlacklistEntry.did == DID).id)


def test_removal_reaches_the_switch_and_a_restart_is_healed(rig):
    assert rig.cli("remove", BLOCKED).returncode == 0
    rig.switch.wait_for(lambda: "86" + BLOCKED not in rig.held(), timeout=15,
                        what="the removed entry gone from the switch")
    rig.watcher.close()
    rig.switch.restart()       # mod_hash starts empty; Hotline reconnects and re-pushes
    rig.watcher = EventWatcher(rig.switch, "CHANNEL_ANSWER CHANNEL_HANGUP_COMPLETE")
    rig.switch.wait_for(lambda: rig.held().count("D/hotline_bl_") == 4, timeout=30,
                        what="the entries pushed again after the restart")
    answer = rig.answered_call(BLOCKED, rig.switch.fs.linetest_number)
    assert "variable_hotline_blocked" not in answer
    assert rig.cli("add", BLOCKED).returncode == 0
