"""SIPp as the caller: a scenario written per test (digits to press, who hangs up),
RTP from SIPp's bundled PCMA pcap and RFC 2833 digits from its DTMF pcaps."""
import shutil
import subprocess
from pathlib import Path

PCAPS = Path("/usr/share/sip-tester")
DIGIT_PCAP = {**{str(d): f"dtmf_2833_{d}.pcap" for d in range(10)},
              "#": "dtmf_2833_pound.pcap", "*": "dtmf_2833_star.pcap"}

REQUEST = """{method} sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "{caller_name}" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>{to_tag}
Call-ID: [call_id]
CSeq: {cseq} {method}
Contact: sip:{caller}@[local_ip]:[local_port]
Max-Forwards: 70
"""

SDP = """Content-Type: application/sdp
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
"""

ANSWERED = """  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true"/>
"""

PLAY = """  <nop><action><exec play_pcap_audio="{pcaps}/{pcap}"/></action></nop>
"""

OK_TO_BYE = """SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
Content-Length: 0
"""


def _send(text: str, retrans: bool = False) -> str:
    attr = ' retrans="500"' if retrans else ""
    return f"  <send{attr}><![CDATA[\n{text}]]></send>\n"


def _request(method: str, cseq: int, caller: str, caller_name: str, tail: str) -> str:
    to_tag = "" if method == "INVITE" else "[peer_tag_param]"
    return REQUEST.format(method=method, cseq=cseq, caller=caller, caller_name=caller_name,
                          to_tag=to_tag) + tail


def sipp_binary() -> str | None:
    return shutil.which("sipp")


def scenario(digits: str = "", caller: str = "13800138000", caller_name: str = "SIPp",
             first_digit_after_ms: int = 1500, gap_ms: int = 300,
             hangup_after_ms: int | None = None, bye_timeout_ms: int = 30000) -> str:
    """A caller that presses `digits`, then waits for the switch's BYE, or hangs up
    itself `hangup_after_ms` after the last digit."""
    who = {"caller": caller, "caller_name": caller_name}
    parts = ['<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="hotline caller">\n',
             _send(_request("INVITE", 1, tail=SDP, **who), retrans=True), ANSWERED,
             _send(_request("ACK", 1, tail="Content-Length: 0\n", **who)),
             PLAY.format(pcaps=PCAPS, pcap="g711a.pcap")]
    for i, digit in enumerate(digits):
        parts.append(f'  <pause milliseconds="{first_digit_after_ms if i == 0 else gap_ms}"/>\n')
        parts.append(PLAY.format(pcaps=PCAPS, pcap=DIGIT_PCAP[digit]))
    if hangup_after_ms is None:
        parts += [f'  <recv request="BYE" timeout="{bye_timeout_ms}"/>\n', _send(OK_TO_BYE)]
    else:
        parts += [f'  <pause milliseconds="{hangup_after_ms}"/>\n',
                  _send(_request("BYE", 2, tail="Content-Length: 0\n", **who), retrans=True),
                  '  <recv response="200"/>\n']
    return "".join(parts) + "</scenario>\n"


OK_TO_REQUEST = OK_TO_BYE


def stepped_scenario(groups, caller: str = "13800138000", caller_name: str = "SIPp",
                     gap_ms: int = 300, step_timeout_ms: int = 60000) -> str:
    """A caller driven by the test: before each group of digits it waits for a SIP
    INFO (the test sends one with `uuid_send_info` when the switch is ready for
    input), answers 200 and presses the group. One more INFO makes it hang up.
    The gaps inside a group only space the RFC 2833 digits (see FIELD-NOTES); no
    pause follows a group, since an INFO that arrives during a pause aborts SIPp.
    The switch needs no RTP after the digits (no media timeout is configured)."""
    who = {"caller": caller, "caller_name": caller_name}
    audio = PLAY.format(pcaps=PCAPS, pcap="g711a.pcap")
    parts = ['<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="stepped caller">\n',
             # FreeSWITCH sends INFO only to peers that announce they take it
             _send(_request("INVITE", 1, tail="X-FS-Support: send_info\n" + SDP, **who),
                   retrans=True), ANSWERED,
             _send(_request("ACK", 1, tail="Content-Length: 0\n", **who)), audio]
    for group in groups:
        parts += [f'  <recv request="INFO" timeout="{step_timeout_ms}"/>\n', _send(OK_TO_REQUEST)]
        for i, digit in enumerate(group):
            if i:
                parts.append(f'  <pause milliseconds="{gap_ms}"/>\n')
            parts.append(PLAY.format(pcaps=PCAPS, pcap=DIGIT_PCAP[digit]))
    parts += [f'  <recv request="INFO" timeout="{step_timeout_ms}"/>\n', _send(OK_TO_REQUEST),
              _send(_request("BYE", 2, tail="Content-Length: 0\n", **who), retrans=True),
              '  <recv response="200"/>\n']
    return "".join(parts) + "</scenario>\n"


def start(workdir: Path, port: int, number: str, sip_port: int, media_port: int,
          scenario_text: str, timeout: float = 120) -> subprocess.Popen:
    """SIPp in the background, for a test that steers the call while it runs."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / f"stepped-{number}.xml"
    path.write_text(scenario_text, encoding="ascii")
    cmd = [sipp_binary(), f"127.0.0.1:{port}", "-sf", str(path), "-s", number, "-m", "1",
           "-i", "127.0.0.1", "-p", str(sip_port), "-mp", str(media_port), "-nostdin",
           "-timeout", f"{int(timeout)}s", "-timeout_error", "-trace_err", "-trace_msg"]
    return subprocess.Popen(cmd, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


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
