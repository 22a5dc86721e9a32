"""`hotline flow try`: the terminal simulator, with lookups and business hours
from the configured database."""
import pytest

from tests.test_cli import assert_one_line_error, hotline

MONDAY_10 = "2026-11-23T10:00:00+08:00"
SUNDAY_10 = "2026-11-22T10:00:00+08:00"


@pytest.fixture
def with_bills(tmp_path):
    assert hotline(tmp_path, "init").returncode == 0
    loaded = hotline(tmp_path, "db", "load-samples")
    assert loaded.returncode == 0 and "sample bills: 12 added" in loaded.stdout
    return tmp_path


def test_bill_enquiry_in_office_hours(with_bills):
    result = hotline(with_bills, "flow", "try", "heating_main", "--at", MONDAY_10,
                     input="1\n20481357#\n2\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "♪ 您好，欢迎致电热力服务热线" in out
    assert "♪ [zh money] 1234.5" in out and "♪ [zh date] 2026-12-31" in out
    assert "end: hangup" in out
    assert "heating_main:find_bill → heating_main:bill_intro" in out
    assert "account = 20481357" in out and "bill.amount_due = 1234.5" in out


def test_closed_on_sunday_offers_a_message(with_bills):
    result = hotline(with_bills, "flow", "try", "heating_main", "--at", SUNDAY_10,
                     input="1\n")
    assert result.returncode == 0, result.stderr
    assert "heating_main:hours → heating_main:closed" in result.stdout
    assert "● beep; recording a message for box repairs" in result.stdout
    assert "end: voicemail (repairs)" in result.stdout


def test_english_and_a_hang_up(with_bills):
    result = hotline(with_bills, "flow", "try", "heating_main", "--at", MONDAY_10,
                     input="9\n")
    assert "♪ For your bill press 1" in result.stdout       # the menu again, in English
    assert "(the caller hangs up)" in result.stdout and "end: hangup" in result.stdout


def test_unknown_flow_is_one_line(with_bills):
    result = hotline(with_bills, "flow", "try", "no_such_flow")
    assert_one_line_error(result, "no flow named 'no_such_flow'", "heating_main")
