"""Hotline's rendered config on a real FreeSWITCH: it loads cleanly, the event
socket is locked, and the public dialplan fails open when the socket app is not there."""
import re
import shutil
import socket
import subprocess
import threading
import wave
import xml.etree.ElementTree as ET
from urllib.parse import unquote

import pytest

from esl_apps.ivr.loader import load_flows

from esl_apps.wire import read_frame
from tests.real.harness import CdrReceiver, Esl, EslError

pytestmark = pytest.mark.freeswitch

BAD_LINE = re.compile(r"\[(ERR|CRIT|ALERT)\]")
DID = "88001234"
# A fallback queue that gives up quickly when no agent is logged in.
QUICK_FALLBACK = [{"name": "default", "max_wait_time_with_no_agent": 1,
                   "max_wait_time_with_no_agent_time_reached": 1}]


def test_rendered_tree_loads_without_errors(real_switch):
    bad = [line for line in real_switch.log_text(since_start=True).splitlines()
           if BAD_LINE.search(line)]
    assert bad == []
    for module in ("mod_callcenter", "mod_sofia", "mod_event_socket", "mod_xml_cdr",
                   "mod_voicemail", "mod_opus", "mod_local_stream"):
        assert real_switch.api(f"module_exists {module}").strip() == "true", module
    assert real_switch.api("module_exists mod_xml_curl").strip() == "false"
    status = real_switch.api("sofia status")
    for profile in ("agents", "trunks"):
        assert re.search(rf"^\s*{profile}\s+profile\s+\S+\s+RUNNING", status, re.M), status
    queues = real_switch.api("callcenter_config queue list")
    assert re.search(r"^default@default\|", queues, re.M), queues
    password = real_switch.api("global_getvar default_password").strip()
    assert password == real_switch.fs.default_password
    assert real_switch.api("user_exists id 1001 127.0.0.1").strip() == "true"
    assert real_switch.start_seconds < 15


def test_event_socket_refuses_a_wrong_password(real_switch):
    with pytest.raises(EslError, match="auth refused"):
        Esl("127.0.0.1", real_switch.esl_port, real_switch.fs.esl_password + "x")
    Esl("127.0.0.1", real_switch.esl_port, real_switch.fs.esl_password).close()


def test_restart_comes_back(real_switch):
    real_switch.restart()
    assert "RUNNING" in real_switch.api("sofia status")


# -- fail-open ----------------------------------------------------------------

class SocketApp:
    """Stands in for Hotline's outbound socket app: takes each call (`connect`) and
    drops the socket a moment later, or (hold=True) accepts the TCP connection and
    never speaks. (A drop within a millisecond of `connect` races FreeSWITCH's park
    and leaves the call parked: only the watchdog gets it out.)"""

    def __init__(self, port, hold=False):
        self.hold = hold
        self.held = []
        self.server = socket.create_server(("127.0.0.1", port))
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            if self.hold:
                self.held.append(conn)
                continue
            conn.sendall(b"connect\n\n")
            read_frame(conn.makefile("rb"))
            threading.Timer(0.3, conn.close).start()

    def close(self):
        self.server.close()
        for conn in self.held:
            conn.close()


def _prompt(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    if shutil.which("espeak-ng"):
        subprocess.run(["espeak-ng", "-w", str(path), "please call later"], check=True)
        return
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\0\0" * 8000)


def _cdr_vars(post) -> dict:
    root = ET.fromstring(CdrReceiver.form(post)["cdr"])
    return {el.tag: unquote(el.text or "") for el in root.find("variables")}


def _hotline_cdr(cdrs, timeout=30):
    while True:
        post = cdrs.next_post(timeout)
        variables = _cdr_vars(post)
        if "hotline_route" in variables:
            return post, variables


@pytest.fixture
def fail_open_switch(real_switch_factory, tmp_path):
    """Socket mode: the DID's flow `main` is handed to the socket app."""
    flow = tmp_path / "main.yaml"
    flow.write_text("name: main\nentry: bye\nnodes:\n  bye: {verb: hangup}\n")
    flows, errors = load_flows(flow)
    assert not errors

    def make(**kwargs):
        switch = real_switch_factory(
            dids=[{"number": DID, "flow": "main", "language": "zh_CN"}],
            queues=QUICK_FALLBACK, receive_cdrs=True, flows=flows, ivr={"mode": "socket"},
            **kwargs)
        _prompt(switch.config.dirs["prompts_dir"] / "fallback" / "please_call_later.wav")
        switch.start()
        return switch, switch.cdrs
    return make


def _call_did(switch):
    reply = switch.api(f"originate loopback/{DID}/public &park()")
    assert reply.startswith("+OK"), reply
    return reply.split()[1]


def test_socket_app_down_fails_open_and_cdr_is_posted(fail_open_switch):
    switch, cdrs = fail_open_switch()
    _call_did(switch)
    post, variables = _hotline_cdr(cdrs)
    assert variables["hotline_did"] == DID
    assert variables["hotline_app"] == "ivr"
    assert variables["hotline_route"] == "fallback"
    assert variables["hotline_fallback_result"] == "call_later"
    assert variables["cc_cause"] == "cancel"
    assert int(variables.get("playback_ms", "0")) > 0
    # What a Flask receiver at /api/cdr gets.
    path, _, query = post["path"].partition("?")
    assert path == "/api/cdr"
    assert query == f"uuid={variables['uuid']}"
    assert post["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert CdrReceiver.basic_auth(post) == f"hotline:{switch.fs.cdr_password}"
    assert post["body"].startswith(b"cdr=")


def test_app_that_drops_the_socket_fails_open(fail_open_switch):
    switch, cdrs = fail_open_switch()
    app = SocketApp(switch.socket_port)
    try:
        _call_did(switch)
        _, variables = _hotline_cdr(cdrs)
    finally:
        app.close()
    assert variables["socket_host"] == "127.0.0.1"
    assert variables["hotline_route"] == "fallback"
    assert variables["hotline_fallback_result"] == "call_later"


def test_watchdog_moves_a_call_the_app_never_takes(fail_open_switch):
    switch, cdrs = fail_open_switch(connect_watchdog=2)
    app = SocketApp(switch.socket_port, hold=True)
    try:
        a_leg = _call_did(switch)   # returns once the fallback route answers
        b_leg = switch.api(f"uuid_getvar {a_leg} other_loopback_leg_uuid").strip()
        assert len(app.held) == 1   # the socket app still holds the call's socket
        assert switch.api(f"uuid_getvar {b_leg} hotline_route").strip() == "fallback"
    finally:
        app.close()
    _, variables = _hotline_cdr(cdrs)
    assert variables["hotline_fallback_result"] == "call_later"


# -- agents' feature codes ----------------------------------------------------

@pytest.mark.parametrize("code, status", [("*23", "On Break"), ("*22", "Logged Out"),
                                          ("*24", "Available")])
def test_feature_code_sets_the_calling_agents_status(real_switch, code, status):
    assert real_switch.api("callcenter_config agent add 1001@default callback").startswith("+OK")
    # A loopback leg carries user_name the way sofia sets it on an authenticated call.
    reply = real_switch.api(f"originate {{user_name=1001}}loopback/{code}/internal &park()")
    assert reply.startswith("+OK"), reply
    real_switch.wait_for(
        lambda: real_switch.api("callcenter_config agent get status 1001@default").strip() == status,
        what=f"agent status {status}")
