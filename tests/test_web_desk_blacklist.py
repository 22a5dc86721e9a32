"""The desk's one-click blacklist pushes to the switch at once, through the same
webui.admin.blacklist.push() the admin page uses (a fake pusher in
app.config["HOTLINE_BLACKLIST"] here); its message is translated."""
import pytest

from db.models import Agent, BlacklistEntry
from tests.test_web_desk import CALL, FakeAcd, post
from tests.webpanel import add_user, make_app, sign_in_session
from webui.events import PopHub


@pytest.fixture
def agent_user(db):
    user = add_user("li.na", "agent", display_name="Li Na")
    Agent.create(user=user, extension="1001", display_name="Li Na", sip_password="x" * 16)
    return user


class FakePusher:
    """The blacklist service as push() sees it: sync() counted, its answer set."""

    def __init__(self, pushed=True, fails=False):
        self.pushed, self.fails, self.syncs = pushed, fails, 0

    def sync(self):
        self.syncs += 1
        if self.fails:
            raise OSError("socket closed")
        return self.pushed


def desk_client(db, user, pusher, language="en"):
    app = make_app(HOTLINE_AGENT_CONTROL=FakeAcd(db), HOTLINE_POP_HUB=PopHub(),
                   HOTLINE_SSE_HEARTBEAT=0.2)
    if pusher is not None:
        app.config["HOTLINE_BLACKLIST"] = pusher
    client = app.test_client()
    sign_in_session(client, user)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    return client


def blacklist(client):
    return post(client, "/desk/blacklist", number="+8613800138000", reason="骚扰电话",
                call_uuid=CALL)


@pytest.mark.parametrize("language, message", [
    ("en", "Caller blacklisted."), ("zh-CN", "已将来电者加入黑名单。")])
def test_a_one_click_blacklist_is_pushed_at_once(db, agent_user, language, message):
    pusher = FakePusher()
    response = blacklist(desk_client(db, agent_user, pusher, language))
    assert response.status_code == 200
    assert response.json == {"ok": True, "message": message, "pushed": True,
                             "entry": BlacklistEntry.get().id}
    assert pusher.syncs == 1


@pytest.mark.parametrize("pusher", [FakePusher(pushed=False), FakePusher(fails=True)])
@pytest.mark.parametrize("language, message", [
    ("en", "Saved; the switch is not reachable now, the change is pushed when it is back."),
    ("zh-CN", "已保存；交换机暂时无法连接，恢复后会自动推送。")])
def test_an_unreachable_switch_is_said_and_the_entry_kept(db, agent_user, pusher,
                                                           language, message):
    response = blacklist(desk_client(db, agent_user, pusher, language))
    assert response.status_code == 200
    assert response.json["message"] == message and response.json["pushed"] is False
    assert BlacklistEntry.select().count() == 1


def test_without_the_service_the_panel_says_it_is_pushed_later(db, agent_user):
    response = blacklist(desk_client(db, agent_user, None))
    assert response.json["message"] == ("Saved; the running Hotline service pushes it to "
                                        "the switch within seconds.")
    assert BlacklistEntry.select().count() == 1


def test_a_refused_number_is_not_pushed(db, agent_user):
    pusher = FakePusher()
    client = desk_client(db, agent_user, pusher, "zh-CN")
    response = post(client, "/desk/blacklist", number="anonymous", reason="x")
    assert response.status_code == 400 and response.json["ok"] is False
    assert response.json["message"] == "此来电号码无法加入黑名单。"
    assert pusher.syncs == 0 and BlacklistEntry.select().count() == 0
