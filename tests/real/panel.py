"""A signed-in session on the web panel, for real-tier tests that drive the desk
without a browser (urllib, a cookie jar, the page's CSRF token)."""
import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request


class Panel:
    """One signed-in browser session on the panel, without a browser."""

    def __init__(self, port, username, password):
        self.base = f"http://127.0.0.1:{port}"
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        token = self.token(self.open("/login")[1])
        status, _ = self.open("/login", {"username": username, "password": password,
                                         "csrf_token": token})
        status, page = self.open("/desk")
        assert status == 200 and 'id="desk"' in page, page[:500]
        self.csrf = self.token(page)

    @staticmethod
    def token(html):
        match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
        assert match, "no CSRF token"
        return match.group(1)

    def open(self, path, form=None, accept="text/html"):
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(self.base + path, data=data,
                                         headers={"Accept": accept, "Accept-Language": "en"})
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def control(self, action, leg, **form):
        status, body = self.open("/desk/call", {"action": action, "leg": leg,
                                                "csrf_token": self.csrf, **form},
                                 accept="application/json")
        return status, json.loads(body)

    def leg_of(self, call_uuid):
        status, body = self.open(f"/desk/call?call={call_uuid}", accept="application/json")
        assert status == 200, body
        return json.loads(body)["leg"]
