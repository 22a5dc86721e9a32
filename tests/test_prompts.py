"""`hotline prompts build`: TTS with the real espeak-ng, sound-file conversion, the
say modules' files, the cache, failures, and the command run as a user would."""
import os
import shutil
import stat
import subprocess
import sys
import wave
from pathlib import Path

import pytest

from esl_apps.ivr.loader import load_flows
from esl_apps.ivr.verbs.base import Prompt, iter_prompts
from esl_apps.paths import data_dir
from esl_apps.prompts import PromptError, tts
from esl_apps.prompts.build import build, plan
from esl_apps.prompts.builtin import BUILTINS
from esl_apps.prompts.paths import (builtin_path, fallback_path, file_path, prompt_path,
                                    say_dir, tts_key, tts_path)
from esl_apps.prompts.sayfiles import SAY_FILES

HOTLINE = str(Path(sys.executable).with_name("hotline"))

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                reason="espeak-ng is not installed (apt-get install espeak-ng)")

FLOW = """\
name: demo
entry: hello
nodes:
  hello:
    verb: play
    text: {zh: "您好，欢迎致电", en: "Welcome"}
    next: {done: menu}
  menu:
    verb: menu
    prompt: {file: menu.wav}
    invalid_prompt: {text: {zh: "输入有误"}}
    next: {"1": bye, timeout: bye, invalid: bye}
  bye:
    verb: hangup
"""
FLOW_JOBS = 4  # hello zh, hello en, menu.wav, invalid zh


def write_wav(path, rate=16000, channels=2, seconds=0.5):
    """A tone as 16-bit PCM, written with the wave module."""
    frames = int(rate * seconds)
    sample = [(1000 if (i // 20) % 2 else -1000).to_bytes(2, "little", signed=True)
              for i in range(frames)]
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"".join(s * channels for s in sample))


def wav_format(path):
    """(rate, channels, sample width, seconds)."""
    with wave.open(str(path)) as w:
        return (w.getframerate(), w.getnchannels(), w.getsampwidth(),
                w.getnframes() / w.getframerate())


def assert_switch_format(path):
    rate, channels, width, seconds = wav_format(path)
    assert (rate, channels, width) == (8000, 1, 2), path
    assert seconds > 0, path


@pytest.fixture(scope="module")
def system_set(tmp_path_factory):
    """A prompts dir with the say files and built-ins built once; tests copy it."""
    prompts = tmp_path_factory.mktemp("system") / "prompts"
    report = build({}, prompts)
    assert report.ok, report.failed
    return prompts


@pytest.fixture
def home(tmp_path, system_set):
    """tmp_path/flows/demo.yaml with a 16 kHz stereo menu.wav beside it, and
    tmp_path/prompts holding the system set already."""
    shutil.copytree(system_set, tmp_path / "prompts", copy_function=shutil.copy2)
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "demo.yaml").write_text(FLOW, encoding="utf-8")
    write_wav(flows / "menu.wav")
    return tmp_path


def load(home):
    flows, errors = load_flows(home / "flows", prompts_dir=home / "prompts")
    assert errors == []
    return flows


# --- espeak-ng ----------------------------------------------------------------

@pytest.mark.parametrize("language, text", [("zh", "您好，欢迎致电热力服务热线"),
                                            ("en", "Welcome to the heating hotline")])
def test_tts_renders_switch_format(tmp_path, language, text):
    out = tts.render(text, language, tmp_path / "out.wav")
    assert_switch_format(out)
    assert wav_format(out)[3] > 0.5
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["out.wav"]  # no temporary file left


def test_tts_text_starting_with_a_dash_is_text(tmp_path):
    assert_switch_format(tts.render("-5 degrees", "en", tmp_path / "minus.wav"))


def test_espeak_failure_names_the_text_and_its_stderr(tmp_path):
    fake = tmp_path / "espeak-ng"
    fake.write_text("#!/bin/sh\necho 'Error: no such voice' >&2\nexit 1\n")
    fake.chmod(0o755)
    with pytest.raises(PromptError) as caught:
        tts.render("您好", "zh", tmp_path / "out.wav", espeak=str(fake))
    assert "您好" in str(caught.value) and "no such voice" in str(caught.value)
    assert not (tmp_path / "out.wav").exists()


def test_espeak_missing_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PromptError, match="espeak-ng is not installed"):
        tts.render("hello", "en", tmp_path / "out.wav")


# --- paths --------------------------------------------------------------------

def test_paths_are_deterministic(tmp_path):
    prompts = tmp_path / "prompts"
    path = tts_path(prompts, "zh", "您好")
    assert path == prompts / "tts" / "zh" / f"{tts_key('zh', '您好')}.wav"
    assert len(path.stem) == 20 and path == tts_path(prompts, "zh", "您好")
    assert tts_key("zh", "hello") != tts_key("en", "hello")  # the voice is in the key
    source = tmp_path / "flows" / "menu.wav"
    converted = file_path(prompts, source)
    assert converted.parent == prompts / "files" and converted.name.endswith("-menu.wav")
    assert converted != file_path(prompts, tmp_path / "other" / "menu.wav")
    assert say_dir(prompts, "en") == prompts / "say" / "en"
    assert builtin_path(prompts, "zh", "record_notice") == \
        prompts / "builtin" / "zh" / "record_notice.wav"
    assert fallback_path(prompts) == prompts / "fallback" / "please_call_later.wav"


