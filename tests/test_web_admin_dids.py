"""Admin → DIDs: add, edit, delete Did rows mapped to loaded flows; validated,
CSRF-protected, audited."""
import pytest

from db.models import AuditLog, Did
from tests.webpanel import add_user, csrf_token, make_app, sign_in_session


@pytest.fixture
def client(db, tmp_path):
    app = make_app(hotline={"paths": {"data_dir": str(tmp_path)}})  # the sample flows
    client = app.test_client()
    sign_in_session(client, add_user("root", "admin"))
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def token(client):
    return csrf_token(client.get("/admin/dids").text)


def test_add_edit_delete(client):
    response = client.post("/admin/dids", data={
        "csrf_token": token(client), "number": "+864008001234", "flow": "gov12345",
        "language": "en", "description": "night line", "enabled": "y"})
    assert response.status_code == 302
    did = Did.get(number="+864008001234")
    assert (did.flow, did.language, did.description, did.enabled) == \
        ("gov12345", "en", "night line", True)
    page = client.get("/admin/dids").text
    assert "hotline switch render" in page and f'id="did-{did.id}"' in page
    response = client.post(f"/admin/dids/{did.id}", data={
        "csrf_token": token(client), "number": "4008001234", "flow": "gas_main",
        "language": "zh_CN"})
    assert response.status_code == 302
    did = Did.get_by_id(did.id)
    assert (did.number, did.flow, did.language, did.enabled) == \
        ("4008001234", "gas_main", "zh_CN", False)
    assert client.post(f"/admin/dids/{did.id}/delete",
                       data={"csrf_token": token(client)}).status_code == 302
    assert not Did.select().exists()
    actions = [e.action for e in AuditLog.select().order_by(AuditLog.id)]
    assert actions == ["did.create", "did.update", "did.delete"]


@pytest.mark.parametrize("number, flow, language", [
    ("12a45", "gov12345", "zh_CN"), ("1", "gov12345", "zh_CN"),
    ("4008001234", "no_such_flow", "zh_CN"), ("4008001234", "gov12345", "fr")])
def test_bad_values_are_refused(client, number, flow, language):
    response = client.post("/admin/dids", data={
        "csrf_token": token(client), "number": number, "flow": flow, "language": language})
    assert response.status_code == 400
    assert not Did.select().exists()


def test_a_number_is_mapped_once(client):
    Did.create(number="4008001234", flow="gov12345")
    response = client.post("/admin/dids", data={
        "csrf_token": token(client), "number": "4008001234", "flow": "gas_main",
        "language": "zh_CN"})
    assert response.status_code == 409 and "already mapped" in response.text


def test_a_bad_edit_changes_nothing(client):
    did = Did.create(number="4008001234", flow="gov12345")
    response = client.post(f"/admin/dids/{did.id}", data={
        "csrf_token": token(client), "number": "x", "flow": "gov12345", "language": "zh_CN"})
    assert response.status_code == 302
    assert Did.get_by_id(did.id).number == "4008001234"
    assert "4008001234: Number:" in client.get("/admin/dids").text
