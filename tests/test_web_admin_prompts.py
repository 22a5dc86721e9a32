"""Admin → Prompts: upload (WAV/OGG/MP3, converted to the switch's format; anything
else refused with the old file kept), TTS with the real espeak-ng, playback of safe
paths only, the background "build all" with its polled progress, and how a flow
names a prompt; admin and designer only."""
import io
import os
import shutil
import subprocess
import threading
import wave

import pytest

from db.models import AuditLog
from esl_apps.blacklist.service import BlacklistService
from esl_apps.ivr.loader import load_flows
from esl_apps.prompts import audio
from esl_apps.prompts.build import Report
from esl_apps.prompts.paths import file_path, prompt_path
from esl_apps.waiting.moh import MohReport
from tests.test_web_admin_blacklist import FakeEsl
from tests.webpanel import add_user, csrf_token, make_app, sign_in_session
from webui.admin import prompts as page

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                  reason="espeak-ng is not installed")
needs_sox = pytest.mark.skipif(shutil.which("sox") is None, reason="sox is not installed")

FLOW = """\
name: hello
entry: greet
language: zh
nodes:
  greet:
    verb: play
    file: custom/zh/welcome.wav
    next: {done: bye}
  bye:
    verb: hangup
"""


def wav_bytes(seconds=1.0, rate=44100, channels=2, freq=440):
    segment = audio.AudioSegment.silent(duration=int(seconds * 1000), frame_rate=rate)
    from pydub.generators import Sine
    tone = Sine(freq, sample_rate=rate).to_audio_segment(duration=int(seconds * 1000))
    segment = segment.overlay(tone).set_channels(channels)
    out = io.BytesIO()
    segment.export(out, format="wav")
    return out.getvalue()


def wav_info(path):
    with wave.open(str(path), "rb") as wav:
        return (wav.getframerate(), wav.getnchannels(), wav.getsampwidth(),
                wav.getnframes() / wav.getframerate())


@pytest.fixture
def dirs(tmp_path):
    flows = tmp_path / "flows"
    flows.mkdir()
    return {"data": tmp_path / "data", "prompts": tmp_path / "data" / "prompts",
            "flows": flows}


@pytest.fixture
def app(db, dirs):
    return make_app(hotline={"paths": {"data_dir": str(dirs["data"])},
                             "ivr": {"flows_dir": str(dirs["flows"])}})


def client_as(app, role, name=None):
    client = app.test_client()
    sign_in_session(client, add_user(name or f"u_{role}", role))
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def client(app):
    return client_as(app, "designer", "des")


def upload(client, data, name="welcome", language="zh", filename="welcome.wav"):
    token = csrf_token(client.get("/admin/prompts").text)
    return client.post("/admin/prompts/upload", data={
        "upload-csrf_token": token, "upload-language": language, "upload-name": name,
        "upload-file": (io.BytesIO(data), filename)}, content_type="multipart/form-data")


def speak(client, text, name="welcome", language="zh"):
    token = csrf_token(client.get("/admin/prompts").text)
    return client.post("/admin/prompts/tts", data={
        "tts-csrf_token": token, "tts-language": language, "tts-name": name, "tts-text": text})


def test_upload_is_converted_to_the_switch_format(client, dirs):
    response = upload(client, wav_bytes(seconds=1.5))
    assert response.status_code == 302
    path = dirs["prompts"] / "custom" / "zh" / "welcome.wav"
    rate, channels, width, seconds = wav_info(path)
    assert (rate, channels, width) == (8000, 1, 2) and 1.4 < seconds < 1.6
    # the copy the switch plays for `file: custom/zh/welcome.wav` is there already
    copy = file_path(dirs["prompts"], path)
    assert copy.read_bytes() == path.read_bytes()
    page_text = client.get("/admin/prompts").text
    assert "file: custom/zh/welcome.wav" in page_text and 'id="prompt-zh-welcome"' in page_text
    log = AuditLog.get(AuditLog.action == "prompt.upload")
    assert log.actor == "des" and log.detail["replaced"] is False


