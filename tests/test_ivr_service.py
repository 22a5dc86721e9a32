"""The IVR service in `hotline run`, against the fake switch: flows compiled and
the switch told to reload on each change (a broken edit keeps the working
version), and the business-hours flags pushed when the event socket connects."""
import datetime
import logging
from zoneinfo import ZoneInfo

import pytest

from esl_apps.inbound import InboundClient
from esl_apps.ivr.compile import Target, version
from esl_apps.ivr.hours import Hours
from esl_apps.ivr.service import IvrService
from esl_apps.ivr.services import IvrServices
from tests.fakeswitch.inbound import FakeSwitch
from tests.test_inbound_client import PASSWORD, wait_until

FLOW = "name: f\nentry: start\nnodes:\n  start: {verb: hangup, cause: %s}\n"
MONDAY_10 = datetime.datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def fake():
    switch = FakeSwitch(PASSWORD).start()
    yield switch
    switch.stop()


@pytest.fixture
def service(fake, db, tmp_path):
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "f.yaml").write_text(FLOW % "NORMAL_CLEARING")
    esl = InboundClient("127.0.0.1", fake.port, PASSWORD, backoff_max=0.2)
    target = Target(prompts_dir=tmp_path / "prompts", recordings_dir=tmp_path / "rec")
    services = IvrServices(database=db, hours=Hours(db), clock=lambda: MONDAY_10)
    ivr = IvrService(flows, tmp_path / "prompts", tmp_path / "dialplan", target, esl,
                     services.hours, services, reload_seconds=0.05)
    ivr.start()
    esl.start()
    assert esl.wait_connected(5)
    yield ivr
    ivr.stop()
    esl.stop()


def compiled_versions(tmp_path):
    return sorted(p.name for p in (tmp_path / "dialplan/flows").glob("f.*.xml"))


def test_hours_are_pushed_on_connect(service, fake):
    wait_until(lambda: "api global_setvar hotline_open_24h=true" in fake.commands)
    wait_until(lambda: "api global_setvar hotline_open_default=true" in fake.commands)


def test_an_edit_is_compiled_and_reloaded_a_broken_one_is_not(service, fake, tmp_path, caplog):
    caplog.set_level(logging.ERROR)
    first = version(service.flowset.get("f"))
    assert compiled_versions(tmp_path) == [f"f.{first}.xml"]

    reloads = fake.commands.count("api reloadxml")
    (tmp_path / "flows/f.yaml").write_text(FLOW % "USER_BUSY")
    wait_until(lambda: fake.commands.count("api reloadxml") > reloads)
    second = version(service.flowset.get("f"))
    assert second != first
    assert compiled_versions(tmp_path) == sorted([f"f.{first}.xml", f"f.{second}.xml"])

    (tmp_path / "flows/f.yaml").write_text("name: f\nentry: start\nnodes: [broken\n")
    wait_until(lambda: "flow error" in caplog.text)
    assert version(service.flowset.get("f")) == second      # still serving the last good one
    assert compiled_versions(tmp_path) == sorted([f"f.{first}.xml", f"f.{second}.xml"])
