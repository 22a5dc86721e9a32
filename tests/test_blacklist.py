"""The blacklist's entries and matching (both databases), the dialplan's number rules
against the Python ones, the blocked-call log written from the CDR, and the CLI."""
import datetime
import re
from pathlib import Path

import pytest

from db.models import BlacklistEntry, BlockedCall
from esl_apps.blacklist import entries
from esl_apps.blacklist.numbers import NumberError, caller_key, parse_did, parse_pattern
from tests.test_cli import assert_one_line_error, hotline
from webui.blocked import record_blocked

NOW = datetime.datetime(2026, 6, 1, 12, 0, 0)
DIALPLAN = Path(__file__).resolve().parent.parent / "dialplan" / "public" / "05_blacklist.xml"


# numbers ---------------------------------------------------------------------
@pytest.mark.parametrize("caller", ["13800138000", "+8613800138000", "008613800138000"])
def test_every_form_of_a_mobile_caller_id_has_one_key(caller):
    assert caller_key(caller) == "8613800138000"


@pytest.mark.parametrize("caller, key", [
    ("01012345678", "861012345678"), ("+16502530000", "16502530000"), ("95598", "8695598"),
    ("anonymous", None), ("", None), ("0", None), ("+0123", None), ("1" * 14, None),
    ("+" + "1" * 16, None), ("1380013800a", None)])
def test_caller_keys(caller, key):
    assert caller_key(caller) == key


@pytest.mark.parametrize("text, parsed", [
    ("13800138000", ("8613800138000", False)), ("138 0013 8000", ("8613800138000", False)),
    ("+86 138-0013-8000", ("8613800138000", False)), ("8613800138000", ("8613800138000", False)),
    ("1380013*", ("861380013", True)), ("+86138*", ("86138", True)), ("0086138*", ("86138", True)),
    ("010*", ("8610", True)), ("+1*", ("1", True)), ("95598", ("8695598", False))])
def test_entry_patterns(text, parsed):
    assert parse_pattern(text) == parsed


@pytest.mark.parametrize("text", ["", "*", "0*", "abc", "138;hash insert", "1380013800*0",
                                  "+" + "9" * 16, "13800138000/B1"])
def test_bad_patterns_are_refused(text):
    with pytest.raises(NumberError):
        parse_pattern(text)


def test_dids():
    assert parse_did(None) is None and parse_did("+88001234") == "88001234"
    with pytest.raises(NumberError):
        parse_did("8800/1234")


@pytest.mark.parametrize("region", ["CN", "US", "HK"])
def test_the_dialplan_uses_the_same_caller_rules(tmp_path, region):
    """The rendered 05_blacklist.xml's caller_id_number conditions are the region's
    rules in numbers.py, in order, and key the same caller IDs alike."""
    from esl_apps.blacklist.numbers import dialing
    from esl_apps.switch_render import render_switch
    from tests.test_switch_config import AGENT, DID, QUEUE, TOML
    from esl_apps.config import load_config
    path = tmp_path / "hotline.toml"
    path.write_text(TOML + f'\n[locale]\ndefault_region = "{region}"\n')
    render_switch(load_config(path, environ={}), tmp_path / "conf", [AGENT], [DID], [QUEUE])
    text = (tmp_path / "conf/dialplan/public/05_blacklist.xml").read_text()
    found = re.findall(r'field="caller_id_number" expression="([^"]+)"[^>]*>\s*'
                       r'<action application="set" data="hlbl_caller=([0-9]*)\$1"', text)
    rules = dialing(region).rules()
    assert found == [(p.pattern, prefix) for p, prefix in rules]
    assert len(found) == (3 if region == "HK" else 4)       # HK has no trunk prefix
    lengths = [int(n) for n in re.findall(r'expression="\^\(\[0-9\]\{(\d+)\}\)"', text)]
    assert sorted(lengths) == list(range(1, 16))   # a prefix lookup for every length


@pytest.mark.parametrize("region, caller, key", [
    ("US", "2125551234", "12125551234"), ("US", "12125551234", "12125551234"),
    ("US", "01186138001380000", "86138001380000"), ("GB", "02079460000", "442079460000"),
    ("HK", "21234567", "85221234567"), ("CN", "13800138000", "8613800138000")])
