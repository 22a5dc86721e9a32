"""Built-in prompts (and the fallback) replaced by an admin's recording: the build
copies the override and never writes it, removing it brings the TTS back; on the
admin Prompts page an upload replaces the override and the played file at once,
garbage is refused with the old file kept, "back to TTS" speaks the text again;
roles, CSRF, the audit log and the play route's exact paths.

espeak-ng is replaced by a fake that writes silence whose length depends on the
text (fake_tts), so these run without it; the real TTS is tested in test_prompts."""
import io
import os
import shutil

import pytest

from db.models import AuditLog
from esl_apps.prompts import PromptError, audio, override
from esl_apps.prompts.build import Keys, build
from esl_apps.prompts.builtin import BUILTINS, FALLBACK
from esl_apps.prompts.paths import (
    builtin_path,
    fallback_override_path,
    fallback_path,
    override_path,
)
from tests.test_web_admin_prompts import app, client_as, dirs, wav_bytes, wav_info  # noqa: F401
from tests.webpanel import csrf_token, make_app

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                  reason="espeak-ng is not installed")


def spoken(text: str):
    """What the fake TTS says for `text`: silence, 100 ms per character."""
    return audio.AudioSegment.silent(duration=100 * len(text), frame_rate=audio.RATE)


@pytest.fixture
def fake_tts(monkeypatch):
    """tts.render replaced; returns the texts it was asked to speak."""
    texts = []

    def render(text, language, output, *, espeak=None, trim=False):
        texts.append(text)
        return audio.write_wav(spoken(text), output)

    monkeypatch.setattr("esl_apps.prompts.tts.render", render)
    return texts


def recording(path, seconds=2.0):
    """An admin's recording, in the switch's format (a tone, unlike the fake TTS)."""
    from pydub.generators import Sine
    return audio.write_wav(Sine(440).to_audio_segment(duration=int(seconds * 1000)), path)


def tts_bytes(tmp_path, text):
    return audio.write_wav(spoken(text), tmp_path / "expected.wav").read_bytes()


NOTICE = "builtin zh record_notice"


# --- the build ------------------------------------------------------------------

def test_override_paths(tmp_path):
    assert override_path(tmp_path, "zh", "record_notice") == \
        tmp_path / "override" / "zh" / "record_notice.wav"
    assert fallback_override_path(tmp_path) == tmp_path / "override" / "fallback.wav"
    assert override.IDENTS == tuple(f"{language}/{name}" for name in BUILTINS
                                    for language in ("zh", "en")) + ("fallback",)


def test_build_copies_the_override_and_never_writes_it(tmp_path, fake_tts, monkeypatch):
    prompts = tmp_path / "prompts"
    mine = recording(override_path(prompts, "zh", "record_notice"))
    fallback = recording(fallback_override_path(prompts), seconds=3)
    os.utime(mine, ns=(10**18, 10**18))
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (mine, fallback)}
    report = build({}, prompts)
    assert report.ok and NOTICE in report.built
    assert builtin_path(prompts, "zh", "record_notice").read_bytes() == mine.read_bytes()
    assert fallback_path(prompts).read_bytes() == fallback.read_bytes()
    # never spoken: not the notice in zh, not either fallback text
    assert BUILTINS["record_notice"]["zh"] not in fake_tts
    assert not {text for _language, text in FALLBACK} & set(fake_tts)
    # without an override, TTS as before
    assert BUILTINS["record_notice"]["en"] in fake_tts
    assert builtin_path(prompts, "en", "record_notice").read_bytes() == \
        tts_bytes(tmp_path, BUILTINS["record_notice"]["en"])
    # up to date next time, even when the built-in's text changes
    monkeypatch.setitem(BUILTINS["record_notice"], "zh", "本次通话将被录音")
    again = build({}, prompts)
    assert NOTICE in again.cached and again.built == []
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (mine, fallback)} == before
    assert builtin_path(prompts, "zh", "record_notice").read_bytes() == mine.read_bytes()


