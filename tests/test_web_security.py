"""Response headers (a strict Content-Security-Policy on every response) and the
templates' part of it: no inline script, style or event handler, and every script or
stylesheet from this panel's own static files (vendored, never a CDN)."""
import re
from pathlib import Path

import pytest

from tests.webpanel import add_user, make_app, sign_in_session
from webui import CONTENT_SECURITY_POLICY

WEBUI = Path(__file__).parent.parent / "webui"
TEMPLATES = sorted((WEBUI / "templates").rglob("*.html"))
VENDOR = WEBUI / "static" / "vendor"
REQUIRED_CSP = ["default-src 'self'", "script-src 'self'", "style-src 'self'",
                "object-src 'none'", "frame-ancestors 'none'", "base-uri 'self'",
                "form-action 'self'"]


def test_the_policy_is_strict():
    directives = [d.strip() for d in CONTENT_SECURITY_POLICY.split(";")]
    for required in REQUIRED_CSP:
        assert required in directives
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert "unsafe-eval" not in CONTENT_SECURITY_POLICY


@pytest.mark.parametrize("path, method, signed_in", [
    ("/healthz", "GET", False), ("/api/cdr", "POST", False), ("/login", "GET", False),
    ("/", "GET", False), ("/static/hotline.css", "GET", False),
    ("/no-such-page", "GET", False), ("/admin/users", "GET", True),
    ("/admin/users", "POST", True), ("/", "GET", True)])
def test_every_response_carries_the_security_headers(db, path, method, signed_in):
    client = make_app().test_client()
    if signed_in:
        sign_in_session(client, add_user("admin", "admin"))
    response = client.open(path, method=method)
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    if not path.startswith("/static/"):
        assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_templates_have_no_inline_code(template):
    text = template.read_text()
    for tag in re.findall(r"<script\b[^>]*>", text):
        assert "src=" in tag, f"inline <script> in {template.name}: {tag}"
    assert not re.search(r"<script\b[^>]*>\s*[^<\s]", text), f"script body in {template.name}"
    assert "<style" not in text, f"<style> in {template.name}"
    assert not re.search(r"\sstyle\s*=", text), f"style= attribute in {template.name}"
    assert not re.search(r"\son[a-z]+\s*=", text), f"event handler attribute in {template.name}"
    assert "javascript:" not in text


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_templates_load_only_local_files(template):
    text = template.read_text()
    for attr, url in re.findall(r"\b(src|href)\s*=\s*[\"']([^\"']*)", text):
        assert not re.match(r"^(https?:)?//", url), f"{template.name}: {attr}={url}"


def test_the_pages_load_the_vendored_libraries(db):
    client = make_app().test_client()
    html = client.get("/login").text
    scripts = re.findall(r'<script [^>]*src="([^"]+)"', html)
    assert scripts == ["/static/vendor/htmx-2.0.11.min.js",
                       "/static/vendor/alpinejs-csp-3.17.4.min.js"]
    for src in scripts:
        response = client.get(src)
        assert response.status_code == 200 and len(response.data) > 10000
        response.close()


def test_vendored_files_come_with_licenses_and_a_readme():
    names = {p.name for p in VENDOR.iterdir()}
    assert {"LICENSE-htmx.txt", "LICENSE-alpinejs.txt", "README.md"} <= names
    readme = (VENDOR / "README.md").read_text()
    for name in names - {"README.md"}:
        assert name in readme, f"{name} is not described in static/vendor/README.md"