def test_caller_keys_follow_the_region(region, caller, key):
    assert caller_key(caller, region) == key


# entries and matching ------------------------------------------------------------
def add(text, **kwargs):
    return entries.add(text, **kwargs)[0]


def test_exact_prefix_and_scope(db):
    blocked = add("13900139000", reason="harassment")
    prefix = add("1370013*")
    scoped = add("13500135000", did="88001234")
    keys = entries.switch_keys(NOW)
    assert keys == {"x_any_8613900139000": f"B{blocked.id}", "p_any_861370013": f"B{prefix.id}",
                    "x_88001234_8613500135000": f"B{scoped.id}"}
    assert entries.lookup(keys, "+8613900139000", "88001234") == entries.Match(False, blocked.id)
    assert entries.lookup(keys, "13700138888", "9999") == entries.Match(False, prefix.id)
    assert entries.lookup(keys, "13700148888", "9999") is None
    assert entries.lookup(keys, "13500135000", "88001234") == entries.Match(False, scoped.id)
    assert entries.lookup(keys, "13500135000", "+88001234") == entries.Match(False, scoped.id)
    assert entries.lookup(keys, "13500135000", "9999") is None


def test_a_vip_skips_the_blacklist_and_the_most_specific_block_is_named(db):
    broad = add("136*")
    narrow = add("1360013*")
    vip = add("13600136000", allow=True)
    keys = entries.switch_keys(NOW)
    assert entries.lookup(keys, "13600136000", "1") == entries.Match(True, vip.id)
    assert entries.lookup(keys, "13600136001", "1") == entries.Match(False, narrow.id)
    assert entries.lookup(keys, "13610000000", "1") == entries.Match(False, broad.id)


def test_adding_again_replaces_the_entry_in_its_scope_only(db):
    first = add("13800138000")
    other_scope = add("13800138000", did="96069")
    second, replaced = entries.add("+86 13800138000", reason="again", allow=True)
    assert replaced and second.id != first.id
    assert BlacklistEntry.select().count() == 2
    assert BlacklistEntry.get_by_id(other_scope.id).allow is False


def test_expired_entries_leave_the_switch(db):
    soon = add("13800138000", expires_at=NOW + datetime.timedelta(minutes=5))
    add("13900139000", expires_at=NOW - datetime.timedelta(seconds=1))
    assert entries.switch_keys(NOW) == {"x_any_8613800138000": f"B{soon.id}"}
    assert entries.next_expiry(NOW) == soon.expires_at
    later = NOW + datetime.timedelta(minutes=5)
    assert entries.switch_keys(later) == {} and entries.next_expiry(later) is None


def test_remove_by_pattern_scope_and_id(db):
    a = add("13800138000")
    add("13800138000", did="96069")
    b = add("1370013*")
    assert entries.remove("+8613800138000", did="96069") == 1
    assert entries.remove("13800138000", did="96069") == 0
    assert entries.remove(f"#{a.id}") == 1
    assert entries.remove("1370013") == 0            # the prefix is 1370013*, not a number
    assert entries.remove("1370013*", every_did=True) == 1
    assert not BlacklistEntry.select().where(BlacklistEntry.id == b.id).exists()


def test_fingerprint_changes_on_add_and_remove(db):
    empty = entries.fingerprint()
    a = add("13800138000")
    one = entries.fingerprint()
    assert one != empty
    entries.remove(f"#{a.id}")
    add("13800138000")              # same highest id on SQLite, but a newer row
    assert entries.fingerprint() != one


@pytest.mark.parametrize("text, expected", [
    ("7d", NOW + datetime.timedelta(days=7)), ("12h", NOW + datetime.timedelta(hours=12)),
    ("30m", NOW + datetime.timedelta(minutes=30)),
    ("2026-12-31", datetime.datetime(2026, 12, 31, 16, 0)),   # midnight in Shanghai
    (None, None)])
def test_expiry(text, expected):
    assert entries.parse_expiry(text, NOW, "Asia/Shanghai") == expected


