"""Where the data directories (freeswitch/, dialplan/, ivr_flows/) live.

A checkout has them beside setup.py; an installed copy has them under
<prefix>/share/hotline, where setup.py's data_files put them. The prefix is
found from this package's own location (<prefix>/lib/pythonX.Y/site-packages/
esl_apps), so a venv, /usr/local, /usr and `pip install --prefix` all work.
"""
import os
import sys
from pathlib import Path

DATA_DIRS = ("freeswitch", "dialplan", "ivr_flows")


def _candidates():
    if os.environ.get("HOTLINE_SHARE_DIR"):
        yield Path(os.environ["HOTLINE_SHARE_DIR"])
    package = Path(__file__).resolve().parent
    checkout = package.parent
    if (checkout / "setup.py").is_file():
        yield checkout
    yield package.parents[3] / "share" / "hotline"
    yield Path(sys.prefix) / "share" / "hotline"
    yield Path("/usr/share/hotline")


def share_dir() -> Path:
    """The first directory that holds all of freeswitch/, dialplan/ and ivr_flows/."""
    tried = []
    for candidate in _candidates():
        if all((candidate / name).is_dir() for name in DATA_DIRS):
            return candidate
        tried.append(str(candidate))
    raise FileNotFoundError("Hotline's data directories were not found; looked in: "
                            + ", ".join(tried))


def data_dir(name: str) -> Path:
    if name not in DATA_DIRS:
        raise ValueError(f"unknown data directory {name!r}")
    return share_dir() / name
