"""`hotline flow check` and `hotline flow schema`, run as a user would."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from esl_apps.ivr.flow import json_schema
from esl_apps.paths import data_dir

HOTLINE = str(Path(sys.executable).with_name("hotline"))
ERROR_LINE = re.compile(r"^(.+\.yaml):(\d+):(\d+): (.+)$")
MENU = """\
name: {name}
entry: start
nodes:
  start:
    verb: menu
    prompt: {prompt}
    next: {{"1": bye, timeout: bye, invalid: bye}}
  bye:
    verb: hangup
"""


@pytest.fixture
def home(tmp_path):
    """A config whose prompts directory is tmp_path/data/prompts."""
    (tmp_path / "data" / "prompts").mkdir(parents=True)
    (tmp_path / "hotline.toml").write_text(f'[paths]\ndata_dir = "{tmp_path / "data"}"\n')
    return tmp_path


def hotline(home, *args):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    environ["HOTLINE_CONFIG"] = str(home / "hotline.toml")
    return subprocess.run([HOTLINE, *args], capture_output=True, text=True, env=environ,
                          timeout=60, cwd=home)


def test_samples_check_clean(home):
    result = hotline(home, "flow", "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "5 flow file(s): 5 ok, 0 with errors (0 error(s))\n"
    assert hotline(home, "flow", "check", str(data_dir("ivr_flows"))).returncode == 0


def test_errors_one_per_line_and_exit_1(home):
    flows = home / "flows"
    flows.mkdir()
    (flows / "good.yaml").write_text(MENU.format(name="good", prompt="{file: menu.wav}"))
    (flows / "bad.yaml").write_text(MENU.format(name="bad", prompt="{file: gone.wav}")
                                    .replace('"1": bye', '"1": nowhere'))
    (flows / "ugly.yaml").write_text("name: [ugly\n")
    (home / "data" / "prompts" / "menu.wav").write_bytes(b"RIFF")
    result = hotline(home, "flow", "check", "flows")
    assert result.returncode == 1 and result.stderr == ""
    *errors, summary = result.stdout.splitlines()
    assert errors == [
        f"flows/bad.yaml:6:14: prompt file not found: gone.wav (looked in flows, "
        f"{home / 'data' / 'prompts'})",
        "flows/bad.yaml:7:12: node 'start': outcome '1' goes to unknown node 'nowhere'",
        "flows/ugly.yaml:2:1: YAML syntax error: expected ',' or ']', but got "
        "'<stream end>' (the sequence started at 1:7)",
    ]
    assert all(ERROR_LINE.match(line) for line in errors)
    assert summary == "3 flow file(s): 1 ok, 2 with errors (3 error(s))"


def test_single_file(home):
    path = home / "one.yaml"
    path.write_text(MENU.format(name="one", prompt='{text: {zh: "请按1"}}'))
    assert hotline(home, "flow", "check", "one.yaml").returncode == 0


def test_missing_path_is_one_line_exit_2(home):
    result = hotline(home, "flow", "check", "nowhere")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr == "hotline: error: nowhere: no such file or directory\n"


def test_schema_to_file_and_stdout(home):
    out = home / "flow.schema.json"
    written = hotline(home, "flow", "schema", "-o", str(out))
    assert written.returncode == 0 and written.stdout == f"wrote {out}\n"
    assert json.loads(out.read_text()) == json_schema()
    printed = hotline(home, "flow", "schema")
    assert json.loads(printed.stdout) == json_schema()
