"""Admin → Recordings: search, play and download (Range, the right MIME type),
every play and download audited; only files of Recording rows inside
recordings_dir; deleted ones are gone."""
import datetime
import struct

import pytest

from db.models import Agent, AuditLog, CallRecord, Recording
from tests.webpanel import add_user, make_app, sign_in_session


def wav_bytes(seconds=1):
    frames = 8000 * seconds
    data = b"\x00\x00" * frames
    return (b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt "
            + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16)
            + b"data" + struct.pack("<I", len(data)) + data)


@pytest.fixture
def rec_dir(tmp_path):
    directory = tmp_path / "data" / "recordings"
    directory.mkdir(parents=True)
    return directory


@pytest.fixture
def app(db, tmp_path, rec_dir):
    return make_app(hotline={"paths": {"data_dir": str(tmp_path / "data")}})


def client_as(app, role, name=None):
    client = app.test_client()
    sign_in_session(client, add_user(name or f"u_{role}", role))
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def make_recording(rec_dir, uuid, path=None, caller="13800000001", agent=None,
                   at=datetime.datetime(2026, 3, 2, 9, 30), fmt="wav", **fields):
    if path is None:
        path = rec_dir / "2026" / f"{uuid}.{fmt}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(wav_bytes() if fmt == "wav" else b"OggS" + b"\x00" * 100)
    call = CallRecord.create(call_uuid=uuid, direction="inbound", caller=caller,
                             agent=agent, start_at=at)
    return Recording.create(call=call, call_uuid=uuid, path=str(path), format=fmt,
                            seconds=1, size_bytes=16044, agent=agent,
                            agent_name=agent.extension if agent else "", created_at=at,
                            **fields)


def test_search_by_date_agent_caller_and_call(app, rec_dir):
    alice = Agent.create(extension="1001", display_name="Alice", sip_password="x")
    a = make_recording(rec_dir, "aaaa-1", agent=alice, at=datetime.datetime(2026, 3, 1, 8))
    b = make_recording(rec_dir, "bbbb-2", caller="13900000002",
                       at=datetime.datetime(2026, 3, 5, 8))
    client = client_as(app, "qa")

    def found(**args):
        response = client.get("/admin/recordings", query_string=args)
        assert response.status_code == 200
        return {r.id for r in (a, b) if f'id="recording-{r.id}"' in response.text}

    assert found() == {a.id, b.id}
    assert found(date_from="2026-03-02") == {b.id}
    assert found(date_to="2026-03-01") == {a.id}
    assert found(agent=str(alice.id)) == {a.id}
    assert found(caller="139") == {b.id}
    assert found(call_uuid="aaaa") == {a.id}
    assert client.get("/admin/recordings?caller=abc").status_code == 400


def test_play_streams_with_range_and_is_audited(app, rec_dir):
    rec = make_recording(rec_dir, "cccc-3")
    client = client_as(app, "supervisor", "sue")
    page = client.get("/admin/recordings").text
    assert f'<audio controls preload="none" src="/admin/recordings/{rec.id}/play">' in page
    response = client.get(f"/admin/recordings/{rec.id}/play")
    assert response.status_code == 200 and response.mimetype == "audio/wav"
    assert response.data[:4] == b"RIFF"
    assert "attachment" not in response.headers.get("Content-Disposition", "")
    entry = AuditLog.select().order_by(AuditLog.id.desc()).get()
    assert (entry.action, entry.actor, entry.object_type, entry.object_id) == \
        ("recording.play", "sue", "recording", str(rec.id))
    assert entry.detail["call_uuid"] == "cccc-3"
    partial = client.get(f"/admin/recordings/{rec.id}/play", headers={"Range": "bytes=100-199"})
    assert partial.status_code == 206 and len(partial.data) == 100
    assert partial.headers["Content-Range"].startswith("bytes 100-199/")
    # the rest of a file being played is not a new play
    assert AuditLog.select().where(AuditLog.action == "recording.play").count() == 1


def test_download_is_an_attachment_and_audited(app, rec_dir):
    rec = make_recording(rec_dir, "dddd-4", fmt="ogg")
    client = client_as(app, "admin", "root")
    response = client.get(f"/admin/recordings/{rec.id}/download")
    assert response.status_code == 200 and response.mimetype == "audio/ogg"
    assert "attachment" in response.headers["Content-Disposition"]
    entry = AuditLog.select().order_by(AuditLog.id.desc()).get()
    assert (entry.action, entry.actor, entry.object_id) == \
        ("recording.download", "root", str(rec.id))


def test_a_path_outside_the_recordings_dir_is_refused(app, rec_dir, tmp_path):
    secret = tmp_path / "secret.wav"
    secret.write_bytes(wav_bytes())
    outside = make_recording(rec_dir, "eeee-5", path=secret)
    sneaky = make_recording(rec_dir, "ffff-6", path=rec_dir / ".." / ".." / "secret.wav")
    relative = make_recording(rec_dir, "gggg-7", path="../../secret.wav")
    link = rec_dir / "link.wav"
    link.symlink_to(secret)
    linked = make_recording(rec_dir, "hhhh-8", path=link)
    client = client_as(app, "admin")
    for rec in (outside, sneaky, relative, linked):
        for action in ("play", "download"):
            assert client.get(f"/admin/recordings/{rec.id}/{action}").status_code == 404
    assert not AuditLog.select().where(AuditLog.action.startswith("recording.")).exists()


def test_a_relative_path_is_under_the_recordings_dir(app, rec_dir):
    (rec_dir / "x.wav").write_bytes(wav_bytes())
    rec = make_recording(rec_dir, "iiii-9", path="x.wav")
    assert client_as(app, "qa").get(f"/admin/recordings/{rec.id}/play").status_code == 200


def test_deleted_missing_and_unknown_recordings_are_404(app, rec_dir):
    deleted = make_recording(rec_dir, "jjjj-10", deleted_at=datetime.datetime(2026, 9, 1))
    missing = make_recording(rec_dir, "kkkk-11", path=rec_dir / "gone.wav")
    other = rec_dir / "notes.txt"
    other.write_text("not audio")
    text = make_recording(rec_dir, "llll-12", path=other)
    client = client_as(app, "admin")
    for rec_id in (deleted.id, missing.id, text.id, 9999):
        assert client.get(f"/admin/recordings/{rec_id}/play").status_code == 404
    assert "Deleted" in client.get("/admin/recordings").text


def test_agents_and_designers_may_not_listen(app, rec_dir):
    rec = make_recording(rec_dir, "mmmm-13")
    for role in ("agent", "designer"):
        client = client_as(app, role)
        assert client.get(f"/admin/recordings/{rec.id}/play").status_code == 403
        assert client.get("/admin/recordings").status_code == 403
    assert not AuditLog.select().where(AuditLog.action.startswith("recording.")).exists()