def test_a_changed_override_is_copied_again(tmp_path, fake_tts):
    prompts = tmp_path / "prompts"
    mine = recording(override_path(prompts, "en", "queue_next"))
    build({}, prompts)
    recording(mine, seconds=1)
    report = build({}, prompts)
    assert report.built == ["builtin en queue_next"]
    assert builtin_path(prompts, "en", "queue_next").read_bytes() == mine.read_bytes()


def test_removing_the_override_brings_the_tts_back(tmp_path, fake_tts):
    prompts = tmp_path / "prompts"
    mine = recording(override_path(prompts, "zh", "record_notice"))
    fallback = recording(fallback_override_path(prompts))
    build({}, prompts)
    mine.unlink()
    fallback.unlink()
    fake_tts.clear()
    report = build({}, prompts)
    assert sorted(report.built) == sorted([NOTICE, "fallback please_call_later"])
    assert builtin_path(prompts, "zh", "record_notice").read_bytes() == \
        tts_bytes(tmp_path, BUILTINS["record_notice"]["zh"])
    assert wav_info(fallback_path(prompts))[3] > 3   # both texts, not the recording
    assert BUILTINS["record_notice"]["zh"] in fake_tts


def test_progress_is_reported_for_every_job_with_overrides(tmp_path, fake_tts):
    prompts = tmp_path / "prompts"
    recording(override_path(prompts, "zh", "queue_wait"))
    calls = []
    report = build({}, prompts, lambda *a: calls.append(a))
    total = len(report.built) + len(report.cached)
    assert [c[0] for c in calls] == list(range(1, total + 1)) and {c[1] for c in calls} == {total}
    assert "builtin zh queue_wait" in [c[2] for c in calls]


def test_an_override_installed_then_removed_by_hand_is_spoken_again(tmp_path, fake_tts):
    """install() records what the built file now holds, so the build knows the TTS
    is not there any more once the recording is gone."""
    prompts = tmp_path / "prompts"
    build({}, prompts)
    job = override.find(prompts, "zh/queue_minutes")
    override.install(prompts, job, audio.read_wav(recording(tmp_path / "mine.wav")))
    assert job.override.read_bytes() == job.output.read_bytes()
    assert build({}, prompts).built == []   # the copy is up to date
    job.override.unlink()
    assert build({}, prompts).built == ["builtin zh queue_minutes"]
    assert job.output.read_bytes() == tts_bytes(tmp_path, BUILTINS["queue_minutes"]["zh"])


def test_keys_saved_by_a_build_keep_another_writers_keys(tmp_path, fake_tts):
    prompts = tmp_path / "prompts"
    build({}, prompts)
    keys = Keys(prompts)   # a build's, loaded before the page's upload below
    job = override.find(prompts, "en/queue_wait")
    override.install(prompts, job, audio.read_wav(recording(tmp_path / "mine.wav")))
    keys.save()
    assert Keys(prompts).get(job) == job.key and job.key.startswith("override-")


@needs_espeak
def test_override_then_real_tts_again(tmp_path):
    prompts = tmp_path / "prompts"
    mine = recording(override_path(prompts, "en", "queue_minutes"))
    assert build({}, prompts).ok
    played = builtin_path(prompts, "en", "queue_minutes")
    recorded = mine.read_bytes()
    assert played.read_bytes() == recorded
    mine.unlink()
    assert build({}, prompts).built == ["builtin en queue_minutes"]
    assert played.read_bytes() != recorded   # espeak-ng's speech, not the tone
    assert wav_info(played)[:3] == (8000, 1, 2) and audio.read_wav(played).rms > 0


def test_find_knows_only_the_builtins(tmp_path):
    assert override.find(tmp_path, "fallback").output == fallback_path(tmp_path)
    assert override.find(tmp_path, "en/record_notice").override == \
        override_path(tmp_path, "en", "record_notice")
    for ident in ("zh/nothing", "../zh/record_notice", "custom/zh/x", ""):
        assert override.find(tmp_path, ident) is None


# --- the admin page ----------------------------------------------------------------

