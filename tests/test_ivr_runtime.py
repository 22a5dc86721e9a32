"""Each verb and the runner's walk, against a scripted call (tests/ivr_session.py)."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from db.sample_data import load_sample_billing
from esl_apps.ivr.compile import runs_natively
from esl_apps.ivr.runtime import Runner
from esl_apps.ivr.services import IvrServices
from tests.ivr_session import FakeSession, flows_from

HEAD = "name: f\nentry: start\nlanguage: zh\nnodes:\n"


class Services:
    def __init__(self, open_=True, row=None, fail=False):
        self.open, self.row, self.fail = open_, row, fail
        self.queries = []

    def is_open(self, name):
        if name == "missing":
            raise KeyError(name)
        return self.open

    def lookup_sql(self, query, params):
        self.queries.append((query, params))
        if self.fail:
            raise RuntimeError("database down")
        return self.row

    def lookup_http(self, url, timeout):
        return self.lookup_sql(url, [timeout])


def run(tmp_path, nodes, session=None, services=None, **kwargs):
    flows = flows_from(tmp_path, f=HEAD + nodes)
    session = session or FakeSession()
    runner = Runner(flows, services or Services(), tmp_path / "prompts", **kwargs)
    return runner.run(session, "f", data={"caller": session.caller}), session


def test_play_then_hangup(tmp_path):
    result, s = run(tmp_path, """
  start: {verb: play, text: {zh: 您好, en: Hello}, next: {done: bye}}
  bye: {verb: hangup}
""")
    assert result.end == "hangup" and result.path == ["f:start", "f:bye"]
    assert s.heard == ["您好"] and s.actions[-1] == ("hangup", "NORMAL_CLEARING")
    assert s.actions[0][1].startswith(str(tmp_path / "prompts" / "tts" / "zh"))
    assert s.variables["hotline_path"] == "f:start f:bye"


MENU = """
  start:
    verb: menu
    prompt: {text: {zh: 请按1或2}}
    invalid_prompt: {text: {zh: 输入有误}}
    retries: 2
    store: choice
    next: {"1": one, "2": two, timeout: late, invalid: wrong}
  one: {verb: hangup}
  two: {verb: hangup}
  late: {verb: hangup}
  wrong: {verb: hangup}
"""


@pytest.mark.parametrize("keys, end_node, heard_invalid", [
    (["2"], "two", 0),
    (["9", "1"], "one", 1),        # a wrong key uses up a try
    (["", ""], "late", 2),         # silence twice: timeout
    (["9", ""], "wrong", 2),       # a wrong key then silence: still invalid
])
def test_menu(tmp_path, keys, end_node, heard_invalid):
    result, s = run(tmp_path, MENU, FakeSession(keys=keys))
    assert result.path[-1] == f"f:{end_node}"
    assert s.heard.count("输入有误") == heard_invalid
    if end_node in ("one", "two"):
        assert result.data["choice"] == end_node.replace("one", "1").replace("two", "2")
        assert s.variables["hotline_data_choice"] == result.data["choice"]


COLLECT = """
  start:
    verb: collect
    prompt: {text: {zh: 请输入户号}}
    min: 6
    max: 8
    pattern: "^2"
    retries: 2
    store: account
    next: {done: ok, invalid: bad, no_input: none}
  ok: {verb: hangup}
  bad: {verb: hangup}
  none: {verb: hangup}
"""


@pytest.mark.parametrize("keys, end_node, account", [
    (["204813#"], "ok", "204813"),
    (["20481357"], "ok", "20481357"),         # max digits, no terminator needed
    (["2048135799"], "ok", "20481357"),       # the switch stops at max
    (["304813#", "204813#"], "ok", "204813"),  # pattern fails once
    (["304813#", "304813#"], "bad", None),
    (["20#", ""], "bad", None),               # too short is wrong: the length is in the regex
    (["", ""], "none", None),
])
def test_collect(tmp_path, keys, end_node, account):
    result, _ = run(tmp_path, COLLECT, FakeSession(keys=keys))
    assert result.path[-1] == f"f:{end_node}"
    assert result.data.get("account") == account


LOOKUP = """
  start:
    verb: lookup
    sql: {query: "SELECT amount_due, due_date FROM billing_account WHERE account_no = ?",
          params: ["${account}"]}
    store: bill
    next: {done: say, not_found: missing, error: broken}
  say: {verb: say, kind: money, value: "${bill.amount_due}", next: {done: bye, error: broken}}
  missing: {verb: hangup}
  broken: {verb: hangup}
  bye: {verb: hangup}