@pytest.mark.parametrize("text", ["2026-01-01", "tomorrow", "0d", "7y", "-1d"])
def test_bad_expiry(text):
    with pytest.raises(NumberError):
        entries.parse_expiry(text, NOW)


def test_keys_and_values_are_checked_before_they_reach_the_switch(db):
    add("13800138000")
    BlacklistEntry.create(pattern="86138/x", did=None)      # written past the checks
    BlacklistEntry.create(pattern="861380013", did="1 2")
    assert list(entries.switch_keys(NOW)) == ["x_any_8613800138000"]


# the blocked-call log ------------------------------------------------------------
def test_a_blocked_call_is_logged_once(db):
    entry = add("13900139000", reason="harassment")
    fields = {"call_uuid": "u-1", "caller": "13900139000", "did": "88001234"}
    variables = {"hotline_blocked": str(entry.id)}
    row = record_blocked(fields, variables, NOW)
    assert (row.caller, row.did, row.entry.id, row.pattern, row.at) == (
        "13900139000", "88001234", entry.id, "+8613900139000", NOW)
    record_blocked(fields, variables, NOW)
    assert BlockedCall.select().count() == 1
    assert record_blocked({"call_uuid": "u-2"}, {}, NOW) is None
    entries.remove(f"#{entry.id}")
    assert BlockedCall.get().entry is None and BlockedCall.get().pattern == "+8613900139000"


def test_a_posted_cdr_of_a_blocked_call_writes_one_row(db):
    from esl_apps.config import Config
    from tests.test_cdr import CDR_PASSWORD, POSTED, post
    from webui import create_app
    entry = add("13800138000")
    body = POSTED.replace(b"%3Cvariables%3E",
                          f"%3Cvariables%3E%3Chotline_blocked%3E{entry.id}"
                          f"%3C%2Fhotline_blocked%3E".encode(), 1)
    assert body != POSTED
    config = Config.model_validate({"freeswitch": {"cdr_password": CDR_PASSWORD}})
    client = create_app({"SECRET_KEY": "t", "HOTLINE_CONFIG": config,
                         "TESTING": True}).test_client()
    assert post(client, body).status_code == 200
    assert post(client, body).status_code == 200
    row = BlockedCall.get()
    assert BlockedCall.select().count() == 1
    assert row.entry.id == entry.id and row.caller == "13800138000"


# the commands --------------------------------------------------------------------
@pytest.fixture
def initialised(tmp_path):
    assert hotline(tmp_path, "init").returncode == 0
    return tmp_path


def test_add_list_remove(initialised):
    out = hotline(initialised, "blacklist", "add", "138 0013 8000", "--reason", "spam",
                  "--expires", "7d")
    assert out.returncode == 0 and "added #1\tblock\t+8613800138000\tall DIDs" in out.stdout
    out = hotline(initialised, "blacklist", "add", "1370013*", "--did", "96069", "--allow")
    assert out.returncode == 0 and "allow\t+861370013*\tdid 96069\texpires never" in out.stdout
    out = hotline(initialised, "blacklist", "list")
    assert out.stdout.count("\n") == 2 and "spam" in out.stdout
    assert hotline(initialised, "blacklist", "remove", "1370013*").returncode == 2
    out = hotline(initialised, "blacklist", "remove", "1370013*", "--did", "96069")
    assert out.returncode == 0 and "removed 1 entry" in out.stdout
    assert hotline(initialised, "blacklist", "list", "--blocked", "5").stdout == ""


@pytest.mark.parametrize("args, words", [
    (["add", "abc"], ["not a phone number"]),
    (["add", "0*"], ["not a phone prefix"]),
    (["add", "13800138000", "--expires", "soon"], ["expiry"]),
    (["add", "13800138000", "--expires", "2020-01-01"], ["in the past"]),
    (["add", "13800138000", "--did", "x"], ["DID"]),
    (["remove", "13900139000"], ["no blacklist entry"])])
def test_bad_input_is_one_line(initialised, args, words):
    assert_one_line_error(hotline(initialised, "blacklist", *args), *words)
