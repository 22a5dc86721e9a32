"""A minimal SIP caller that times INVITE -> 200 OK with the process's clock (µs),
for benchmarks/ivr_rate.py: SIPp's own response times tick in 4 ms on this machine.

    ProbeCaller(host, port).answer_time("7003") -> seconds, or None

It sends an INVITE (PCMA, RFC 2833), waits for the 200 OK, ACKs it and hangs up
at once, so the call costs the switch little beside the load being measured. It
sends no RTP and plays no digits: only the answer is timed.
"""
import secrets
import socket
import time

SDP = ("v=0\r\no=probe 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       "m=audio {port} RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\n"
       "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n")


class ProbeCaller:
    def __init__(self, host: str, port: int, caller: str = "10000"):
        self.host, self.port, self.caller = host, port, caller
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.local = self.sock.getsockname()[1]
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # where the switch's RTP goes
        self.rtp.bind((host, 0))

    def close(self):
        self.sock.close()
        self.rtp.close()

    def _request(self, method, number, call_id, tag, cseq, to_tag="", body=""):
        lines = [
            f"{method} sip:{number}@{self.host}:{self.port} SIP/2.0",
            f"Via: SIP/2.0/UDP {self.host}:{self.local};branch=z9hG4bK{secrets.token_hex(8)};rport",
            "Max-Forwards: 70",
            f"From: <sip:{self.caller}@{self.host}:{self.local}>;tag={tag}",
            f"To: <sip:{number}@{self.host}:{self.port}>" + (f";tag={to_tag}" if to_tag else ""),
            f"Call-ID: {call_id}",
            f"CSeq: {cseq} {method}",
            f"Contact: <sip:{self.caller}@{self.host}:{self.local}>",
            "User-Agent: hotline-bench-probe",
        ]
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append(f"Content-Length: {len(body.encode())}")
        return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()

    def _wait(self, call_id, cseq_method, deadline):
        """The next final response for this call and method: (status, headers)."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None, {}
            self.sock.settimeout(remaining)
            try:
                data, _ = self.sock.recvfrom(65536)
            except TimeoutError:
                return None, {}
            text = data.decode("utf-8", "replace")
            head = text.split("\r\n\r\n", 1)[0].split("\r\n")
            if not head[0].startswith("SIP/2.0 "):
                continue  # a request from the switch (none is expected)
            headers = {}
            for line in head[1:]:
                key, _, value = line.partition(":")
                headers.setdefault(key.strip().lower(), value.strip())
            if headers.get("call-id") != call_id or not headers.get("cseq", "").endswith(
                    cseq_method):
                continue
            status = int(head[0].split()[1])
            if status >= 200:
                return status, headers

    def answer_time(self, number: str, timeout: float = 10.0) -> float | None:
        call_id = secrets.token_hex(12)
        tag = secrets.token_hex(6)
        invite = self._request("INVITE", number, call_id, tag, 1,
                               body=SDP.format(port=self.rtp.getsockname()[1]))
        began = time.perf_counter()
        self.sock.sendto(invite, (self.host, self.port))
        status, headers = self._wait(call_id, "INVITE", time.monotonic() + timeout)
        took = time.perf_counter() - began
        if status != 200:
            return None
        to_tag = headers.get("to", "").partition(";tag=")[2].split(";")[0]
        self.sock.sendto(self._request("ACK", number, call_id, tag, 1, to_tag),
                         (self.host, self.port))
        self.sock.sendto(self._request("BYE", number, call_id, tag, 2, to_tag),
                         (self.host, self.port))
        self._wait(call_id, "BYE", time.monotonic() + timeout)
        return took
