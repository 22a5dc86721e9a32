"""Smoke tests of every command, run as a user would: the installed `hotline`
in a subprocess, so a traceback would show on stderr."""
import os
import signal
import stat
import subprocess
import sys
import tomllib
import urllib.request
from pathlib import Path

import pytest

from tests.pgcluster import free_port, wait_for

HOTLINE = str(Path(sys.executable).with_name("hotline"))


def hotline(tmp_path, *args, env=None, input=None):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    environ["HOTLINE_CONFIG"] = str(tmp_path / "etc" / "hotline.toml")
    environ.update(env or {})
    tmp_path.mkdir(parents=True, exist_ok=True)
    return subprocess.run([HOTLINE, *args], capture_output=True, text=True, env=environ, input=input,
                          timeout=60, cwd=tmp_path)


def assert_one_line_error(result, *words):
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hotline: error: "), result.stderr
    for word in words:
        assert word in lines[0]


@pytest.fixture
def initialised(tmp_path):
    result = hotline(tmp_path, "init")
    assert result.returncode == 0, result.stderr
    return tmp_path


def test_init_writes_private_config_with_fresh_secrets(tmp_path):
    first = hotline(tmp_path / "a", "init")
    second = hotline(tmp_path / "b", "init")
    assert first.returncode == second.returncode == 0
    path_a = tmp_path / "a" / "etc" / "hotline.toml"
    a = tomllib.loads(path_a.read_text())
    b = tomllib.loads((tmp_path / "b" / "etc" / "hotline.toml").read_text())
    assert stat.S_IMODE(path_a.stat().st_mode) == 0o600
    for section, key in [("web", "secret_key"), ("freeswitch", "esl_password"),
                         ("freeswitch", "default_password"), ("freeswitch", "cdr_password")]:
        assert len(a[section][key]) >= 32 and a[section][key] != b[section][key]
    assert "1234" != a["freeswitch"]["default_password"]
    data = Path(a["paths"]["data_dir"])
    for sub in ("recordings", "prompts", "moh", "log"):
        assert (data / sub).is_dir()
    assert (data / "hotline.db").is_file()


def test_init_twice_keeps_the_secrets(initialised):
    path = initialised / "etc" / "hotline.toml"
    before = path.read_text()
    again = hotline(initialised, "init")
    assert again.returncode == 0 and "exists, kept" in again.stdout
    assert path.read_text() == before


def test_init_then_upgrade_then_check(initialised):
    assert hotline(initialised, "db", "upgrade").returncode == 0
    result = hotline(initialised, "check", env={"HOTLINE_FREESWITCH_ESL_PORT": str(free_port())})
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["config", "database", "freeswitch"]
    assert "ok" in lines[0] and "ok" in lines[1]
    assert "not reachable" in lines[2]


def test_db_downgrade_and_status(initialised):
    from tests.test_migrations import ALL
    down = hotline(initialised, "db", "downgrade")
    assert down.returncode == 0 and f"reverted {ALL[-1]}" in down.stdout
    status = hotline(initialised, "db", "status")
    assert f"pending  {ALL[-1]}" in status.stdout and f"applied  {ALL[-2]}" in status.stdout
    check = hotline(initialised, "check")
    assert check.returncode == 1 and "pending" in check.stdout
    assert hotline(initialised, "db", "downgrade", "--all").returncode == 0
    assert "applied" not in hotline(initialised, "db", "status").stdout.replace("pending", "")
    beyond = str(len(ALL) + 1)   # a migration number that does not exist
    assert_one_line_error(hotline(initialised, "db", "upgrade", "--to", beyond), beyond)


def test_user_add(initialised):
    made = hotline(initialised, "user", "add", "zhang", "--role", "agent")
    assert made.returncode == 0 and "generated password (shown once): " in made.stdout
    given = hotline(initialised, "user", "add", "li", "--role", "supervisor", "--password-stdin",
                    input="correct horse\n")
    assert given.returncode == 0 and "generated" not in given.stdout
    listed = hotline(initialised, "user", "list").stdout
    assert "zhang\tagent" in listed and "li\tsupervisor" in listed
    assert_one_line_error(hotline(initialised, "user", "add", "zhang", "--role", "agent"),
                          "already exists")
    assert_one_line_error(hotline(initialised, "user", "add", "wu", "--role", "qa",
                                  "--password-stdin", input="short\n"), "8")
    bad_role = hotline(initialised, "user", "add", "wu", "--role", "root")
    assert bad_role.returncode == 2 and "Traceback" not in bad_role.stderr


def test_user_add_refuses_an_old_schema(initialised):
    hotline(initialised, "db", "downgrade")
    assert_one_line_error(hotline(initialised, "user", "add", "x", "--role", "qa"),
                          "hotline db upgrade")


