"""The blacklist service against the fake switch. mod_hash's replies come from
tests/fixtures/esl/inbound_blacklist.jsonl (recorded from the real switch with
`python -m tests.fixtures.esl.make_recordings blacklist`); the fake below only
keeps the realm's state, as mod_hash does, and answers with those recorded texts."""
import datetime

import gevent
import pytest

from db.models import BlacklistEntry, utcnow
from esl_apps.blacklist import entries
from esl_apps.blacklist.service import BlacklistService
from esl_apps.inbound import InboundClient
from tests.fakeswitch.inbound import FakeSwitch
from tests.fakeswitch.recording import Recording

PASSWORD = "s3cret-esl-password"


def recorded_hash_replies() -> dict:
    rec = Recording("inbound_blacklist")
    sent = [c[4:].strip() for c in rec.commands() if c.startswith("api ")]
    bodies = [f.body.decode() for f in rec.frames() if f.content_type == "api/response"]
    pairs = list(zip(sent, bodies))
    deletes = [body for command, body in pairs if command.startswith("hash delete/")]
    inserts = [body for command, body in pairs if command.startswith("hash insert/")]
    dumps = [body for command, body in pairs if command.startswith("hash_dump")]
    return {"ok": inserts[0], "deleted": deletes[0], "not_found": deletes[1],
            "empty_dump": dumps[0], "dump": dumps[1]}


class HashSwitch(FakeSwitch):
    """The fake switch with mod_hash's state: the realm as a dict."""

    def __init__(self, password):
        super().__init__(password)
        self.replies_text = recorded_hash_replies()
        assert self.replies_text["dump"].startswith("D/hotline_bl_")
        self.realm: dict[str, str] = {}

    def _api_reply(self, command):
        r = self.replies_text
        if command.startswith("hash insert/hotline_bl/"):
            _, _, key, value = command.split("/", 3)
            self.realm[key] = value
            return r["ok"]
        if command.startswith("hash delete/hotline_bl/"):
            key = command.split("/", 2)[2]
            return r["deleted"] if self.realm.pop(key, None) is not None else r["not_found"]
        if command == "hash_dump db hotline_bl":
            return "".join(f"D/hotline_bl_{k}/{v}\n" for k, v in sorted(self.realm.items())
                           ) or r["empty_dump"]
        return super()._api_reply(command)

    def restart(self):
        """Stop and start on the same port, with an empty realm (a FreeSWITCH restart)."""
        self.stop()
        self.realm = {}
        self.start()


@pytest.fixture
def fake():
    switch = HashSwitch(PASSWORD).start()
    yield switch
    switch.stop()


@pytest.fixture
def service(db, fake):
    esl = InboundClient("127.0.0.1", fake.port, PASSWORD, backoff_max=0.1)
    svc = BlacklistService(esl, db, poll_seconds=0.05)
    svc.start()
    esl.start()
    assert esl.wait_connected(5)
    yield svc
    svc.stop()
    esl.stop()


def wait_until(predicate, timeout=5.0):
    with gevent.Timeout(timeout, AssertionError("condition not met in time")):
        while not predicate():
            gevent.sleep(0.01)


def test_entries_are_pushed_on_connect_and_on_change(db, fake, service):
    wait_until(lambda: service.syncs >= 1)
    assert fake.realm == {}
    blocked = entries.add("13800138000")[0]
    vip = entries.add("1370013*", did="88001234", allow=True)[0]
    wait_until(lambda: len(fake.realm) == 2)
    assert fake.realm == {"x_any_8613800138000": f"B{blocked.id}",
                          "p_88001234_861370013": f"A{vip.id}"}
    assert f"api hash insert/hotline_bl/x_any_8613800138000/B{blocked.id}" in fake.commands
    entries.remove("13800138000")
    wait_until(lambda: "x_any_8613800138000" not in fake.realm)
    assert "api hash delete/hotline_bl/x_any_8613800138000" in fake.commands


def test_a_restarted_switch_gets_everything_again(db, fake, service):
    entries.add("13800138000")
    wait_until(lambda: len(fake.realm) == 1)
    before = service.syncs
    fake.restart()
    wait_until(lambda: len(fake.realm) == 1 and service.syncs > before)
    assert list(fake.realm) == ["x_any_8613800138000"]


def test_stale_keys_left_in_the_switch_are_removed_on_connect(db, fake):
    fake.realm = {"x_any_8613900139000": "B99"}          # Hotline was down meanwhile
    entries.add("13800138000")
    esl = InboundClient("127.0.0.1", fake.port, PASSWORD, backoff_max=0.1)
    svc = BlacklistService(esl, db, poll_seconds=0.05)
    svc.start()
    esl.start()
    try:
        wait_until(lambda: svc.syncs >= 1)
        assert list(fake.realm) == ["x_any_8613800138000"]
    finally:
        svc.stop()
        esl.stop()


def test_an_entry_leaves_the_switch_when_it_expires(db, fake, service):
    entry = entries.add("13800138000", expires_at=utcnow() + datetime.timedelta(seconds=0.5))[0]
    wait_until(lambda: len(fake.realm) == 1)
    expires = entry.expires_at
    wait_until(lambda: fake.realm == {}, timeout=5)
    assert utcnow() >= expires


def test_a_bad_key_never_reaches_the_switch(db, fake, service, monkeypatch):
    wait_until(lambda: service.syncs >= 1)
    monkeypatch.setattr(entries, "switch_keys",
                        lambda now=None: {"x_any_1/B1\nhash insert": "B1"})
    with pytest.raises(ValueError):
        service.sync()
    assert not any("\n" in c or "x_any_1/" in c for c in fake.commands)


def test_without_the_switch_sync_says_so(db):
    esl = InboundClient("127.0.0.1", 1, PASSWORD)
    svc = BlacklistService(esl, db)
    BlacklistEntry.create(pattern="8613800138000")
    assert svc.sync() is False
