"""Browser tests: Playwright driving Debian's chromium (apt-get install chromium),
never a browser Playwright downloads. The panel runs in a thread (werkzeug) on
127.0.0.1 over a fresh SQLite database."""
import threading
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives Debian's chromium with Playwright "
                                       "(skipped when /usr/bin/chromium is missing)")


def _skip_reason():
    if not CHROMIUM.exists():
        return ("Debian's chromium is not installed (/usr/bin/chromium; "
                "apt-get install chromium, as packaging/test-all does)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    return None


def pytest_collection_modifyitems(config, items):
    reason = _skip_reason()
    if reason is None:
        return
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                             args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def live_panel(tmp_path):
    """(base URL, admin password) of a panel serving a fresh database."""
    from werkzeug.serving import make_server

    from db import migrate
    from db.connect import bind, open_database
    from tests.webpanel import PASSWORD, add_user, make_app

    database = bind(open_database(f"sqlite:///{tmp_path / 'hotline.db'}"))
    migrate.upgrade(database)
    add_user("admin", "admin", display_name="Administrator")
    database.close()
    server = make_server("127.0.0.1", 0, make_app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", PASSWORD
    server.shutdown()
    thread.join(10)
    database.close()