@pytest.fixture
def built(dirs, fake_tts):  # noqa: F811
    """The prompts dir with every built-in spoken by the fake TTS."""
    assert build({}, dirs["prompts"]).ok
    return dirs["prompts"]


@pytest.fixture
def client(app):  # noqa: F811 (a designer here; the blocked routes' roles)
    return client_as(app, "designer", "des")


def upload(client, data, prompt="zh/record_notice", filename="notice.wav"):
    token = csrf_token(client.get("/admin/prompts").text)
    return client.post("/admin/prompts/builtin/upload", data={
        "csrf_token": token, "prompt": prompt, "file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data")


def back_to_tts(client, prompt="zh/record_notice"):
    token = csrf_token(client.get("/admin/prompts").text)
    return client.post("/admin/prompts/builtin/tts", data={"csrf_token": token,
                                                           "prompt": prompt})


def test_the_page_lists_every_builtin(client, built):
    text = client.get("/admin/prompts").text
    assert 'id="builtin"' in text
    for name, texts in BUILTINS.items():
        for language in ("zh", "en"):
            assert f'id="builtin-{language}-{name}"' in text and texts[language] in text
            assert f'src="/admin/prompts/play/builtin/{language}/{name}.wav"' in text
    assert 'id="builtin-fallback"' in text and FALLBACK[0][1] in text
    assert 'src="/admin/prompts/play/fallback/please_call_later.wav"' in text
    assert 'action="/admin/prompts/builtin/tts"' not in text   # nothing recorded yet


def test_upload_replaces_the_override_and_the_played_file(client, built):
    response = upload(client, wav_bytes(seconds=1.5))
    assert response.status_code == 302 and response.headers["Location"].endswith("#builtin")
    mine = override_path(built, "zh", "record_notice")
    played = builtin_path(built, "zh", "record_notice")
    rate, channels, width, seconds = wav_info(mine)
    assert (rate, channels, width) == (8000, 1, 2) and 1.4 < seconds < 1.6
    assert played.read_bytes() == mine.read_bytes()
    assert [p.name for p in played.parent.iterdir() if p.name.startswith(".")] == []
    log = AuditLog.get(AuditLog.action == "prompt.builtin.upload")
    assert log.actor == "des" and log.object_id == "override/zh/record_notice.wav"
    assert log.detail["prompt"] == "zh/record_notice" and log.detail["replaced"] is False
    page_text = client.get("/admin/prompts").text
    row = page_text[page_text.index('id="builtin-zh-record_notice"'):]
    row = row[:row.index("</tr>")]
    assert "Recording" in row and 'action="/admin/prompts/builtin/tts"' in row
    # a build keeps it
    assert "builtin zh record_notice" in build({}, built).cached
    assert played.read_bytes() == mine.read_bytes()


def test_upload_of_the_fallback(client, built):
    assert upload(client, wav_bytes(seconds=2), prompt="fallback").status_code == 302
    mine = fallback_override_path(built)
    assert fallback_path(built).read_bytes() == mine.read_bytes()
    assert wav_info(mine)[3] == pytest.approx(2.0, abs=0.05)
    assert AuditLog.get(AuditLog.action == "prompt.builtin.upload").object_id == \
        "override/fallback.wav"


@pytest.mark.parametrize("data, message", [
    (b"hello, this is a text file\n" * 20, "This is not an audio file"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "This is not an audio file"),
    (wav_bytes(seconds=0.05), "too short"),
])
def test_garbage_is_refused_and_the_old_files_stay(client, built, data, message):
    played = builtin_path(built, "zh", "record_notice")
    tts_before = played.read_bytes()
    # over the TTS: nothing written
    response = upload(client, data)
    assert response.status_code == 400
    assert message in response.text and "The prompt was not changed." in response.text
    assert played.read_bytes() == tts_before
    assert not override_path(built, "zh", "record_notice").exists()
    # over a recording: both files byte-identical
    assert upload(client, wav_bytes()).status_code == 302
    mine = override_path(built, "zh", "record_notice")
    before = mine.read_bytes()
    assert upload(client, data).status_code == 400
    assert mine.read_bytes() == before and played.read_bytes() == before
    assert sorted(p.name for p in mine.parent.iterdir()) == ["record_notice.wav"]
    assert AuditLog.select().where(AuditLog.action == "prompt.builtin.upload").count() == 1


@pytest.mark.parametrize("prompt", ["zh/nothing", "../../etc/passwd", "custom/zh/x", ""])
def test_an_unknown_prompt_is_refused(client, built, prompt):
    response = upload(client, wav_bytes(), prompt=prompt)
    assert response.status_code == 400
    assert not (built / "override").exists()
    assert back_to_tts(client, prompt).status_code == 400
    assert AuditLog.select().count() == 0


def test_back_to_tts(client, built, tmp_path):
    assert upload(client, wav_bytes(), prompt="en/queue_callback").status_code == 302
    response = back_to_tts(client, "en/queue_callback")
    assert response.status_code == 302 and response.headers["Location"].endswith("#builtin")
    assert not override_path(built, "en", "queue_callback").exists()
    assert builtin_path(built, "en", "queue_callback").read_bytes() == \
        tts_bytes(tmp_path, BUILTINS["queue_callback"]["en"])
    log = AuditLog.get(AuditLog.action == "prompt.builtin.tts")
    assert log.object_id == "override/en/queue_callback.wav" and log.actor == "des"
    assert "builtin en queue_callback" in build({}, built).cached   # nothing left to do
    # already TTS: said so, nothing done
    again = back_to_tts(client, "en/queue_callback")
    assert again.status_code == 302
    assert "already plays its TTS text" in client.get("/admin/prompts").text
    assert AuditLog.select().where(AuditLog.action == "prompt.builtin.tts").count() == 1


def test_back_to_tts_without_espeak_keeps_the_recording(client, built, monkeypatch):
    assert upload(client, wav_bytes(), prompt="zh/queue_ahead").status_code == 302
    mine = override_path(built, "zh", "queue_ahead")
    before = mine.read_bytes()

    def broken(*_args, **_kwargs):
        raise PromptError("espeak-ng is not installed (Debian: apt-get install espeak-ng)")

    monkeypatch.setattr("esl_apps.prompts.tts.render", broken)
    response = back_to_tts(client, "zh/queue_ahead")
    assert response.status_code == 500
    assert "could not be spoken" in response.text and "The recording stays." in response.text
    assert "espeak-ng is not installed" in response.text
    assert mine.read_bytes() == before
    assert builtin_path(built, "zh", "queue_ahead").read_bytes() == before
    assert AuditLog.select().where(AuditLog.action == "prompt.builtin.tts").count() == 0
    # the fallback is made of its two texts' TTS, still in the TTS cache: no espeak needed
    assert upload(client, wav_bytes(), prompt="fallback").status_code == 302
    assert back_to_tts(client, "fallback").status_code == 302
    assert not fallback_override_path(built).exists()
    assert wav_info(fallback_path(built))[3] > 3


@needs_espeak
def test_back_to_tts_with_espeak_ng(client, dirs, monkeypatch):  # noqa: F811
    assert upload(client, wav_bytes()).status_code == 302
    assert back_to_tts(client).status_code == 302
    played = builtin_path(dirs["prompts"], "zh", "record_notice")
    assert wav_info(played)[:3] == (8000, 1, 2) and audio.read_wav(played).rms > 0


# --- who may, CSRF, playing ----------------------------------------------------------

@pytest.fixture
def no_csrf_app(db, dirs):  # noqa: F811
    """The app without CSRF checks, so the role check is what answers."""
    return make_app(csrf=False, hotline={"paths": {"data_dir": str(dirs["data"])},
                                         "ivr": {"flows_dir": str(dirs["flows"])}})


@pytest.mark.parametrize("role", ["agent", "supervisor", "qa"])
def test_other_roles_are_refused(app, no_csrf_app, built, role):  # noqa: F811
    assert upload(client_as(app, "admin", "root"), wav_bytes()).status_code == 302
    client = client_as(no_csrf_app, role)
    mine = override_path(built, "zh", "record_notice").read_bytes()
    for url in ("/admin/prompts/builtin/upload", "/admin/prompts/builtin/tts"):
        assert client.post(url, data={"prompt": "zh/record_notice"}).status_code == 403
    assert client.get("/admin/prompts/play/builtin/zh/record_notice.wav").status_code == 403
    assert override_path(built, "zh", "record_notice").read_bytes() == mine


def test_anonymous_is_sent_to_login(no_csrf_app, built):
    anonymous = no_csrf_app.test_client()
    for url in ("/admin/prompts/builtin/upload", "/admin/prompts/builtin/tts"):
        response = anonymous.post(url, data={"prompt": "zh/record_notice"})
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    response = anonymous.get("/admin/prompts/play/fallback/please_call_later.wav")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_a_form_without_its_csrf_token_is_refused(client, built):
    assert upload(client, wav_bytes()).status_code == 302
    mine = override_path(built, "zh", "record_notice").read_bytes()
    response = client.post("/admin/prompts/builtin/upload", data={
        "prompt": "en/record_notice", "file": (io.BytesIO(wav_bytes()), "x.wav")},
        content_type="multipart/form-data")
    assert response.status_code == 400 and "The form had expired" in response.text
    assert not override_path(built, "en", "record_notice").exists()
    response = client.post("/admin/prompts/builtin/tts", data={"prompt": "zh/record_notice"})
    assert response.status_code == 400 and "The form had expired" in response.text
    assert override_path(built, "zh", "record_notice").read_bytes() == mine
    assert AuditLog.select().where(AuditLog.action != "prompt.builtin.upload").count() == 0


@pytest.mark.parametrize("filename", ["builtin/zh/record_notice.wav",
                                      "builtin/en/queue_ahead_tail.wav",
                                      "fallback/please_call_later.wav"])
def test_the_builtins_are_playable(client, built, filename):
    response = client.get(f"/admin/prompts/play/{filename}")
    assert response.status_code == 200 and response.mimetype == "audio/wav"
    assert response.data == (built / filename).read_bytes()


@pytest.mark.parametrize("url", [
    "/admin/prompts/play/builtin/../../etc/passwd",
    "/admin/prompts/play/builtin/..%2f..%2fetc%2fpasswd",
    "/admin/prompts/play/builtin/zh/..%2f..%2fsecret.wav",
    "/admin/prompts/play/builtin/zh/%2e%2e/%2e%2e/secret.wav",
    "/admin/prompts/play/builtin/zh/other.wav",
    "/admin/prompts/play/builtin/fr/record_notice.wav",
    "/admin/prompts/play/builtin/zh/record_notice.wav%0a",
    "/admin/prompts/play/override/zh/record_notice.wav",
    "/admin/prompts/play/override/fallback.wav",
    "/admin/prompts/play/fallback/other.wav",
    "/admin/prompts/play/builtin/en/queue_next.wav",   # a link out of the prompts dir
])
def test_only_the_exact_paths_are_played(client, built, tmp_path, url):
    recording(override_path(built, "zh", "record_notice"))
    recording(fallback_override_path(built))
    (built / "secret.wav").write_bytes(b"RIFF secret")
    (built / "builtin" / "zh" / "other.wav").write_bytes(b"RIFF secret")
    (built / "builtin" / "fr").mkdir()
    (built / "builtin" / "fr" / "record_notice.wav").write_bytes(b"RIFF secret")
    (built / "fallback" / "other.wav").write_bytes(b"RIFF secret")
    outside = tmp_path / "outside.wav"
    outside.write_bytes(b"RIFF outside")
    link = builtin_path(built, "en", "queue_next")
    link.unlink()
    os.symlink(outside, link)
    response = client.get(url)
    assert response.status_code in (404, 308), response.status_code
    assert b"RIFF" not in response.data and b"root:" not in response.data
