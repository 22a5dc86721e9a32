"""Click-to-dial through a real carrier gateway: SIPp plays the carrier (a UAS on a
loopback port that the rendered trunks profile names as gateway "carrier"). Agent
1001 (signed in to the panel) dials "138 0013 8000": their baresip phone rings and
answers, then the switch calls 13800138000 through the gateway, showing the
hotline's number (95598), never the customer's own; the carrier answers, the two
legs are bridged, and the agent hangs up through the desk (the carrier gets the
BYE). SIPp checks the INVITE's request line and From itself (a mismatch fails it).
Waits for events, never for a fixed time."""
import json
import subprocess

import pytest
from werkzeug.security import generate_password_hash

from db.connect import bind, open_database
from db.models import Agent, User
from tests.real import sipp
from tests.real.baresip import AgentPhone
from tests.real.harness import free_port
from tests.real.hotline_proc import EventWatcher, HotlineProcess
from tests.real.panel import Panel

pytestmark = [pytest.mark.freeswitch, pytest.mark.usefixtures("sip_phones")]

AGENT = {"extension": "1001", "display_name": "Agent One", "sip_password": "agent-1001-secret"}
PASSWORD = "click to dial password"
HOTLINE_NUMBER = "95598"
CUSTOMER = "13800138000"

RESPONSE = """SIP/2.0 {status}
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
"""
RINGING = sipp._send(RESPONSE.format(status="180 Ringing") + "Content-Length: 0\n")
BYE_OK = sipp._send(sipp.OK_TO_BYE)
ANSWER = sipp._send(RESPONSE.format(status="200 OK") + sipp.SDP, retrans=True)
CARRIER = f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="carrier">
  <recv request="INVITE">
    <action>
      <ereg regexp="^INVITE sip:{CUSTOMER}@" search_in="msg" check_it="true" assign_to="1"/>
      <ereg regexp="{HOTLINE_NUMBER}@" search_in="hdr" header="From:" check_it="true"
            assign_to="2"/>
    </action>
  </recv>
  <Reference variables="1,2"/>
{RINGING}{ANSWER}\
  <recv request="ACK" timeout="30000"/>
{sipp.PLAY.format(pcaps=sipp.PCAPS, pcap="g711a.pcap")}\
  <recv request="BYE" timeout="60000"/>
{BYE_OK}\
</scenario>
"""


@pytest.fixture
def carrier_port():
    return free_port()


@pytest.fixture
def switch(real_switch_factory, carrier_port):
    return real_switch_factory(agents=[AGENT], freeswitch={
        "outbound_gateway": "carrier", "gateway_proxy": f"127.0.0.1:{carrier_port}",
        "outbound_caller_id": HOTLINE_NUMBER}).start()


@pytest.fixture
def hotline(switch):
    proc = HotlineProcess(switch)
    db = bind(open_database(switch.config.database_url))
    with db.connection_context():
        user = User.create(username="agent1", role="agent", display_name="Agent One",
                           password_hash=generate_password_hash(PASSWORD))
        Agent.create(user=user, state="Logged Out", **AGENT)
    proc.start()
    yield proc
    proc.stop()
    db.close()


@pytest.fixture
def carrier(tmp_path, carrier_port):
    workdir = tmp_path / "carrier"
    workdir.mkdir()
    (workdir / "carrier.xml").write_text(CARRIER, encoding="ascii")
    proc = subprocess.Popen(
        [sipp.sipp_binary(), "-sf", "carrier.xml", "-m", "1", "-i", "127.0.0.1",
         "-p", str(carrier_port), "-mp", str(free_port() & ~1), "-nostdin",
         "-timeout", "90s", "-timeout_error", "-trace_err", "-trace_msg"],
        cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    yield proc
    if proc.poll() is None:
        proc.kill()
        proc.wait(5)


def test_the_desk_dials_a_customer_through_the_carrier(switch, hotline, carrier, tmp_path):
    phone = AgentPhone(tmp_path, AGENT["extension"], AGENT["sip_password"],
                       switch.agents_port).start()
    watcher = EventWatcher(switch, "CHANNEL_ANSWER CHANNEL_BRIDGE CHANNEL_HANGUP_COMPLETE")
    try:
        desk = Panel(switch.web_port, "agent1", PASSWORD)
        status, body = desk.open("/desk/dial", {"number": "138 0013 8000",
                                                "csrf_token": desk.csrf},
                                 accept="application/json")
        answer = json.loads(body)
        assert status == 200 and answer["state"] == "dialing", answer
        leg = answer["leg"]
        assert phone.wait_event("CALL_ESTABLISHED", timeout=30) is not None, "no answer"
        bridge = watcher.wait(lambda e: e.get("Event-Name") == "CHANNEL_BRIDGE"
                              and e.get("Unique-ID") == leg, what="agent bridged to customer")
        customer = bridge["Other-Leg-Unique-ID"]
        assert switch.api(f"uuid_getvar {leg} hotline_desk_caller").strip() == customer
        # the desk controls the call it dialled: the agent hangs up through it
        status, body = desk.control("hangup", leg)
        assert status == 200 and body["state"] == "ended", body
        watcher.wait(lambda e: e.get("Event-Name") == "CHANNEL_HANGUP_COMPLETE"
                     and e.get("Unique-ID") == customer, what="the customer's leg gone")
        out, _ = carrier.communicate(timeout=30)
        assert carrier.returncode == 0, out[-3000:]
    finally:
        watcher.close()
        phone.stop()
