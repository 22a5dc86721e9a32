"""Helpers shared by the CRM pages: numbers and times as people read them, paging."""
import datetime
import math
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from flask import current_app, request

PAGE_SIZE = 50


def display_number(e164: str) -> str:
    """'+8613800138000' -> '138 0013 8000' (national format for Chinese numbers)."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if number.country_code == 86:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def zone() -> ZoneInfo:
    config = current_app.config.get("HOTLINE_CONFIG")
    try:
        return ZoneInfo(config.locale.timezone if config is not None else "Asia/Shanghai")
    except (ValueError, ZoneInfoNotFoundError):
        return ZoneInfo("Asia/Shanghai")


def local_time(value: datetime.datetime | None) -> str:
    """A stored (naive UTC) time in the appliance's time zone."""
    if value is None:
        return ""
    aware = value.replace(tzinfo=datetime.UTC).astimezone(zone())
    return aware.strftime("%Y-%m-%d %H:%M:%S")


def utc_bounds(day: datetime.date, end: bool = False) -> datetime.datetime:
    """The naive UTC instant where a local day starts (or, end=True, ends)."""
    if end:
        day = day + datetime.timedelta(days=1)
    start = datetime.datetime.combine(day, datetime.time(), tzinfo=zone())
    return start.astimezone(datetime.UTC).replace(tzinfo=None)


def parse_day(text: str | None) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat((text or "").strip())
    except ValueError:
        return None


def page_number() -> int:
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


class Page:
    """One page of a query, with what the pager needs."""

    def __init__(self, query, number: int, size: int = PAGE_SIZE):
        self.total = query.count()
        self.pages = max(1, math.ceil(self.total / size))
        self.number = min(number, self.pages)
        self.items = list(query.paginate(self.number, size))

    def url_args(self, number: int) -> dict:
        args = request.args.to_dict()
        args["page"] = number
        return args
