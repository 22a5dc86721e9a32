"""The rendered FreeSWITCH tree: well-formed, no well-known secrets, and the
values from the config where FreeSWITCH reads them."""
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from esl_apps.config import load_config
from esl_apps.ivr.sets import unmerge
from esl_apps.paths import data_dir
from esl_apps.switch_render import RenderError, render_switch

TOML = """
[paths]
data_dir = "data"
[web]
host = "0.0.0.0"
port = 18080
[freeswitch]
esl_port = 18021
esl_password = "esl-secret-4711"
default_password = "default-secret-0815"
cdr_password = "cdr-secret-2342"
socket_port = 18084
internal_sip_port = 15060
external_sip_port = 15080
rtp_start_port = 30000
rtp_end_port = 30999
max_sessions = 500
sessions_per_second = 120
trunk_networks = ["10.1.2.0/24", "192.0.2.7/32"]
linetest_number = "7777"
"""
AGENT = {"extension": "1001", "display_name": "王五 <desk & 1>", "sip_password": "agent-pw-1001"}
DID = {"number": "+8610887766", "flow": "water_main", "language": "zh_CN"}
QUEUE = {"name": "repairs", "strategy": "ring-all", "record_calls": False}


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "hotline.toml"
    path.write_text(TOML)
    return load_config(path, environ={})


@pytest.fixture
def tree(config, tmp_path):
    dest = tmp_path / "conf"
    files = render_switch(config, dest, [AGENT], [DID, dict(DID, number="999", enabled=False)],
                          [QUEUE])
    return dest, files


def parse(path):
    """Parse a rendered file as XML (FreeSWITCH's preprocessor lines included)."""
    return ET.parse(path).getroot()


def params(root, xpath="settings/param"):
    return {p.get("name"): p.get("value") for p in root.findall(xpath)}


