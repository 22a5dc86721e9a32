"""Admin → Flows: list, upload (checked as `hotline flow check`; a bad flow never
replaces a good one), the graph picture, the YAML download; admin and designer."""
import io
import shutil
from pathlib import Path

import pytest

from db.models import AuditLog, Did
from tests.webpanel import add_user, csrf_token, make_app, sign_in_session

FLOWS = Path(__file__).parent.parent / "ivr_flows"

GOOD_SURVEY = """name: survey
entry: ask
nodes:
  ask:
    verb: menu
    prompt: {text: {zh: "请按1", en: "Press 1"}}
    next: {"1": bye, timeout: bye, invalid: bye}
  bye:
    verb: hangup
"""

BROKEN_SURVEY = """name: survey
entry: ask
nodes:
  ask:
    verb: menu
    prompt: {text: {zh: "请按1"}}
    next: {"1": nowhere}
  bye:
    verb: hangup
    colour: red
"""


@pytest.fixture
def flows_dir(tmp_path):
    directory = tmp_path / "flows"
    directory.mkdir()
    for path in FLOWS.glob("*.yaml"):
        shutil.copy(path, directory)
    return directory


@pytest.fixture
def app(db, tmp_path, flows_dir):
    return make_app(hotline={"ivr": {"flows_dir": str(flows_dir)},
                             "paths": {"data_dir": str(tmp_path / "data")}})


@pytest.fixture
def client(app):
    client = app.test_client()
    sign_in_session(client, add_user("dora", "designer"))
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def upload(client, text, filename="survey.yaml"):
    token = csrf_token(client.get("/admin/flows").text)
    return client.post("/admin/flows", data={
        "csrf_token": token, "file": (io.BytesIO(text.encode()), filename)},
        content_type="multipart/form-data")


def test_the_list_shows_every_flow_with_its_dids(client):
    Did.create(number="4008001234", flow="gov12345")
    html = client.get("/admin/flows").text
    for name in ("gas_main", "gov12345", "heating_main", "survey", "to_agent"):
        assert f'href="/admin/flows/{name}"' in html
    assert "88001234, 96069" in html and "12345, 4008001234" in html


def test_a_good_upload_replaces_the_file(client, flows_dir):
    response = upload(client, GOOD_SURVEY)
    assert response.status_code == 302
    assert (flows_dir / "survey.yaml").read_text() == GOOD_SURVEY
    assert not list(flows_dir.glob(".upload-*"))
    entry = AuditLog.select().order_by(AuditLog.id.desc()).get()
    assert (entry.action, entry.actor, entry.object_id) == ("flow.upload", "dora", "survey.yaml")
    assert entry.detail["replaced"] is True
    assert "survey.yaml is checked and in place" in client.get("/admin/flows").text


def test_a_new_flow_is_added(client, flows_dir):
    text = GOOD_SURVEY.replace("name: survey", "name: night_line")
    assert upload(client, text, "night_line.yml").status_code == 302
    assert (flows_dir / "night_line.yml").read_text() == text
    assert 'href="/admin/flows/night_line"' in client.get("/admin/flows").text


def test_a_broken_upload_shows_its_errors_and_changes_nothing(client, flows_dir):
    before = (flows_dir / "survey.yaml").read_text()
    response = upload(client, BROKEN_SURVEY)
    assert response.status_code == 422
    assert (flows_dir / "survey.yaml").read_text() == before
    assert not list(flows_dir.glob(".upload-*"))
    html = response.text
    assert "The flow in service is unchanged" in html
    assert "survey.yaml:10:5: nodes.bye: unknown key &#39;colour&#39;" in html
    assert AuditLog.select().order_by(AuditLog.id.desc()).get().action == "flow.upload_refused"


def test_errors_come_with_line_and_column_and_yaml_syntax(client, flows_dir):
    response = upload(client, "name: survey\nentry: [ask\n")
    assert response.status_code == 422
    assert "survey.yaml:3:1: YAML syntax error" in response.text


def test_an_upload_that_breaks_another_flow_is_refused(client, flows_dir):
    # to_agent transfers to the flow named survey: renaming it breaks to_agent
    before = (flows_dir / "survey.yaml").read_text()
    response = upload(client, GOOD_SURVEY.replace("name: survey", "name: poll"))
    assert response.status_code == 422
    assert "to_agent.yaml:" in response.text and "unknown flow &#39;survey&#39;" in response.text
    assert (flows_dir / "survey.yaml").read_text() == before


def test_a_subflow_reference_resolves_against_the_other_flows(client, flows_dir):
    text = GOOD_SURVEY.replace("name: survey", "name: relay").replace(
        "  bye:\n    verb: hangup\n", "  bye:\n    verb: subflow\n    flow: to_agent\n"
        "    next: {done: end}\n  end:\n    verb: hangup\n")
    response = upload(client, text, "relay.yaml")
    assert response.status_code == 302, response.text


def test_the_file_name_must_be_yaml(client, flows_dir):
    response = upload(client, GOOD_SURVEY, "../survey.txt")
    assert response.status_code == 400
    assert "must end in .yaml or .yml" in response.text
    assert not (flows_dir.parent / "survey.txt").exists()


def test_a_file_outside_the_directory_cannot_be_written(client, flows_dir):
    response = upload(client, GOOD_SURVEY.replace("name: survey", "name: esc"), "../../esc.yaml")
    assert response.status_code == 302  # secure_filename: ../../esc.yaml -> esc.yaml
    assert (flows_dir / "esc.yaml").exists() and not (flows_dir.parent / "esc.yaml").exists()


def test_the_graph_is_svg_with_escaped_labels(client, flows_dir):
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed")
    text = GOOD_SURVEY.replace('"Press 1"', '"<script>alert(1)</script> Press 1"')
    text = text.replace("entry: ask", "entry: ask\nlanguage: en")
    assert upload(client, text).status_code == 302
    response = client.get("/admin/flows/survey/graph.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    body = response.data.decode()
    assert "<svg" in body and "<script" not in body
    assert "&lt;script&gt;" in body
    page = client.get("/admin/flows/survey").text
    assert '<img src="/admin/flows/survey/graph.svg"' in page
    assert client.get("/admin/flows/nope/graph.svg").status_code == 404


def test_download_the_yaml(client, flows_dir):
    response = client.get("/admin/flows/gas_main/source")
    assert response.status_code == 200
    assert response.data == (flows_dir / "gas_main.yaml").read_bytes()
    assert "attachment" in response.headers["Content-Disposition"]
    assert client.get("/admin/flows/nope/source").status_code == 404


def test_admin_may_and_agent_may_not(app):
    admin = app.test_client()
    sign_in_session(admin, add_user("root", "admin"))
    assert admin.get("/admin/flows").status_code == 200
    agent = app.test_client()
    sign_in_session(agent, add_user("ann", "agent"))
    assert agent.get("/admin/flows").status_code == 403
    assert agent.get("/admin/flows/gas_main/source").status_code == 403
