"""Admin → Blacklist: entries added and removed as the CLI does (same keying and
expiry rules), pushed to the switch at once through the injected blacklist service,
the blocked-call log with its filters; admin and supervisor only."""
import datetime

import pytest
from gevent.event import Event

from db.models import AuditLog, BlacklistEntry, BlockedCall, utcnow
from esl_apps.blacklist import entries
from esl_apps.blacklist.service import BlacklistService
from esl_apps.inbound import EslUnavailable
from tests.webpanel import add_user, csrf_token, make_app, sign_in_session


class FakeEsl:
    """What BlacklistService needs of the event socket, with mod_hash's realm as a
    dict and every command kept."""

    def __init__(self, up=True):
        self.up = up
        self.realm: dict[str, str] = {}
        self.commands: list[str] = []
        self.connected = Event()
        self.on_connect = []

    def api(self, command, timeout=None):
        if not self.up:
            raise EslUnavailable("not connected")
        self.commands.append(command)
        if command == f"hash_dump db {entries.REALM}":
            return "".join(f"D/{entries.REALM}_{k}/{v}\n" for k, v in self.realm.items())
        if command.startswith(f"hash insert/{entries.REALM}/"):
            _, _, key, value = command.split("/", 3)
            self.realm[key] = value
        elif command.startswith(f"hash delete/{entries.REALM}/"):
            self.realm.pop(command.split("/", 2)[2], None)
        return "+OK\n"


@pytest.fixture
def esl():
    return FakeEsl()


@pytest.fixture
def app(db, esl, tmp_path):
    app = make_app(hotline={"paths": {"data_dir": str(tmp_path)}})
    app.config["HOTLINE_BLACKLIST"] = BlacklistService(esl, db)
    return app


def client_as(app, role, name=None):
    client = app.test_client()
    user = add_user(name or f"u_{role}", role)
    sign_in_session(client, user)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def client(app):
    return client_as(app, "supervisor", "sup")


def add(client, **fields):
    token = csrf_token(client.get("/admin/blacklist").text)
    data = {"csrf_token": token, "kind": "block", "number": "", "did": "", "expires": "",
            "reason": "", **fields}
    return client.post("/admin/blacklist", data=data)


def test_an_add_is_pushed_to_the_switch_at_once(client, esl):
    response = add(client, number="138 0013 8000", reason="harassing calls")
    assert response.status_code == 302
    entry = BlacklistEntry.get()
    assert (entry.pattern, entry.is_prefix, entry.allow, entry.did) == \
        ("8613800138000", False, False, None)
    assert entry.created_by.username == "sup" and entry.reason == "harassing calls"
    # exactly the key and value the dialplan looks up
    assert f"hash insert/hotline_bl/x_any_8613800138000/B{entry.id}" in esl.commands
    assert esl.realm == {"x_any_8613800138000": f"B{entry.id}"}
    page = client.get("/admin/blacklist").text
    assert "Added +8613800138000." in page and "Changes reach the switch" in page
    assert f'id="entry-{entry.id}"' in page and "harassing calls" in page
    log = AuditLog.get(AuditLog.action == "blacklist.add")
    assert log.actor == "sup" and log.detail["pattern"] == "+8613800138000"


def test_a_vip_prefix_for_one_did(client, esl):
    assert add(client, number="+86 1380013*", kind="allow", did="+4008001234").status_code == 302
    entry = BlacklistEntry.get()
    assert (entry.pattern, entry.is_prefix, entry.allow, entry.did) == \
        ("861380013", True, True, "4008001234")
    assert esl.realm == {"p_4008001234_861380013": f"A{entry.id}"}
    assert entries.lookup(esl.realm, "13800138000", "4008001234").allow
    assert entries.lookup(esl.realm, "13800138000", "4008009999") is None


def test_the_same_number_and_scope_replaces_the_entry(client, esl):
    add(client, number="13800138000", reason="first")
    add(client, number="+8613800138000", reason="second")
    (entry,) = BlacklistEntry.select()
    assert entry.reason == "second"
    assert esl.realm == {"x_any_8613800138000": f"B{entry.id}"}
    assert "Replaced the entry for +8613800138000." in client.get("/admin/blacklist").text


def test_remove_takes_the_key_off_the_switch(client, esl):
    add(client, number="13800138000")
    entry = BlacklistEntry.get()
    token = csrf_token(client.get("/admin/blacklist").text)
    response = client.post("/admin/blacklist/remove", data={"csrf_token": token,
                                                            "entry": entry.id})
    assert response.status_code == 302
    assert not BlacklistEntry.select().exists()
    assert "hash delete/hotline_bl/x_any_8613800138000" in esl.commands and esl.realm == {}
    assert AuditLog.get(AuditLog.action == "blacklist.remove").object_id == str(entry.id)
    again = client.post("/admin/blacklist/remove", data={"csrf_token": token,
                                                         "entry": entry.id})
    assert again.status_code == 302
    assert "already gone" in client.get("/admin/blacklist").text


@pytest.mark.parametrize("fields, message", [
    ({"number": "abc"}, "Not a phone number or prefix"),
    ({"number": "*"}, "Not a phone number or prefix"),
    ({"number": "1" * 20}, "Not a phone number or prefix"),
    ({"number": "13800138000", "did": "40x"}, "The DID must be digits"),
    ({"number": "13800138000", "expires": "next week"}, "Give the expiry as a date"),
    ({"number": "13800138000", "expires": "2001-01-01"}, "The expiry is in the past"),
    ({"number": "13800138000", "kind": "maybe"}, "Not a valid choice"),
    ({"number": "13800138000", "reason": "two\nlines"}, "The reason must be one line"),
])
def test_invalid_input_is_refused_with_a_clear_error(client, esl, fields, message):
    response = add(client, **fields)
    assert response.status_code == 400
    assert message in response.text
    assert not BlacklistEntry.select().exists() and esl.commands == []


