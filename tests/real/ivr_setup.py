"""What a real IVR call needs around it: prompts built for the sample flows, the
`default` schedule open today, the sample bills loaded."""
import datetime
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from db.connect import bind, open_database
from db.models import Holiday, Schedule
from db.sample_data import load_sample_billing
from esl_apps.ivr.loader import load_flows
from esl_apps.prompts.build import build

FLOWS_DIR = Path(__file__).resolve().parents[2] / "ivr_flows"


def sample_flows_with_prompts(prompts_dir: Path) -> dict:
    flows, errors = load_flows(FLOWS_DIR)
    if errors:
        raise AssertionError("\n".join(map(str, errors)))
    report = build(flows, prompts_dir)
    if report.failed:
        raise AssertionError(f"prompts failed: {report.failed}")
    return flows


def open_all_day_today(switch):
    """A 调休 workday 00:00-24:00 today on `default`, and the sample bills, in the
    database `hotline run` uses (run after `hotline init`)."""
    db = bind(open_database(switch.config.database_url))
    try:
        today = datetime.datetime.now(ZoneInfo("Asia/Shanghai")).date()
        default = Schedule.get(Schedule.name == "default")
        Holiday.create(schedule=default, day=today, name="test", kind="workday",
                       opens="00:00", closes="24:00")
        load_sample_billing(db)
    finally:
        db.close()


def wait_for_open(switch, timeout=10.0):
    """`hotline run` pushes each schedule's state as soon as it connects."""
    deadline = time.monotonic() + timeout
    while switch.api("global_getvar hotline_open_default").strip() != "true":
        if time.monotonic() > deadline:
            raise AssertionError("hotline_open_default was never pushed")
        time.sleep(0.05)
