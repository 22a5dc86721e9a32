"""SIPp as the caller: a scenario written per test (digits to press, who hangs up),
RTP from SIPp's bundled PCMA pcap and RFC 2833 digits from its DTMF pcaps."""
import shutil
import subprocess
from pathlib import Path

PCAPS = Path("/usr/share/sip-tester")
DIGIT_PCAP = {**{str(d): f"dtmf_2833_{d}.pcap" for d in range(10)},
              "#": "dtmf_2833_pound.pcap", "*": "dtmf_2833_star.pcap"}

HEAD = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="hotline caller">
  <send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "{caller_name}" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: sip:{caller}@[local_ip]:[local_port]
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=sipp 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 8 101
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true"/>
  <send><![CDATA[
ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "{caller_name}" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Contact: sip:{caller}@[local_ip]:[local_port]
Max-Forwards: 70
Content-Length: 0
]]></send>
  <nop><action><exec play_pcap_audio="{pcaps}/g711a.pcap"/></action></nop>
"""

DIGIT = """  <pause milliseconds="{gap}"/>
  <nop><action><exec play_pcap_audio="{pcaps}/{pcap}"/></action></nop>
"""

WAIT_BYE = """  <recv request="BYE" timeout="{timeout}"/>
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
Content-Length: 0
]]></send>
</scenario>
"""

SEND_BYE = """  <pause milliseconds="{after}"/>
  <send retrans="500"><![CDATA[
BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "{caller_name}" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 2 BYE
Contact: sip:{caller}@[local_ip]:[local_port]
Max-Forwards: 70
Content-Length: 0
]]></send>
  <recv response="200"/>
</scenario>
"""


def sipp_binary() -> str | None:
    return shutil.which("sipp")


def scenario(digits: str = "", caller: str = "13800138000", caller_name: str = "SIPp",
             first_digit_after_ms: int = 1500, gap_ms: int = 300,
             hangup_after_ms: int | None = None, bye_timeout_ms: int = 30000) -> str:
    """A caller that presses `digits`, then waits for the switch's BYE, or hangs up
    itself `hangup_after_ms` after the last digit."""
    text = HEAD.format(caller=caller, caller_name=caller_name, pcaps=PCAPS)
    for i, digit in enumerate(digits):
        text += DIGIT.format(gap=first_digit_after_ms if i == 0 else gap_ms, pcaps=PCAPS,
                             pcap=DIGIT_PCAP[digit])
    if hangup_after_ms is None:
        return text + WAIT_BYE.format(timeout=bye_timeout_ms)
    return text + SEND_BYE.format(after=hangup_after_ms, caller=caller,
                                  caller_name=caller_name)


def call(workdir: Path, port: int, number: str, sip_port: int, media_port: int,
         timeout: float = 60, **scenario_args) -> subprocess.CompletedProcess:
    """Place one call to number@127.0.0.1:port; SIPp's exit status 0 means it went as scripted."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / f"caller-{number}.xml"
    path.write_text(scenario(**scenario_args), encoding="ascii")
    cmd = [sipp_binary(), f"127.0.0.1:{port}", "-sf", str(path), "-s", number, "-m", "1",
           "-i", "127.0.0.1", "-p", str(sip_port), "-mp", str(media_port), "-nostdin",
           "-timeout", f"{int(timeout)}s", "-timeout_error", "-trace_err", "-trace_msg"]
    return subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=timeout + 15)