def test_prompt_path_language_and_file_lookup(tmp_path):
    prompts, flow_dir = tmp_path / "prompts", tmp_path / "flows"
    both = Prompt(text={"zh": "您好", "en": "Hello"})
    zh_only = Prompt(text={"zh": "您好"})
    assert prompt_path(both, "en", flow_dir, prompts) == tts_path(prompts, "en", "Hello")
    assert prompt_path(zh_only, "en", flow_dir, prompts) == tts_path(prompts, "zh", "您好")
    # beside the flow first, then the prompts dir
    for d in (prompts, flow_dir):
        d.mkdir()
        write_wav(d / "x.wav")
    menu = Prompt(file="x.wav")
    assert prompt_path(menu, "zh", flow_dir, prompts) == file_path(prompts, flow_dir / "x.wav")
    (flow_dir / "x.wav").unlink()
    assert prompt_path(menu, "zh", flow_dir, prompts) == file_path(prompts, prompts / "x.wav")
    (prompts / "x.wav").unlink()  # gone since loading: still a path, not an exception
    assert prompt_path(menu, "zh", flow_dir, prompts) == file_path(prompts, flow_dir / "x.wav")


# --- build --------------------------------------------------------------------

def test_build_makes_every_prompt_then_caches(home):
    flows, prompts = load(home), home / "prompts"
    first = build(flows, prompts)
    assert first.ok and len(first.built) == FLOW_JOBS, first
    flow = flows["demo"]
    for language in ("zh", "en"):
        for _node in flow.nodes.values():
            for _where, prompt in iter_prompts(_node):
                assert_switch_format(prompt_path(prompt, language, home / "flows", prompts))
    second = build(flows, prompts)
    assert second.built == [] and second.failed == []
    assert len(second.cached) == len(first.built) + len(first.cached)
    assert second.summary() == f"prompts: 0 built, {len(second.cached)} cached, 0 failed"


def test_changing_one_text_builds_only_that_one(home):
    build(load(home), home / "prompts")
    flow_file = home / "flows" / "demo.yaml"
    flow_file.write_text(FLOW.replace("输入有误", "输入有误，请重试"), encoding="utf-8")
    report = build(load(home), home / "prompts")
    assert len(report.built) == 1 and "demo.menu zh '输入有误，请重试'" in report.built[0]
    assert report.failed == []


def test_progress_after_every_job(home):
    calls = []
    report = build(load(home), home / "prompts", lambda *a: calls.append(a))
    total = len(report.built) + len(report.cached)
    assert [c[0] for c in calls] == list(range(1, total + 1))
    assert {c[1] for c in calls} == {total}
    assert sorted(c[2] for c in calls) == sorted(report.built + report.cached)


def test_file_prompt_converted_and_rebuilt_when_newer(home):
    prompts, source = home / "prompts", home / "flows" / "menu.wav"
    build(load(home), prompts)
    converted = file_path(prompts, source)
    rate, channels, width, seconds = wav_format(converted)
    assert (rate, channels, width) == (8000, 1, 2) and abs(seconds - 0.5) < 0.01
    assert build(load(home), prompts).built == []
    write_wav(source, rate=44100, channels=1, seconds=1.0)
    later = converted.stat().st_mtime_ns + 10**9
    os.utime(source, ns=(later, later))
    report = build(load(home), prompts)
    assert report.built == ["demo.menu file menu.wav"]
    assert abs(wav_format(converted)[3] - 1.0) < 0.01


def test_say_set_and_builtins(system_set):
    for language, files in SAY_FILES.items():
        for name in files:
            assert (say_dir(system_set, language) / f"{name}.wav").is_file(), (language, name)
    for name in ("digits/0", "digits/10000", "currency/yuan", "time/day-0"):
        assert_switch_format(say_dir(system_set, "zh") / f"{name}.wav")
    for name in ("digits/0", "digits/hundred", "currency/dollars", "time/mon-11"):
        assert_switch_format(say_dir(system_set, "en") / f"{name}.wav")
    # say files are trimmed: they are played back to back
    assert wav_format(say_dir(system_set, "zh") / "digits/0.wav")[3] < 0.6
    for name in BUILTINS:
        for language in ("zh", "en"):
            assert_switch_format(builtin_path(system_set, language, name))
    fallback = wav_format(fallback_path(system_set))
    assert fallback[:3] == (8000, 1, 2) and fallback[3] > 3  # zh, then en


