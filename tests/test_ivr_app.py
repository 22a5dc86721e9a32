"""The `ivr` app on calls recorded from real FreeSWITCH, replayed by the fake
switch: the whole heating flow in socket mode, and the lookup node that native
mode hands over. The app must send exactly what the real switch was driven with."""
import logging
import re

import pytest

from db.sample_data import load_sample_billing
from esl_apps.apps.ivr import IvrApp
from esl_apps.ivr.compile import Target, runs_natively
from esl_apps.ivr.loader import load_flows
from esl_apps.ivr.runtime import Runner
from esl_apps.ivr.services import IvrServices
from esl_apps.outbound import OutboundServer
from esl_apps.paths import data_dir
from tests.fakeswitch.outbound import Drift, FakeCall
from tests.fakeswitch.recording import Recording
from tests.test_outbound_server import dial, executed

RECORDED_PROMPTS = re.compile(r"/tmp/hotline-record-[^/]+/prompts")


def recorded_prompts_dir(name) -> str:
    text = (data_dir("ivr_flows").parent / "tests/fixtures/esl" / f"{name}.jsonl").read_text()
    return RECORDED_PROMPTS.search(text).group(0)


class AlwaysOpen(IvrServices):
    def is_open(self, schedule):
        return True


@pytest.fixture
def make_server(db, tmp_path):
    load_sample_billing(db)
    flows, errors = load_flows(data_dir("ivr_flows"))
    assert not errors
    servers = []

    def make(native):
        target = Target(prompts_dir=tmp_path / "prompts", recordings_dir=tmp_path / "rec",
                        mode="native" if native else "socket")
        runner = Runner(flows, AlwaysOpen(database=db), target.prompts_dir,
                        handback=runs_natively if native else None)
        server = OutboundServer("127.0.0.1", 0, {"ivr": lambda session, log: IvrApp(
            session, log, runner=runner, target=target)})
        server.start()
        servers.append(server)
        return server, target
    yield make
    for server in servers:
        server.stop()


def test_socket_mode_runs_the_whole_heating_flow(make_server, caplog):
    caplog.set_level(logging.INFO)
    server, target = make_server(native=False)
    name = "outbound_ivr_socket"
    uuid = Recording(name).frames()[0].headers["Unique-ID"]
    call = FakeCall(name, {recorded_prompts_dir(name): str(target.prompts_dir)})
    commands = dial(server, call)
    apps = executed(commands)
    assert apps[:2] == ["sched_cancel", "answer"]
    assert apps.count("play_and_get_digits") == 3 and apps[-1] == "callcenter"
    assert "say" in apps
    sent = "\n".join(commands)
    assert "execute-app-arg: hotline_data_account=20481357" in sent
    assert "execute-app-arg: zh_CN CURRENCY PRONOUNCED 1234.5" in sent
    assert f"[{uuid}] heating_main:find_bill lookup -> done" in caplog.text
    assert f"[{uuid}] flow heating_main ended: hangup" in caplog.text


def test_native_mode_runs_the_lookup_and_hands_the_call_back(make_server, caplog):
    caplog.set_level(logging.INFO)
    server, _ = make_server(native=True)
    commands = dial(server, FakeCall("outbound_ivr_lookup"))
    apps = executed(commands)
    assert apps[0] == "sched_cancel" and apps[-1] == "transfer"
    assert set(apps[1:-1]) == {"set"}
    sent = "\n".join(commands)
    assert "hotline_data_bill__amount_due=1234.5" in sent
    # the lookup's data goes to the agent's leg too
    assert re.search(r"cc_export_vars=.*hotline_data_bill__amount_due,"
                     r"hotline_data_bill__due_date", sent)
    transfer = commands[-2] if commands[-1] == "exit" else commands[-1]
    assert re.search(r"execute-app-arg: n_bill_intro XML hl_heating_main_\w+_zh", transfer)
    assert "flow heating_main ended: handback heating_main:bill_intro" in caplog.text


def test_a_different_digit_from_the_switch_is_drift_not_a_guess(make_server):
    """The caller pressed 1 on the recorded call; replayed as 3, the app takes the
    complaint branch, which the recording never saw: the fake reports the drift."""
    server, target = make_server(native=False)
    name = "outbound_ivr_socket"
    call = FakeCall(name, {recorded_prompts_dir(name): str(target.prompts_dir),
                           "variable_hotline_input: 1\n": "variable_hotline_input: 3\n"})
    with pytest.raises(Drift):
        dial(server, call)