@needs_sox
def test_ogg_upload(client, dirs, tmp_path):
    ogg = tmp_path / "in.ogg"
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "2", str(ogg), "synth", "0.8",
                    "sine", "500"], check=True, capture_output=True)
    assert upload(client, ogg.read_bytes(), name="menu", language="en",
                  filename="menu.ogg").status_code == 302
    rate, channels, width, seconds = wav_info(dirs["prompts"] / "custom" / "en" / "menu.wav")
    assert (rate, channels, width) == (8000, 1, 2) and 0.7 < seconds < 0.9


def sox_has_mp3() -> bool:
    if shutil.which("sox") is None:
        return False
    help_text = subprocess.run(["sox", "-h"], capture_output=True, text=True,
                               check=False).stdout
    formats = next((line for line in help_text.splitlines()
                    if line.startswith("AUDIO FILE FORMATS")), "")
    return " mp3" in formats


@pytest.mark.skipif(not sox_has_mp3(), reason="no MP3 support in sox (libsox-fmt-mp3)")
def test_mp3_upload(client, dirs, tmp_path):
    mp3 = tmp_path / "in.mp3"
    subprocess.run(["sox", "-n", "-r", "44100", "-c", "2", str(mp3), "synth", "1.2",
                    "sine", "300"], check=True, capture_output=True)
    assert page.sniff(mp3.read_bytes()) == "mp3"
    assert upload(client, mp3.read_bytes(), name="notice", filename="notice.mp3"
                  ).status_code == 302
    rate, channels, width, seconds = wav_info(dirs["prompts"] / "custom" / "zh" / "notice.wav")
    assert (rate, channels, width) == (8000, 1, 2) and 1.1 < seconds < 1.35