def test_say_file_rebuilt_when_its_text_changes(home, monkeypatch):
    prompts = home / "prompts"
    target = say_dir(prompts, "zh") / "currency/yuan.wav"
    before = target.read_bytes()
    monkeypatch.setitem(SAY_FILES["zh"], "currency/yuan", "人民币元")
    report = build({}, prompts)
    assert report.built == ["say zh currency/yuan"]
    assert target.read_bytes() != before


def test_failed_jobs_are_reported_and_the_rest_built(home):
    flows = home / "flows"
    (flows / "menu.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    (flows / "other.yaml").write_text(
        FLOW.replace("name: demo", "name: other").replace("menu.wav", "gone.wav")
        .replace("欢迎致电", "欢迎"), encoding="utf-8")
    write_wav(flows / "gone.wav")
    loaded = load(home)
    (flows / "gone.wav").unlink()  # deleted after the flows were loaded
    report = build(loaded, home / "prompts")
    failed = dict(report.failed)
    assert set(failed) == {"demo.menu file menu.wav", "other.menu file gone.wav"}
    assert "menu.wav: not a PCM WAV file" in failed["demo.menu file menu.wav"]
    assert "prompt file not found: gone.wav" in failed["other.menu file gone.wav"]
    # demo's three texts; of other's, only its hello zh differs (a shared text is one job)
    assert sorted(report.built) == ["demo.hello en 'Welcome'",
                                    "demo.hello zh '您好，欢迎致电'",
                                    "demo.menu zh '输入有误'",
                                    "other.hello zh '您好，欢迎'"]
    assert report.summary().endswith("2 failed")


def test_non_wav_file_is_refused_with_a_hint(home):
    (home / "flows" / "menu.mp3").write_bytes(b"ID3\x03\x00")
    (home / "flows" / "demo.yaml").write_text(FLOW.replace("menu.wav", "menu.mp3"),
                                              encoding="utf-8")
    report = build(load(home), home / "prompts")
    [(label, reason)] = report.failed
    assert label == "demo.menu file menu.mp3"
    assert "only WAV sound files are supported" in reason and "ffmpeg -i menu.mp3" in reason


def test_all_samples(tmp_path):
    """Every prompt of the sample flows, in both languages, ends up where the runtime
    looks for it."""
    prompts = tmp_path / "prompts"
    flows, errors = load_flows(data_dir("ivr_flows"), prompts_dir=prompts)
    assert errors == [] and flows
    report = build(flows, prompts)
    assert report.ok, report.failed
    assert len(report.built) == len(plan(flows, prompts))
    for flow in flows.values():
        for node in flow.nodes.values():
            for _where, prompt in iter_prompts(node):
                for language in ("zh", "en"):
                    assert_switch_format(prompt_path(prompt, language, flow.path.parent, prompts))
    assert build(flows, prompts).built == []


# --- the command ----------------------------------------------------------------

def hotline(home, *args, env=None):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    environ.update(env or {})
    return subprocess.run([HOTLINE, "--config", str(home / "hotline.toml"), *args],
                          capture_output=True, text=True, env=environ, timeout=120, cwd=home)


@pytest.fixture
def configured(home):
    (home / "hotline.toml").write_text(
        f'[paths]\ndata_dir = "{home / "data"}"\nprompts_dir = "{home / "prompts"}"\n')
    return home


def test_command_builds_and_prints_a_summary(configured):
    result = hotline(configured, "prompts", "build", "flows")
    assert result.returncode == 0, result.stdout + result.stderr
    *progress, summary = result.stdout.splitlines()
    assert summary.startswith(f"prompts: {FLOW_JOBS} built, ") and summary.endswith(" 0 failed")
    total = len(progress)
    assert progress[0].startswith(f"1/{total} ") and progress[-1].startswith(f"{total}/{total} ")
    again = hotline(configured, "prompts", "build", "flows")
    assert again.stdout.splitlines()[-1] == f"prompts: 0 built, {total} cached, 0 failed"


def test_command_exits_1_when_a_prompt_fails(configured):
    (configured / "flows" / "menu.wav").write_bytes(b"not a wav")
    result = hotline(configured, "prompts", "build", "flows")
    assert result.returncode == 1
    assert "failed: demo.menu file menu.wav: " in result.stderr and "Traceback" not in result.stderr
    assert result.stdout.splitlines()[-1].endswith(" 1 failed")


def test_command_builds_the_good_flows_and_exits_1_on_a_broken_one(configured):
    (configured / "flows" / "broken.yaml").write_text("name: [broken\n")
    result = hotline(configured, "prompts", "build", "flows")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "broken.yaml:2:1: YAML syntax error" in result.stderr
    assert "1 flow file(s) with errors were skipped" in result.stderr
    assert result.stdout.splitlines()[-1].startswith(f"prompts: {FLOW_JOBS} built, ")


def test_command_without_espeak_is_one_line_exit_2(configured, tmp_path):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    result = hotline(configured, "prompts", "build", "flows", env={"PATH": str(empty)})
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == ("hotline: error: espeak-ng is not installed "
                             "(Debian: apt-get install espeak-ng)\n")
