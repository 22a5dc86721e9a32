"""Browser tests: Playwright driving Debian's chromium (apt-get install chromium),
never a browser Playwright downloads. The panel runs in a thread (werkzeug) on
127.0.0.1 over a fresh SQLite database."""
import threading
import time
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


LOGIN_LABELS = {"en": ("User name", "Password", "Sign in"), "zh": ("用户名", "密码", "登录")}


@pytest.fixture
def panel_db(tmp_path):
    """A fresh, migrated SQLite database bound for the test (closed after it)."""
    from db import migrate
    from db.connect import bind, open_database

    database = bind(open_database(f"sqlite:///{tmp_path / 'hotline.db'}"))
    migrate.upgrade(database)
    yield database
    database.close()


@pytest.fixture
def serve(panel_db):
    """serve(app) runs the app in a thread (werkzeug) on 127.0.0.1 and returns its base
    URL; the server stops after the test, before the database closes."""
    from werkzeug.serving import make_server

    servers = []

    def start(app):
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server, thread in servers:
        server.shutdown()
        thread.join(10)


@pytest.fixture
def live_panel(panel_db, serve):
    """(base URL, admin password) of a panel serving a fresh database."""
    from tests.webpanel import PASSWORD, add_user, make_app

    add_user("admin", "admin", display_name="Administrator")
    return serve(make_app()), PASSWORD


def add_agent(username="li.na", extension="1001", display_name="Li Na"):
    """A web user with the agent role and the agent (extension) that is theirs."""
    from db.models import Agent
    from tests.webpanel import add_user

    user = add_user(username, "agent", display_name=display_name)
    Agent.create(user=user, extension=extension, display_name=display_name,
                 sip_password="x" * 16)
    return user


def open_page(browser, problems, *, ignore_failed_loads=False, **options):
    """(context, page) in English that adds script errors and console errors (CSP
    violations among them) to `problems`; `ignore_failed_loads` leaves out the
    console's "Failed to load resource" lines."""
    context = browser.new_context(locale=options.pop("locale", "en-US"), **options)
    page = context.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" and not (
        ignore_failed_loads and m.text.startswith("Failed to load resource")) else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return context, page


def sign_in(page, base, user, password, next_path="/desk", language="en"):
    """Sign in through the login page (the one the page is on, else /login?next=) and
    check the browser lands on `next_path`."""
    name_label, password_label, button = LOGIN_LABELS[language]
    if not page.url.startswith(f"{base}/login"):
        page.goto(f"{base}/login?next={next_path}" if next_path != "/" else f"{base}/login")
    page.get_by_label(name_label).fill(user)
    page.get_by_label(password_label).fill(password)
    page.get_by_role("button", name=button).click()
    assert page.url == f"{base}{next_path}"


def wait_until(condition, seconds=5.0):
    """True once condition() is, False after `seconds`."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return False
