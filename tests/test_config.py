from pathlib import Path

import pytest

from esl_apps.config import ConfigError, load_config


def write(tmp_path, text):
    path = tmp_path / "hotline.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_file(tmp_path):
    config = load_config(environ={}, path=None) if not Path("/etc/hotline/hotline.toml").exists() \
        else pytest.skip("a system config exists on this machine")
    assert config.web.port == 8080
    assert config.database_url == "sqlite:////var/lib/hotline/hotline.db"
    assert config.dirs["recordings_dir"] == Path("/var/lib/hotline/recordings")


def test_file_then_environment(tmp_path):
    path = write(tmp_path, '[web]\nport = 9000\nhost = "127.0.0.2"\n'
                           '[paths]\ndata_dir = "data"\n')
    config = load_config(path, environ={"HOTLINE_WEB_PORT": "9100"})
    assert config.web.port == 9100            # environment beats the file
    assert config.web.host == "127.0.0.2"     # the file beats the defaults
    assert config.paths.data_dir == tmp_path / "data"   # relative to the file
    assert config.database_url == f"sqlite:///{tmp_path / 'data' / 'hotline.db'}"


def test_env_names_the_variable(tmp_path):
    path = write(tmp_path, "")
    with pytest.raises(ConfigError) as err:
        load_config(path, environ={"HOTLINE_WEB_PORT": "eighty"})
    assert "HOTLINE_WEB_PORT" in str(err.value) and "web.port" in str(err.value)


def test_bad_value_names_key_file_and_expectation(tmp_path):
    path = write(tmp_path, "[freeswitch]\nesl_port = 70000\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, environ={})
    text = str(err.value)
    assert str(path) in text and "freeswitch.esl_port" in text and "65535" in text


def test_unknown_key_lists_the_known_ones(tmp_path):
    path = write(tmp_path, "[web]\nprot = 1\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, environ={})
    assert "unknown key 'web.prot'" in str(err.value) and "port" in str(err.value)


@pytest.mark.parametrize("url, expected", [
    ("mysql://localhost/x", "sqlite:/// or postgresql://"),
    ("postgresql://localhost", "DBNAME"),
    ("postgresql://u@localhost:port/db", "port"),
    ("sqlite://", "file path"),
])
def test_database_url_checked(tmp_path, url, expected):
    path = write(tmp_path, f'[database]\nurl = "{url}"\n')
    with pytest.raises(ConfigError) as err:
        load_config(path, environ={})
    assert "database.url" in str(err.value) and expected in str(err.value)


def test_toml_syntax_error_names_file(tmp_path):
    path = write(tmp_path, "[web\nport = 1\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, environ={})
    assert str(path) in str(err.value) and "TOML syntax error" in str(err.value)


def test_explicit_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml", environ={})
    with pytest.raises(ConfigError, match="not found"):
        load_config(environ={"HOTLINE_CONFIG": str(tmp_path / "nope.toml")})
