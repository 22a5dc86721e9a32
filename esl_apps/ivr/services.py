"""What verbs ask of the outside world: lookups, business hours, the clock."""
import contextlib
import datetime
import decimal
import json
import logging
import urllib.error
import urllib.request

log = logging.getLogger(__name__)


class LookupFailed(Exception):
    pass


def _text(value) -> str:
    """A column value as call data. Numbers lose trailing zeros (1234.50 -> 1234.5,
    100.00 -> 100), so SQLite (floats) and PostgreSQL (decimals) give the same text."""
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, float) and value == value and abs(value) != float("inf"):
        value = decimal.Decimal(repr(value))
    if isinstance(value, decimal.Decimal):
        value = value.normalize()
        return format(value if value != 0 else decimal.Decimal(0), "f")
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return "" if value is None else str(value)


def flatten(document, prefix="") -> dict:
    """A JSON object as flat call data: {"bill": {"due": 1}} -> {"bill_due": "1"}."""
    out = {}
    for key, value in document.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "_"))
        elif not isinstance(value, list):
            out[name] = _text(value)
    return out


class IvrServices:
    def __init__(self, database=None, hours=None, clock=None, http_open=None):
        self.database = database
        self.hours = hours
        self.clock = clock or (lambda: datetime.datetime.now(datetime.timezone.utc))
        self.http_open = http_open or urllib.request.urlopen

    def now(self):
        return self.clock()

    def is_open(self, schedule: str) -> bool:
        if self.hours is None:
            raise LookupFailed("no business-hours service")
        with self._connected():
            return self.hours.is_open(schedule, self.now())

    def _connected(self):
        """A connection for this greenlet, closed after (gevent: one per call)."""
        if self.database is None or not self.database.is_closed():
            return contextlib.nullcontext()
        return self.database.connection_context()

    def lookup_sql(self, query: str, params: list) -> dict | None:
        """The first row of a SELECT as {column: text}, or None. `?` placeholders."""
        if self.database is None:
            raise LookupFailed("no database")
        query = query.strip().rstrip(";")
        if self.database.param != "?":
            query = query.replace("?", self.database.param)
        with self._connected():
            cursor = self.database.execute_sql(query, params)
            row = cursor.fetchone()
            names = [column[0] for column in cursor.description or ()]
        if row is None:
            return None
        return {name: _text(value) for name, value in zip(names, row)}

    def lookup_http(self, url: str, timeout: float) -> dict | None:
        """GET a JSON object; 404 means not found."""
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        try:
            with self.http_open(request, timeout=timeout) as response:
                body = response.read(1_000_000)
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise LookupFailed(f"HTTP {exc.code} from {url}") from None
        document = json.loads(body)
        if isinstance(document, list):
            document = document[0] if document else None
        if document is None:
            return None
        if not isinstance(document, dict):
            raise LookupFailed(f"{url} did not return a JSON object")
        return flatten(document)