def test_expiry_is_honoured(client, esl):
    before = utcnow()
    add(client, number="13800138000", expires="7d", reason="a week")
    entry = BlacklistEntry.get()
    assert datetime.timedelta(days=7) <= entry.expires_at - before \
        <= datetime.timedelta(days=7, minutes=1)
    assert esl.realm == {"x_any_8613800138000": f"B{entry.id}"}
    # a date is the end of that day in the appliance's time zone (Asia/Shanghai)
    year = utcnow().year + 1
    add(client, number="13900139000", expires=f"{year}-03-01")
    dated = BlacklistEntry.get(BlacklistEntry.pattern == "8613900139000")
    assert dated.expires_at == datetime.datetime(year, 3, 1, 16, 0)
    # once past its expiry the entry leaves the switch and the default list
    BlacklistEntry.update(expires_at=utcnow() - datetime.timedelta(minutes=1)).where(
        BlacklistEntry.id == entry.id).execute()
    add(client, number="13700137000")   # any change pushes the whole difference
    assert "x_any_8613800138000" not in esl.realm
    active = client.get("/admin/blacklist").text
    assert f'id="entry-{entry.id}"' not in active and f'id="entry-{dated.id}"' in active
    expired = client.get("/admin/blacklist?state=expired").text
    assert f'id="entry-{entry.id}"' in expired and "(expired)" in expired
    assert f'id="entry-{dated.id}"' not in expired


def test_without_the_service_the_database_change_lands(db, tmp_path):
    app = make_app(hotline={"paths": {"data_dir": str(tmp_path)}})
    client = client_as(app, "admin")
    assert add(client, number="13800138000").status_code == 302
    assert BlacklistEntry.select().count() == 1
    assert "pushes it to the switch within seconds" in client.get("/admin/blacklist").text


def test_switch_down_saves_and_says_so(db, tmp_path):
    app = make_app(hotline={"paths": {"data_dir": str(tmp_path)}})
    app.config["HOTLINE_BLACKLIST"] = BlacklistService(FakeEsl(up=False), db)
    client = client_as(app, "admin")
    assert add(client, number="13800138000").status_code == 302
    assert BlacklistEntry.select().count() == 1
    assert "the switch is not reachable now" in client.get("/admin/blacklist").text


def test_search_and_filters(client):
    add(client, number="13800138000", reason="spam")
    add(client, number="1390013*", kind="allow", did="4008001234", reason="mayor's office")
    add(client, number="01012345678", reason="fax machine")
    ids = {e.pattern: e.id for e in BlacklistEntry.select()}

    def shown(query):
        page = client.get("/admin/blacklist?" + query).text
        return {p for p, i in ids.items() if f'id="entry-{i}"' in page}

    assert shown("") == set(ids)
    assert shown("q=138+0013+8000") == {"8613800138000"}
    assert shown("q=010-12345678") == {"861012345678"}     # the trunk prefix is keyed away
    assert shown("q=1390013*") == {"861390013"}
    assert shown("q=fax") == {"861012345678"}
    assert shown("kind=allow") == {"861390013"}
    assert shown("kind=block") == {"8613800138000", "861012345678"}
    assert shown("scope=global") == {"8613800138000", "861012345678"}
    assert shown("scope=%2B4008001234") == {"861390013"}


def test_blocked_call_log_with_filters(client):
    add(client, number="13800138000", reason="spam")
    entry = BlacklistEntry.get()
    day = datetime.datetime(2026, 5, 4, 2, 0)   # 10:00 in Shanghai
    BlockedCall.create(call_uuid="u-1", caller="13800138000", did="4008001234", entry=entry,
                       pattern="+8613800138000", at=day)
    BlockedCall.create(call_uuid="u-2", caller="13800138000", did="4008009999", entry=entry,
                       pattern="+8613800138000", at=day + datetime.timedelta(days=2))
    BlockedCall.create(call_uuid="u-3", caller="<script>x</script>", did="4008001234",
                       entry=None, pattern="+86139*", at=day)

    def shown(query):
        page = client.get("/admin/blacklist/blocked?" + query).text
        return {u for u in ("u-1", "u-2", "u-3") if u in page}

    assert shown("") == {"u-1", "u-2", "u-3"}
    assert shown("did=4008001234") == {"u-1", "u-3"}
    assert shown("caller=138-0013-8000") == {"u-1", "u-2"}
    assert shown("from=2026-05-05") == {"u-2"}
    assert shown("to=2026-05-04") == {"u-1", "u-3"}
    page = client.get("/admin/blacklist/blocked").text
    assert "&lt;script&gt;" in page and "<script>x" not in page
    assert "spam" in page and "(removed)" in page


@pytest.mark.parametrize("role", ["agent", "qa", "designer"])
def test_other_roles_are_refused(app, role):
    client = client_as(app, role)
    assert client.get("/admin/blacklist").status_code == 403
    assert client.get("/admin/blacklist/blocked").status_code == 403
    response = client.post("/admin/blacklist", data={"number": "13800138000", "kind": "block"})
    assert response.status_code in (400, 403)   # CSRF or role: never added
    assert not BlacklistEntry.select().exists()


def test_admin_may_open_it(app):
    assert client_as(app, "admin").get("/admin/blacklist").status_code == 200