@pytest.mark.parametrize("data, filename, message", [
    (b"hello, this is a text file\n" * 20, "welcome.wav", "This is not an audio file"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "welcome.mp3", "This is not an audio file"),
    (b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunk", "welcome.wav", "could not be read as WAV"),
    (b"OggS" + b"\x00" * 300, "welcome.ogg", "could not be read as OGG"),
    (b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\x00" * 300, "welcome.mp3", "MP3"),
])
def test_a_bad_upload_keeps_the_old_prompt(client, dirs, data, filename, message):
    assert upload(client, wav_bytes()).status_code == 302
    path = dirs["prompts"] / "custom" / "zh" / "welcome.wav"
    copy = file_path(dirs["prompts"], path)
    before, copy_before = path.read_bytes(), copy.read_bytes()
    response = upload(client, data, filename=filename)
    assert response.status_code == 400
    assert message in response.text and "The prompt was not changed." in response.text
    assert path.read_bytes() == before and copy.read_bytes() == copy_before
    assert [p.name for p in path.parent.iterdir()] == ["welcome.wav"]   # no temporary left
    assert AuditLog.select().where(AuditLog.action == "prompt.upload").count() == 1


def test_too_short_a_sound_is_refused(client):
    response = upload(client, wav_bytes(seconds=0.05))
    assert response.status_code == 400 and "too short" in response.text


@pytest.mark.parametrize("name", ["../evil", "a/b", "Welcome", "", "-x", "x" * 49, "欢迎"])
def test_bad_prompt_names_are_refused(client, dirs, name):
    response = upload(client, wav_bytes(), name=name)
    assert response.status_code == 400
    assert not (dirs["prompts"] / "custom").exists()


@needs_espeak
def test_tts_renders_with_espeak_ng(client, dirs):
    response = speak(client, "您好，欢迎致电供热服务热线")
    assert response.status_code == 302
    path = dirs["prompts"] / "custom" / "zh" / "welcome.wav"
    rate, channels, width, seconds = wav_info(path)
    assert (rate, channels, width) == (8000, 1, 2) and seconds > 1.0
    assert audio.read_wav(path).rms > 0   # speech, not silence
    assert path.with_suffix(".txt").read_text(encoding="utf-8") == "您好，欢迎致电供热服务热线"
    assert file_path(dirs["prompts"], path).is_file()
    page_text = client.get("/admin/prompts").text
    assert "TTS: 您好，欢迎致电供热服务热线" in page_text
    assert AuditLog.get(AuditLog.action == "prompt.tts").detail["text"] == \
        "您好，欢迎致电供热服务热线"
    # a recording uploaded over it replaces the text
    assert upload(client, wav_bytes()).status_code == 302
    assert not path.with_suffix(".txt").exists()


@needs_espeak
def test_tts_english_and_text_checks(client, dirs):
    assert speak(client, "Welcome to the hotline", name="hello", language="en"
                 ).status_code == 302
    assert wav_info(dirs["prompts"] / "custom" / "en" / "hello.wav")[3] > 0.5
    assert speak(client, "   ", name="x").status_code == 400
    assert speak(client, "a\x01b", name="x").status_code == 400
    assert speak(client, "x" * 501, name="x").status_code == 400
    assert not (dirs["prompts"] / "custom" / "zh").exists()


def test_espeak_failure_keeps_the_old_prompt(client, dirs, monkeypatch):
    assert upload(client, wav_bytes()).status_code == 302
    path = dirs["prompts"] / "custom" / "zh" / "welcome.wav"
    before = path.read_bytes()
    monkeypatch.setattr("esl_apps.prompts.tts.ESPEAK", "no-such-espeak-binary")
    response = speak(client, "新的欢迎词")
    assert response.status_code == 500
    assert "could not be spoken" in response.text and "not installed" in response.text
    assert path.read_bytes() == before and not path.with_suffix(".txt").exists()


def test_playback_serves_prompt_files(client, dirs):
    upload(client, wav_bytes())
    response = client.get("/admin/prompts/play/custom/zh/welcome.wav")
    assert response.status_code == 200 and response.mimetype == "audio/wav"
    assert response.data == (dirs["prompts"] / "custom" / "zh" / "welcome.wav").read_bytes()
    ranged = client.get("/admin/prompts/play/custom/zh/welcome.wav",
                        headers={"Range": "bytes=0-3"})
    assert ranged.status_code == 206 and ranged.data == b"RIFF"
    assert 'src="/admin/prompts/play/custom/zh/welcome.wav"' in client.get("/admin/prompts").text


@pytest.mark.parametrize("url", [
    "/admin/prompts/play/../../../etc/passwd",
    "/admin/prompts/play/custom/zh/..%2f..%2f..%2fetc%2fpasswd",
    "/admin/prompts/play/%2e%2e/%2e%2e/hotline.db",
    "/admin/prompts/play/custom/zh/../../secret.wav",
    "/admin/prompts/play//etc/passwd",
    "/admin/prompts/play/custom/zh/link.wav",
    "/admin/prompts/play/tts/zh/secret.wav",
    "/admin/prompts/play/custom/zh/nothere.wav",
])
def test_traversal_and_unknown_paths_are_refused(client, dirs, tmp_path, url):
    upload(client, wav_bytes())
    (dirs["prompts"] / "secret.wav").write_bytes(b"RIFF secret")
    (dirs["prompts"] / "tts" / "zh").mkdir(parents=True)
    (dirs["prompts"] / "tts" / "zh" / "secret.wav").write_bytes(b"RIFF secret")
    outside = tmp_path / "outside.wav"
    outside.write_bytes(b"RIFF outside")
    os.symlink(outside, dirs["prompts"] / "custom" / "zh" / "link.wav")
    response = client.get(url)
    assert response.status_code in (404, 308) and b"RIFF secret" not in response.data
    assert b"RIFF outside" not in response.data and b"root:" not in response.data


def test_a_flow_plays_an_uploaded_prompt(client, dirs):
    (dirs["flows"] / "hello.yaml").write_text(FLOW, encoding="utf-8")
    flows, errors = load_flows(dirs["flows"], prompts_dir=dirs["prompts"])
    assert errors and "custom/zh/welcome.wav" in str(errors[0])   # not there yet
    assert upload(client, wav_bytes(seconds=1)).status_code == 302
    flows, errors = load_flows(dirs["flows"], prompts_dir=dirs["prompts"])
    assert not errors
    flow = flows["hello"]
    played = prompt_path(flow.nodes["greet"], "zh", flow.path.parent, dirs["prompts"])
    uploaded = dirs["prompts"] / "custom" / "zh" / "welcome.wav"
    assert played.read_bytes() == uploaded.read_bytes()
    # a new upload changes what the switch plays at once
    assert upload(client, wav_bytes(seconds=2, freq=880)).status_code == 302
    assert played.read_bytes() == uploaded.read_bytes()
    assert wav_info(played)[3] == pytest.approx(2.0, abs=0.05)
    assert "hello.greet" in client.get("/admin/prompts").text   # used by


@pytest.fixture
def held_build(monkeypatch):
    """build_prompts replaced by one that reports two jobs and waits to be released."""
    release, calls = threading.Event(), []

    def fake_build(flows, prompts_dir, progress=None, **_kw):
        calls.append(sorted(flows))
        progress(1, 2, "first")
        assert release.wait(10)
        progress(2, 2, "second")
        return Report(built=["first"], cached=["second"])

    monkeypatch.setattr(page, "build_prompts", fake_build)
    monkeypatch.setattr(page, "build_moh", lambda moh_dir: MohReport(cached=[moh_dir]))
    monkeypatch.setattr(page, "_JOBS", {})
    return release, calls


@needs_espeak
def test_build_all_runs_in_the_background_with_progress(client, dirs, held_build):
    release, calls = held_build
    (dirs["flows"] / "hello.yaml").write_text(FLOW, encoding="utf-8")
    upload(client, wav_bytes())
    # a TTS prompt whose sound is missing is spoken again by the build
    custom = dirs["prompts"] / "custom" / "en"
    custom.mkdir(parents=True)
    (custom / "bye.txt").write_text("Goodbye", encoding="utf-8")
    # one just spoken from the page is up to date: not spoken again
    assert speak(client, "Hello", name="hello", language="en").status_code == 302
    hello = (custom / "hello.wav").stat().st_mtime_ns
    token = csrf_token(client.get("/admin/prompts").text)
    response = client.post("/admin/prompts/build", data={"csrf_token": token, "scope": "all"})
    assert response.status_code == 302
    job_url = response.headers["Location"]
    job = next(iter(page._JOBS.values()))
    page_text = client.get(job_url).text
    assert 'id="build-status"' in page_text
    # while it runs: the fragment asks htmx to poll again
    status_url = job_url + "/status"
    running = client.get(status_url).text
    assert 'hx-trigger="every 1s"' in running and 'data-state="running"' in running
    # a second click while it runs follows the same build
    again = client.post("/admin/prompts/build", data={"csrf_token": token, "scope": "all"})
    assert again.headers["Location"] == job_url and len(page._JOBS) == 1
    release.set()
    assert job.finished_event.wait(30)
    done = client.get(status_url).text
    assert 'data-state="done"' in done and "hx-get" not in done
    assert "2 built, 2 already up to date, 0 failed" in done
    assert calls == [["hello"]]
    assert wav_info(custom / "bye.wav")[3] > 0.3
    assert (custom / "hello.wav").stat().st_mtime_ns == hello
    assert job.snapshot()["percent"] == 100 and job.snapshot()["total"] == 3
    assert AuditLog.select().where(AuditLog.action == "prompt.build").count() == 1


def test_build_needs_its_form(client, held_build):
    token = csrf_token(client.get("/admin/prompts").text)
    assert client.post("/admin/prompts/build", data={"csrf_token": token}).status_code == 400
    assert client.get("/admin/prompts/build/nosuchjob").status_code == 404
    assert client.get("/admin/prompts/build/nosuchjob/status").status_code == 404
    assert page._JOBS == {}


@pytest.mark.parametrize("role", ["agent", "supervisor", "qa"])
def test_other_roles_are_refused(app, dirs, role):
    admin = client_as(app, "admin", "root")
    assert admin.get("/admin/prompts").status_code == 200
    assert upload(admin, wav_bytes()).status_code == 302
    client = client_as(app, role)
    assert client.get("/admin/prompts").status_code == 403
    assert client.get("/admin/prompts/play/custom/zh/welcome.wav").status_code == 403
    assert client.post("/admin/prompts/upload").status_code in (400, 403)
    anonymous = app.test_client()
    response = anonymous.get("/admin/prompts/play/custom/zh/welcome.wav")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


@needs_espeak
def test_blocked_caller_message_reaches_the_switch(db, dirs):
    esl = FakeEsl()
    app = make_app(hotline={"paths": {"data_dir": str(dirs["data"])},
                            "ivr": {"flows_dir": str(dirs["flows"])}})
    app.config["HOTLINE_BLACKLIST"] = BlacklistService(esl, db, dirs["prompts"])
    client = client_as(app, "admin", "root")
    path = dirs["prompts"] / "blacklist" / "blocked.wav"
    assert "No message: blocked callers hear busy." in client.get("/admin/prompts").text
    token = csrf_token(client.get("/admin/prompts").text)
    response = client.post("/admin/prompts/blocked/tts", data={
        "blocked-tts-csrf_token": token, "blocked-tts-language": "zh",
        "blocked-tts-text": "您的来电已被限制"})
    assert response.status_code == 302
    assert wav_info(path)[:3] == (8000, 1, 2)
    # the service pushes the message's path to the dialplan's global variable at once
    assert f"global_setvar hotline_blocked_prompt={path}" in esl.commands
    page_text = client.get("/admin/prompts").text
    assert "TTS: 您的来电已被限制" in page_text
    assert 'src="/admin/prompts/play/blacklist/blocked.wav"' in page_text
    assert client.get("/admin/prompts/play/blacklist/blocked.wav").status_code == 200
    # a bad upload keeps it; a good one replaces it
    before = path.read_bytes()
    bad = client.post("/admin/prompts/blocked/upload", data={
        "blocked-csrf_token": token, "blocked-file": (io.BytesIO(b"not audio" * 50), "x.wav")},
        content_type="multipart/form-data")
    assert bad.status_code == 400 and path.read_bytes() == before
    good = client.post("/admin/prompts/blocked/upload", data={
        "blocked-csrf_token": token, "blocked-file": (io.BytesIO(wav_bytes(seconds=2)), "x.wav")},
        content_type="multipart/form-data")
    assert good.status_code == 302 and wav_info(path)[3] == pytest.approx(2.0, abs=0.05)
    assert not path.with_suffix(".txt").exists()
    esl.commands.clear()
    assert client.post("/admin/prompts/blocked/remove",
                       data={"csrf_token": token}).status_code == 400   # not confirmed
    assert path.exists() and esl.commands == []
    assert client.post("/admin/prompts/blocked/remove",
                       data={"csrf_token": token, "confirm": "remove"}).status_code == 302
    assert not path.exists()
    assert "global_setvar hotline_blocked_prompt=" in esl.commands   # busy again
    actions = [e.action for e in AuditLog.select().order_by(AuditLog.id)]
    assert actions == ["prompt.blocked.tts", "prompt.blocked.upload", "prompt.blocked.remove"]