def test_every_file_is_well_formed_xml(tree):
    dest, files = tree
    assert len(files) > 20
    if shutil.which("xmllint") is None:
        pytest.skip("xmllint not installed (apt-get install libxml2-utils)")
    result = subprocess.run(["xmllint", "--noout", *map(str, files)], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr


def test_no_well_known_secret_anywhere(tree):
    dest, files = tree
    for template in [*data_dir("freeswitch").rglob("*"), *data_dir("dialplan").rglob("*")]:
        if template.is_file():
            text = template.read_text()
            assert "1234" not in text and "ClueCon" not in text, template
    for path in files:
        text = path.read_text()
        assert "ClueCon" not in text, path
        assert "stun" not in text.lower(), path
        values = [v for el in parse(path).iter() for v in el.attrib.values()]
        assert not [v for v in values if re.search(r"(^|[=:])1234$", v)], path


def test_event_socket_from_config_and_locked_to_loopback(tree):
    dest, _ = tree
    es = params(parse(dest / "autoload_configs/event_socket.conf.xml"))
    assert es["listen-ip"] == "127.0.0.1"
    assert es["listen-port"] == "18021"
    assert es["password"] == "esl-secret-4711"
    acl = parse(dest / "autoload_configs/acl.conf.xml")
    esl_list = acl.find(f"network-lists/list[@name='{es['apply-inbound-acl']}']")
    assert esl_list.get("default") == "deny"
    assert [(n.get("type"), n.get("cidr")) for n in esl_list] == [("allow", "127.0.0.1/32")]
    trunks = acl.find("network-lists/list[@name='trunks']")
    assert trunks.get("default") == "deny"
    assert [n.get("cidr") for n in trunks] == ["10.1.2.0/24", "192.0.2.7/32"]


def test_core_limits_and_modules(tree):
    dest, _ = tree
    core = params(parse(dest / "autoload_configs/switch.conf.xml"))
    assert (core["max-sessions"], core["sessions-per-second"]) == ("500", "120")
    assert (core["rtp-start-port"], core["rtp-end-port"]) == ("30000", "30999")
    modules = [m.get("module") for m in
               parse(dest / "autoload_configs/modules.conf.xml").findall("modules/load")]
    assert "mod_callcenter" in modules and "mod_xml_cdr" in modules
    assert "mod_xml_curl" not in modules
    assert len(modules) == len(set(modules))


def test_sip_profiles(tree):
    dest, _ = tree
    agents = params(parse(dest / "sip_profiles/agents.xml"), "profile/settings/param")
    trunks = params(parse(dest / "sip_profiles/trunks.xml"), "profile/settings/param")
    assert (agents["context"], agents["sip-port"], agents["auth-calls"]) == \
        ("internal", "15060", "true")
    assert "apply-inbound-acl" not in agents
    assert (trunks["context"], trunks["sip-port"], trunks["apply-inbound-acl"]) == \
        ("public", "15080", "trunks")
    for profile in (agents, trunks):
        assert profile["ext-rtp-ip"] == profile["ext-sip-ip"] == profile["sip-ip"] == "127.0.0.1"
        assert profile["inbound-codec-prefs"] == "PCMA,PCMU,OPUS"
        assert profile["dtmf-type"] == "rfc2833"


def test_agent_in_directory(tree):
    dest, _ = tree
    domain = parse(dest / "directory/default.xml").find("domain")
    assert domain.get("name") == "127.0.0.1"
    user = domain.find("groups/group/users/user[@id='1001']")
    assert params(user, "params/param")["password"] == "agent-pw-1001"
    variables = {v.get("name"): v.get("value") for v in user.findall("variables/variable")}
    assert variables["effective_caller_id_name"] == "王五 <desk & 1>"
    assert variables["user_context"] == "internal"
    assert variables["hotline_cc_agent"] == "1001@default"
    assert "default_password=default-secret-0815" in (dest / "vars.xml").read_text()


def _did_actions(dest):
    root = parse(dest / "dialplan/public/50_did.xml")
    extensions = root.findall("extension")
    assert len(extensions) == 1          # the disabled DID is left out
    return [(a.get("application"), a.get("data")) for a in extensions[0].find("condition")]


def test_did_enters_the_compiled_flow_in_native_mode(tree):
    dest, _ = tree
    actions = _did_actions(dest)
    assert ("set", "hotline_did=+8610887766") in actions
    assert actions[-1] == ("transfer", "flow_water_main XML hotline_flows")
    assert "socket" not in [a for a, _ in actions]
    entry = (dest / "dialplan/flows/00_entry.xml").read_text()
    assert 'name="hotline_flows"' in entry and "hotline_fallback XML fallback" in entry


def test_socket_mode_entry_goes_to_the_socket_app_then_fails_open(config, tmp_path):
    from esl_apps.ivr.loader import load_flows
    flow = tmp_path / "water_main.yaml"
    flow.write_text("name: water_main\nentry: bye\nnodes:\n  bye: {verb: hangup}\n")
    flows, errors = load_flows(flow)
    assert not errors
    config.ivr.mode = "socket"
    dest = tmp_path / "socket-conf"
    render_switch(config, dest, [AGENT], [DID], [QUEUE], flows=flows)
    assert _did_actions(dest)[-1] == ("transfer", "flow_water_main XML hotline_flows")
    root = parse(dest / "dialplan/flows/00_entry.xml")
    ext = root.find("context/extension[@name='flow_water_main']")
    actions = unmerge([(a.get("application"), a.get("data")) for a in ext.find("condition")])
    assert ("set", "hotline_flow=water_main") in actions
    assert ("set", "hotline_app=ivr") in actions
    apps = [a for a, _ in actions]
    socket_at = apps.index("socket")
    assert actions[socket_at][1] == "127.0.0.1:18084 async full"
    assert actions[socket_at + 1] == ("transfer", "hotline_fallback XML fallback")
    assert apps.index("sched_transfer") < socket_at


def test_fallback_route_queues_then_says_call_later(tree, config):
    dest, _ = tree
    ext = parse(dest / "dialplan/fallback/10_fallback.xml").find("extension")
    actions = [(a.get("application"), a.get("data")) for a in ext.find("condition")]
    assert ("set", "hotline_route=fallback") in actions
    assert ("callcenter", "default@default") in actions
    later = parse(dest / "dialplan/fallback/30_call_later.xml").find("extension/condition")
    prompt = config.dirs["prompts_dir"] / "fallback" / "please_call_later.wav"
    assert ("playback", str(prompt)) in [(a.get("application"), a.get("data")) for a in later]
    assert prompt.parent.is_dir()


def _pcre(expression: str, value: str):
    """A dialplan condition's match; its expressions here are Python-compatible."""
    return re.search(expression, value)


def test_a_desk_transfer_to_a_queue_comes_back_to_the_flows_queue_node(config, tmp_path):
    """The desk's blind transfer to a queue (webui/desk/call_control.py) lands in the
    fallback context's desk_queue_<queue>; given back by that queue, the caller goes
    to the o_<node> dispatch named by hotline_after_agent, which each compiled queue
    node sets: every value it can take must match and name an existing extension."""
    from esl_apps.ivr.loader import load_flows
    from webui.desk.call_control import CallControl, Target
    flows, errors = load_flows(data_dir("ivr_flows"))
    assert not errors
    dest = tmp_path / "conf"
    render_switch(config, dest, [AGENT], [DID], [QUEUE], flows=flows)
    into, back = parse(dest / "dialplan/fallback/40_desk_queue.xml").findall("extension")

    command = CallControl(None, "127.0.0.1").transfer_command(
        "22222222-2222-4222-8222-222222222222", Target("queue", "repairs"))
    destination, dialplan, context = command.split()[2:]
    assert (dialplan, context) == ("XML", "fallback")
    condition = into.find("condition")
    match = _pcre(condition.get("expression"), destination)
    assert match and match.group(1) == "repairs"
    actions = [(a.get("application"), a.get("data")) for a in condition]
    assert ("callcenter", "$1@default") in actions
    assert ("set", "transfer_after_bridge=${hotline_after_agent}") in actions
    assert actions.index(("unset", "cc_cause")) < actions.index(("callcenter", "$1@default"))
    assert actions[-1] == ("transfer", "hotline_desk_queue_done XML fallback")

    first, dispatch = back.findall("condition")
    assert _pcre(first.get("expression"), "hotline_desk_queue_done")
    assert [(a.tag, a.get("data")) for a in dispatch] == [
        ("action", "$1 XML $2"), ("anti-action", "hotline_fallback_done XML fallback")]
    contexts = {}
    for path in (dest / "dialplan/flows").glob("*.xml"):
        for ctx in parse(path).iter("context"):
            contexts.setdefault(ctx.get("name"), set()).update(
                c.get("expression") for c in ctx.iter("condition")
                if c.get("field") == "destination_number")
    seen = 0
    for path in (dest / "dialplan/flows").glob("*.xml"):
        for action in parse(path).iter("action"):
            for app, data in unmerge([(action.get("application"), action.get("data"))]):
                if app != "set" or not data.startswith("hotline_after_agent="):
                    continue
                match = _pcre(dispatch.get("expression"), data.partition("=")[2])
                assert match, data
                extension, ctx = match.groups()
                assert f"^{extension}$" in contexts[ctx], data
                seen += 1
    assert seen >= len([f for f in flows.values()
                        if any(n.verb == "queue" for n in f.nodes.values())])
    assert not _pcre(dispatch.get("expression"), "")   # met no flow queue: call later


def test_linetest_number_in_both_contexts(tree):
    dest, _ = tree
    for context in ("public", "internal"):
        cond = parse(dest / f"dialplan/{context}/40_linetest.xml").find("extension/condition")
        assert cond.get("expression") == "^7777$"
        assert ("set", "hotline_app=linetest") in [(a.get("application"), a.get("data"))
                                                   for a in cond]


def test_feature_codes_use_the_authenticated_user(tree):
    dest, _ = tree
    files = sorted((dest / "dialplan/internal").glob("1*_agent_*.xml"))
    assert len(files) == 4
    for path in files:
        conditions = parse(path).findall("extension/condition")
        assert conditions[1].get("field") == "${user_name}"
        data = conditions[1].find("action").get("data")
        assert "callcenter_config(agent set status ${user_name}@default" in data
    assert not any("80(" in p.read_text() for p in (dest / "dialplan").rglob("*.xml"))


def test_queues_include_the_fallback_queue(tree, config):
    dest, _ = tree
    root = parse(dest / "autoload_configs/callcenter.conf.xml")
    queues = {q.get("name"): params(q, "param") for q in root.findall("queues/queue")}
    assert set(queues) == {"repairs@default", "default@default"}
    assert queues["repairs@default"]["strategy"] == "ring-all"
    assert "record-template" not in queues["repairs@default"]
    template = queues["default@default"]["record-template"]
    assert template.startswith(str(config.dirs["recordings_dir"]) + "/")
    assert int(queues["default@default"]["max-wait-time-with-no-agent"]) > 0
    assert params(root)["dbname"].startswith(str(config.dirs["data_dir"]))


def test_cdr_posts_to_the_web_panel_with_basic_auth(tree, config):
    dest, _ = tree
    cdr = params(parse(dest / "autoload_configs/xml_cdr.conf.xml"))
    assert cdr["url"] == "http://127.0.0.1:18080/api/cdr"     # 0.0.0.0 is reached on loopback
    assert cdr["cred"] == "hotline:cdr-secret-2342"
    assert cdr["auth-scheme"] == "basic"
    assert cdr["encode"] == "true"
    assert cdr["err-log-dir"].startswith(str(config.dirs["log_dir"]))


def test_no_gateway_unless_a_carrier_is_configured(tree):
    dest, _ = tree
    assert parse(dest / "sip_profiles/trunks.xml").find("profile/gateways") is None


def test_the_carrier_gateway_on_the_trunks_profile(config, tmp_path):
    fs = config.freeswitch
    fs.outbound_gateway, fs.gateway_proxy = "carrier", "192.0.2.10:5060"
    fs.gateway_username, fs.gateway_password = "01088886666", "p&ss<w>'rd"
    fs.gateway_register = True
    render_switch(config, tmp_path / "conf", [], [], [])
    [gateway] = parse(tmp_path / "conf/sip_profiles/trunks.xml").findall(
        "profile/gateways/gateway")
    assert gateway.get("name") == "carrier"
    assert params(gateway, "param") == {
        "proxy": "192.0.2.10:5060", "realm": "192.0.2.10:5060", "username": "01088886666",
        "password": "p&ss<w>'rd", "register": "true", "caller-id-in-from": "true"}


@pytest.mark.parametrize("changes, message", [
    ({"outbound_gateway": ""}, "outbound_gateway"),
    ({"gateway_register": True}, "gateway_register needs"),
    ({"gateway_password": 'a"b'}, "gateway_password"),
    ({"gateway_password": "a${b}"}, "gateway_password"),
    ({"gateway_password": "two words"}, "gateway_password"),
])
def test_refuses_a_gateway_it_cannot_define(config, tmp_path, changes, message):
    fs = config.freeswitch
    fs.outbound_gateway, fs.gateway_proxy = "carrier", "192.0.2.10"
    for key, value in changes.items():
        setattr(fs, key, value)
    with pytest.raises(RenderError, match=message):
        render_switch(config, tmp_path / "conf", [], [], [])


@pytest.mark.parametrize("section, key, value", [
    ("freeswitch", "esl_password", ""),
    ("freeswitch", "default_password", "1234"),
    ("freeswitch", "cdr_password", 'has"quote'),
])
def test_refuses_missing_or_unsafe_secrets(config, tmp_path, section, key, value):
    setattr(getattr(config, section), key, value)
    with pytest.raises(RenderError, match=key):
        render_switch(config, tmp_path / "conf", [], [], [])


@pytest.mark.parametrize("agents, dids", [
    ([dict(AGENT, extension="10${x}")], []),
    ([dict(AGENT, display_name="${system(rm)}")], []),
    ([], [dict(DID, flow="a b")]),
    ([], [dict(DID, number="1|2")]),
])
def test_refuses_values_that_would_change_the_dialplan(config, tmp_path, agents, dids):
    with pytest.raises(RenderError):
        render_switch(config, tmp_path / "conf", agents, dids, [])
