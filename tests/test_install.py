"""`pip install .` (not editable) gives a `hotline` that finds its data directories."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_installed_copy_finds_its_data(tmp_path):
    prefix = tmp_path / "prefix"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation",
         "--no-index", "--ignore-installed", "--prefix", str(prefix), str(ROOT)],
        capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert build.returncode == 0, build.stderr
    site = next(prefix.glob("lib/python*/site-packages"))
    assert (prefix / "bin" / "hotline").is_file()
    for name in ("freeswitch", "dialplan", "ivr_flows"):
        assert (prefix / "share" / "hotline" / name).is_dir()
    env = dict(os.environ, PYTHONPATH=str(site))
    env.pop("HOTLINE_SHARE_DIR", None)
    probe = subprocess.run(
        [sys.executable, "-c",
         "import esl_apps, esl_apps.paths as p; print(esl_apps.__file__); print(p.share_dir())"],
        capture_output=True, text=True, env=env, cwd=tmp_path)
    assert probe.returncode == 0, probe.stderr
    package_file, share = probe.stdout.split()
    assert package_file.startswith(str(site))     # the installed copy, not the checkout
    assert share == str(prefix / "share" / "hotline")


def test_checkout_finds_its_data():
    from esl_apps.paths import share_dir
    assert share_dir() == ROOT