"""


def test_lookup_sql_on_the_database_then_say(tmp_path, db):
    load_sample_billing(db)
    flows = flows_from(tmp_path, f=HEAD + LOOKUP)
    s = FakeSession()
    result = Runner(flows, IvrServices(database=db), tmp_path).run(
        s, "f", data={"account": "20481357"})
    assert result.path == ["f:start", "f:say", "f:bye"]
    assert float(result.data["bill.amount_due"]) == 1234.5
    assert result.data["bill.due_date"] == "2026-12-31"
    assert s.variables["hotline_data_bill__due_date"] == "2026-12-31"
    assert ("say", f"zh money {result.data['bill.amount_due']}") in s.actions


def test_lookup_not_found_and_injection_safe(tmp_path, db):
    flows = flows_from(tmp_path, f=HEAD + LOOKUP)
    result = Runner(flows, IvrServices(database=db), tmp_path).run(
        FakeSession(), "f", data={"account": "1' OR '1'='1"})
    assert result.path[-1] == "f:missing"


def test_lookup_error_takes_the_error_outcome(tmp_path):
    result, _ = run(tmp_path, LOOKUP, services=Services(fail=True))
    assert result.path[-1] == "f:broken"


def test_say_refuses_a_value_that_is_not_money(tmp_path):
    result, s = run(tmp_path, LOOKUP, services=Services(row={"amount_due": "n/a",
                                                              "due_date": ""}))
    assert result.path[-1] == "f:broken" and not any(a[0] == "say" for a in s.actions)


class _Json(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/bills/404"):
            self.send_response(404)
            self.end_headers()
            return
        body = json.dumps({"amount": 88.5, "due": {"date": "2026-12-01"}, "tags": [1]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def json_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Json)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("account, end", [("123", "f:done"), ("404", "f:missing")])
def test_lookup_http_json(tmp_path, json_server, account, end):
    flows = flows_from(tmp_path, f=HEAD + f"""
  start:
    verb: lookup
    http: {{url: "{json_server}/bills/${{account}}", timeout: 2}}
    store: bill
    next: {{done: done, not_found: missing, error: missing}}
  done: {{verb: hangup}}
  missing: {{verb: hangup}}
""")
    result = Runner(flows, IvrServices(), tmp_path).run(FakeSession(), "f",
                                                         data={"account": account})
    assert result.path[-1] == end
    if end == "f:done":
        assert result.data["bill.amount"] == "88.5"
        assert result.data["bill.due_date"] == "2026-12-01"
        assert "bill.tags" not in result.data


BRANCH = """
  start:
    verb: branch
    cases:
      vip: {caller_prefix: ["139"], did: ["88001234"]}
      open: {business_hours: default}
      repair: {data: {key: ticket.kind, equals: repair}}
      code: {data: {key: account, regex: "^9"}}
    next: {vip: a, open: b, repair: c, code: d, default: e}
  a: {verb: hangup}
  b: {verb: hangup}
  c: {verb: hangup}
  d: {verb: hangup}
  e: {verb: hangup}
"""


@pytest.mark.parametrize("caller, is_open, data, end", [
    ("13912345678", False, {}, "a"),
    ("13812345678", True, {}, "b"),
    ("13812345678", False, {"ticket.kind": "repair"}, "c"),
    ("13812345678", False, {"account": "900"}, "d"),
    ("13812345678", False, {"account": "100"}, "e"),
])
def test_branch_cases_in_file_order(tmp_path, caller, is_open, data, end):
    flows = flows_from(tmp_path, f=HEAD + BRANCH)
    result = Runner(flows, Services(open_=is_open), tmp_path).run(
        FakeSession(caller=caller), "f", data=data)
    assert result.path[-1] == f"f:{end}"


def test_branch_on_an_unknown_schedule_fails_open(tmp_path):
    result, _ = run(tmp_path, """
  start: {verb: branch, when: {business_hours: missing}, next: {true: a, false: a}}
  a: {verb: hangup}
""")
    assert result.end == "fallback"


def test_set_language_record_notice_callback(tmp_path):
    result, s = run(tmp_path, """
  start: {verb: set, section: ticket, key: kind, value: "repair ${caller}", next: {done: lang}}
  lang: {verb: language, language: en, next: {done: notice}}
  notice: {verb: record_notice, next: {done: cb}}
  cb: {verb: callback, queue: default, confirm: {text: {zh: 好的, en: OK}}, next: {done: bye}}
  bye: {verb: hangup}
""")
    assert result.data["ticket.kind"] == "repair 13800138000"
    assert s.variables["hotline_language"] == "en"
    assert s.heard[-1] == "OK"                        # the confirmation in English
    assert str(tmp_path / "prompts/builtin/en/record_notice.wav") in [a[1] for a in s.actions]
    assert s.variables["hotline_callback_queue"] == "default"
    assert s.variables["hotline_callback_number"] == "13800138000"


def test_queue_answered_ends_the_flow_and_timeout_goes_on(tmp_path):
    nodes = """
  start: {verb: queue, queue: default, next: {timeout: vm}}
  vm: {verb: voicemail, box: default}