@pytest.mark.parametrize("env, words", [
    ({"HOTLINE_DATABASE_URL": "postgres:/nohost"}, ["database.url", "HOTLINE_DATABASE_URL"]),
    ({"HOTLINE_WEB_PORT": "x"}, ["web.port"]),
])
def test_bad_config_is_one_line(initialised, env, words):
    assert_one_line_error(hotline(initialised, "db", "upgrade", env=env), *words)


def test_unreachable_postgresql_is_one_line(initialised):
    url = f"postgresql://hotline:secret@127.0.0.1:{free_port()}/hotline"
    result = hotline(initialised, "db", "upgrade", env={"HOTLINE_DATABASE_URL": url})
    assert_one_line_error(result, "cannot connect", "127.0.0.1")
    assert "secret" not in result.stderr


def test_toml_syntax_error_is_one_line(initialised):
    path = initialised / "etc" / "hotline.toml"
    path.write_text(path.read_text() + "\n[web\n")
    assert_one_line_error(hotline(initialised, "db", "status"), "TOML syntax error", str(path))
    check = hotline(initialised, "check")
    assert check.returncode == 1 and "Traceback" not in check.stderr
    assert check.stdout.startswith("config:     FAIL") and "TOML syntax error" in check.stdout


def test_unwritable_data_directory(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = hotline(tmp_path, "init", "--data-dir", str(blocker / "data"))
    assert_one_line_error(result, "cannot create")


@pytest.fixture
def read_only_dir(tmp_path):
    """A directory this process cannot write to: a read-only tmpfs as root, mode 555 otherwise."""
    path = tmp_path / "ro"
    path.mkdir()
    if os.geteuid() != 0:
        path.chmod(0o555)
        yield path
        path.chmod(0o755)
        return
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(path)],
                             capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a read-only tmpfs here: " + mounted.stderr.decode())
    yield path
    subprocess.run(["umount", str(path)], check=True)


def test_unwritable_data_directory_is_named(tmp_path, read_only_dir):
    result = hotline(tmp_path, "init", "--data-dir", str(read_only_dir))
    assert_one_line_error(result, "not writable", str(read_only_dir))


def test_run_serves_the_panel_and_stops_on_sigterm(initialised):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(HOTLINE_CONFIG=str(initialised / "etc" / "hotline.toml"),
               HOTLINE_WEB_PORT=str(port), HOTLINE_FREESWITCH_ESL_PORT=str(free_port()),
               HOTLINE_FREESWITCH_SOCKET_PORT=str(free_port()))
    proc = subprocess.Popen([HOTLINE, "run"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        def up():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    return r.status == 200
            except OSError:
                return False
        assert wait_for(up, timeout=20), proc.poll()
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "not reachable" in out
    assert "Traceback" not in err


def _add_switch_rows(initialised, display_name="王芳"):
    import tomllib as toml

    from db.connect import bind, open_database
    from db.models import Agent, Did
    config = toml.loads((initialised / "etc" / "hotline.toml").read_text())
    db = bind(open_database(config["database"]["url"]))
    Agent.create(extension="1001", display_name=display_name, sip_password="a" * 24)
    Did.create(number="88001234", flow="main")
    db.close()


def test_switch_render_takes_agents_and_dids_from_the_database(initialised):
    _add_switch_rows(initialised)
    dest = initialised / "fsconf"
    result = hotline(initialised, "switch", "render", str(dest))
    assert result.returncode == 0, result.stderr
    assert "1 agents, 1 DIDs" in result.stdout
    assert "88001234" in (dest / "dialplan" / "public" / "50_did.xml").read_text()
    assert "王芳" in (dest / "directory" / "default.xml").read_text()


def test_switch_render_refuses_a_value_that_would_change_the_dialplan(initialised):
    _add_switch_rows(initialised, display_name="x${system(rm -rf /)}")
    result = hotline(initialised, "switch", "render", str(initialised / "fsconf"))
    assert_one_line_error(result, "display name")


def test_check_reaches_the_event_socket(initialised):
    import tomllib as toml

    from tests.fakeswitch.inbound import FakeSwitch
    config = toml.loads((initialised / "etc" / "hotline.toml").read_text())
    fake = FakeSwitch(config["freeswitch"]["esl_password"]).start()
    try:
        ok = hotline(initialised, "check", env={"HOTLINE_FREESWITCH_ESL_PORT": str(fake.port)})
        wrong = hotline(initialised, "check", env={"HOTLINE_FREESWITCH_ESL_PORT": str(fake.port),
                                                   "HOTLINE_FREESWITCH_ESL_PASSWORD": "nope-nope"})
    finally:
        fake.stop()
    assert ok.returncode == 0
    assert "freeswitch: ok" in ok.stdout and "FreeSWITCH Version 1.11.1" in ok.stdout
    assert "password was refused" in wrong.stdout
