"""Field types that behave the same on SQLite and PostgreSQL."""
import json

from peewee import TextField


class JSONField(TextField):
    """JSON kept as text: portable, and readable with plain SQL on both databases."""

    def db_value(self, value):
        if value is None:
            return None
        return json.dumps(value, ensure_ascii=False, sort_keys=True)

    def python_value(self, value):
        if value is None:
            return None
        return json.loads(value)