"""
    answered, s = run(tmp_path, nodes, FakeSession(queue="answered"))
    assert answered.end == "queue" and answered.path == ["f:start"]
    assert s.actions[-1] == ("hangup", "NORMAL_CLEARING")   # not the fail-open route
    nobody, s = run(tmp_path, nodes, FakeSession(queue="timeout"))
    assert nobody.end == "voicemail" and ("voicemail", "default") in s.actions


@pytest.mark.parametrize("queue, end", [("answered", "f:rate"), ("callback", "f:cb")])
def test_queue_answered_goes_to_the_survey_and_callback_key(tmp_path, queue, end):
    result, _ = run(tmp_path, """
  start: {verb: queue, queue: q, callback_key: "1", next: {answered: rate, callback: cb}}
  rate: {verb: menu, prompt: {text: {zh: 请评分}}, store: score, next: {"4": bye, timeout: bye, invalid: bye}}
  cb: {verb: callback, queue: q, next: {done: bye}}
  bye: {verb: hangup}
""", FakeSession(queue=queue, keys=["4"]))
    assert result.path[1] == end
    if queue == "answered":
        assert result.data["score"] == "4"


def test_data_set_in_the_ivr_is_exported_to_the_agent_leg(tmp_path):
    result, s = run(tmp_path, """
  start: {verb: set, section: ticket, key: kind, value: repair, next: {done: again}}
  again: {verb: set, section: ticket, key: kind, value: complaint, next: {done: bye}}
  bye: {verb: hangup}
""")
    assert s.variables["cc_export_vars"].split(",")[-1] == "hotline_data_ticket__kind"
    assert s.variables["cc_export_vars"].count("hotline_data_ticket__kind") == 1
    assert "hotline_path" in s.variables["cc_export_vars"]


def test_transfer_failure_takes_error(tmp_path):
    nodes = """
  start: {verb: transfer, to: extension, target: "8001", next: {error: sorry}}
  sorry: {verb: hangup}
"""
    ok, _ = run(tmp_path, nodes)
    assert ok.end == "transfer" and ok.path == ["f:start"]
    failed, _ = run(tmp_path, nodes, FakeSession(transfer_ok=False))
    assert failed.path == ["f:start", "f:sorry"]


def test_subflow_returns_and_transfer_to_flow_does_not(tmp_path):
    flows = flows_from(tmp_path, main=HEAD.replace("name: f", "name: main") + """
  start: {verb: subflow, flow: sub, next: {done: after}}
  after: {verb: transfer, to: flow, target: last}
""", sub="name: sub\nentry: s1\nnodes:\n  s1: {verb: play, text: {zh: 子流程}, next: {done: return}}\n",
        last="name: last\nentry: l1\nnodes:\n  l1: {verb: play, text: {zh: 最后}, next: {done: return}}\n")
    result = Runner(flows, Services(), tmp_path).run(FakeSession(), "main")
    # `return` at the top of a flow entered by transfer has nowhere to go: fail-open
    assert result.path == ["main:start", "sub:s1", "main:after", "last:l1"]
    assert result.end == "fallback"


def test_unmapped_outcome_and_hangup_mid_flow(tmp_path):
    nodes = """
  start: {verb: menu, prompt: {text: {zh: 请按1}}, next: {"1": bye, timeout: bye, invalid: bye}}
  bye: {verb: hangup}
"""
    # the caller hangs up while the menu plays
    gone, _ = run(tmp_path, nodes, FakeSession(hang_up_after=0))
    assert gone.end == "hangup" and gone.detail == "caller hung up"
    error, _ = run(tmp_path, """
  start: {verb: lookup, sql: {query: "SELECT 1"}, store: x, next: {done: bye}}
  bye: {verb: hangup}
""", services=Services(fail=True))
    assert error.end == "fallback"   # `error` is not mapped


def test_endless_menu_loop_still_ends(tmp_path):
    result, _ = run(tmp_path, """
  start: {verb: menu, prompt: {text: {zh: 请按1}}, retries: 1, next: {"1": bye, timeout: again, invalid: again}}
  again: {verb: play, text: {zh: 再来}, next: {done: start}}
  bye: {verb: hangup}
""")
    assert result.end == "fallback" and result.detail == "too many steps"


def test_native_mode_hands_back_after_the_lookup(tmp_path):
    flows = flows_from(tmp_path, f=HEAD + """
  start: {verb: play, text: {zh: 您好}, next: {done: find}}
  find: {verb: lookup, sql: {query: "SELECT 1 AS one"}, store: r, next: {done: next1, not_found: next1, error: next1}}
  next1: {verb: hangup}
""", sub="name: sub\nentry: s1\nnodes:\n  s1: {verb: lookup, sql: {query: \"SELECT 1\"}, store: x, next: {done: return}}\n",
        caller=HEAD.replace("name: f", "name: caller") + "  start: {verb: subflow, flow: sub, next: {done: end}}\n  end: {verb: hangup}\n")
    s = FakeSession()
    runner = Runner(flows, Services(row={"one": 1}), tmp_path, handback=runs_natively)
    result = runner.run(s, "f", "find", path=["f:start", "f:find"])
    assert result.end == "handback" and s.handed_back == ("f", "next1", "zh")
    assert result.path == ["f:start", "f:find"]       # the switch's node is not counted twice
    assert result.data["r.one"] == "1"
    # a lookup that ends a subflow hands back to the switch's return
    s2 = FakeSession()
    result = runner.run(s2, "sub", "s1")
    assert result.end == "handback" and s2.handed_back == ("sub", "return", "zh")
