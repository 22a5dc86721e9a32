"""Customer import from CSV or XLSX: all rows or none.

``read_table`` turns the uploaded bytes into rows (CSV in UTF-8, with or without
a BOM, or GB18030 as Chinese Excel saves it; XLSX through openpyxl, first sheet).
``check_rows`` validates every row against the others and the database and
returns the customers to write and every problem found, each as
``RowError(row, code, params)``: the row number as a spreadsheet shows it (the
header is row 1) and a code the page turns into a sentence in the reader's
language (the job runs outside any request, so no text is translated here).
``ImportJob.run`` does both in a background thread (a greenlet under
``hotline run``), writing all customers in one transaction only when no row
is bad; the panel polls ``ImportJob.snapshot`` for the progress bar.
"""
import csv
import datetime
import io
import logging
import re
import secrets
import threading
import time
from dataclasses import dataclass, field

from db.models import AuditLog, Customer, CustomerPhone, database, utcnow
from db.phone import PhoneNumberError, to_e164

log = logging.getLogger(__name__)

MAX_ROWS = 50_000
YIELD_EVERY = 200          # rows between cooperative yields (gevent) / progress updates
JOB_TTL = 3600             # seconds a finished job's result stays readable

# Column headers understood, English or Chinese; any other column is a custom field.
COLUMNS = {
    "name": ("name", "姓名", "客户名称", "户名", "名称", "客户姓名"),
    "phones": ("phone", "phones", "电话", "手机", "联系电话", "电话号码", "手机号"),
    "account_no": ("account_no", "account", "户号", "用户编号", "客户编号"),
    "region": ("region", "区", "区域", "行政区", "所属区"),
    "community": ("community", "社区", "小区", "小区/社区", "社区/小区"),
    "address": ("address", "地址", "住址", "详细地址"),
    "remark": ("remark", "备注"),
}
HEADER_TO_FIELD = {alias.casefold(): name for name, aliases in COLUMNS.items()
                   for alias in aliases}
MAX_LENGTH = {"name": 128, "account_no": 64, "region": 64, "community": 64,
              "address": 255}
PHONE_SPLIT = re.compile(r"[;,；，/、\n]+")
TEMPLATE_HEADER = ["姓名", "电话", "户号", "区", "社区", "地址", "备注", "表号"]
TEMPLATE_ROWS = [
    ["张伟", "138 0013 8000; 010-6552 9988", "20481357", "朝阳区", "望京社区",
     "望京西园三区 312 号楼 2 单元 501", "", "M-0091"],
    ["李娜", "+86 139 1000 2000", "20481358", "海淀区", "学院路社区",
     "学院路 30 号 5 号楼 1203", "独居老人", ""],
]


class TableError(ValueError):
    """The file as a whole cannot be read; ``code`` names why."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class RowError:
    row: int       # as a spreadsheet numbers it: the header is row 1
    code: str      # missing_name, bad_phone, duplicate_phone_in_file, ...
    params: dict = field(default_factory=dict)


@dataclass
class CustomerRow:
    row: int
    values: dict
    phones: list          # E.164, in file order, no duplicates
    custom_fields: dict


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))   # a phone or account number Excel stored as a number
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return str(value).strip()


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TableError("bad_encoding")


def read_table(data: bytes, filename: str) -> list[list[str]]:
    """The file's rows as lists of trimmed strings, header first."""
    name = (filename or "").lower()
    if name.endswith(".xlsx") or data[:4] == b"PK\x03\x04":
        return _read_xlsx(data)
    if name.endswith((".csv", ".txt")) or not name:
        text = _decode(data)
        try:
            return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]
        except csv.Error as exc:
            raise TableError("bad_csv", detail=str(exc)) from None
    raise TableError("bad_format")


def _read_xlsx(data: bytes) -> list[list[str]]:
    import openpyxl
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001  (zipfile, XML and openpyxl errors alike)
        raise TableError("bad_xlsx", detail=type(exc).__name__) from None
    try:
        sheet = book.worksheets[0]
        return [[_cell(c) for c in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def template_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(TEMPLATE_HEADER)
    writer.writerows(TEMPLATE_ROWS)
    return out.getvalue().encode("utf-8-sig")   # the BOM makes Excel read UTF-8


def template_xlsx() -> bytes:
    import openpyxl
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "customers"
    sheet.append(TEMPLATE_HEADER)
    for row in TEMPLATE_ROWS:
        sheet.append(row)
    for column in ("B", "C"):   # phone and account numbers as text, never as numbers
        for cell in sheet[column]:
            cell.number_format = "@"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def split_phones(text: str) -> list[str]:
    return [p.strip() for p in PHONE_SPLIT.split(text or "") if p.strip()]


def parse_rows(table: list[list[str]], progress=None):
    """(rows, errors) from a table whose first non-empty row is the header; checks
    each row on its own and against the file (not the database)."""
    while table and not any(table[0]):
        table = table[1:]
    if not table:
        raise TableError("empty")
    header = [h.strip().casefold() for h in table[0]]
    columns = {}
    extra = {}
    for index, title in enumerate(header):
        if not title:
            continue
        name = HEADER_TO_FIELD.get(title)
        if name is None:
            extra[index] = table[0][index].strip()
        elif name in columns:
            raise TableError("duplicate_column", column=table[0][index].strip())
        else:
            columns[name] = index
    if "name" not in columns:
        raise TableError("no_name_column")
    data_rows = len(table) - 1
    if data_rows > MAX_ROWS:
        raise TableError("too_many_rows", limit=MAX_ROWS)

    rows, errors = [], []
    seen_phone: dict[str, int] = {}
    seen_account: dict[str, int] = {}
    for offset, raw in enumerate(table[1:], start=2):
        if progress is not None and offset % YIELD_EVERY == 0:
            progress(offset - 1)
        if not any(raw):
            continue  # blank lines are not customers

        def get(name, raw=raw):
            index = columns.get(name)
            return raw[index].strip() if index is not None and index < len(raw) else ""

        values = {name: get(name) for name in COLUMNS if name != "phones"}
        row_errors = []
        if not values["name"]:
            row_errors.append(RowError(offset, "missing_name"))
        for name, limit in MAX_LENGTH.items():
            if len(values[name]) > limit:
                row_errors.append(RowError(offset, "too_long",
                                           {"field": name, "limit": limit}))
        phones = []
        for text in split_phones(get("phones")):
            try:
                number = to_e164(text)
            except PhoneNumberError:
                row_errors.append(RowError(offset, "bad_phone", {"number": text}))
                continue
            if number in phones:
                continue  # the same number twice in one row: keep it once
            if number in seen_phone:
                row_errors.append(RowError(offset, "duplicate_phone_in_file",
                                           {"number": text, "other": seen_phone[number]}))
                continue
            seen_phone[number] = offset
            phones.append(number)
        account = values["account_no"]
        if account:
            if account in seen_account:
                row_errors.append(RowError(offset, "duplicate_account_in_file",
                                           {"account": account,
                                            "other": seen_account[account]}))
            else:
                seen_account[account] = offset
        custom = {title: raw[index].strip() for index, title in extra.items()
                  if index < len(raw) and raw[index].strip()}
        errors.extend(row_errors)
        rows.append(CustomerRow(offset, values, phones, custom))
    return rows, errors


def _chunks(items, size=500):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]


def check_existing(rows: list[CustomerRow]) -> list[RowError]:
    """Numbers and account numbers the database already gives to a customer."""
    errors = []
    by_phone = {p: r.row for r in rows for p in r.phones}
    for chunk in _chunks(by_phone):
        query = (CustomerPhone.select(CustomerPhone.e164, Customer.id, Customer.name)
                 .join(Customer).where(CustomerPhone.e164.in_(chunk)))
        for phone in query:
            errors.append(RowError(by_phone[phone.e164], "duplicate_phone_existing",
                                   {"number": phone.e164, "customer": phone.customer.name,
                                    "customer_id": phone.customer.id}))
    by_account = {r.values["account_no"]: r.row for r in rows if r.values["account_no"]}
    for chunk in _chunks(by_account):
        for customer in Customer.select(Customer.id, Customer.name, Customer.account_no) \
                .where(Customer.account_no.in_(chunk)):
            errors.append(RowError(by_account[customer.account_no],
                                   "duplicate_account_existing",
                                   {"account": customer.account_no, "customer": customer.name,
                                    "customer_id": customer.id}))
    return errors


class _Rollback(Exception):
    pass


@dataclass
class ImportJob:
    owner_id: int
    owner_name: str
    filename: str
    data: bytes = field(repr=False)
    id: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    state: str = "queued"      # queued, checking, importing, done, failed
    total: int = 0
    checked: int = 0
    imported: int = 0
    errors: list = field(default_factory=list)     # RowError
    file_error: TableError | None = None
    created: float = field(default_factory=time.monotonic)
    finished: float | None = None

    def snapshot(self) -> dict:
        done = self.state in ("done", "failed")
        work = 2 * self.total
        percent = 100 if done else (int(100 * (self.checked + self.imported) / work)
                                    if work else 0)
        return {"id": self.id, "state": self.state, "filename": self.filename,
                "total": self.total, "checked": self.checked, "imported": self.imported,
                "percent": percent, "finished": done,
                "errors": [{"row": e.row, "code": e.code, "params": dict(e.params)}
                           for e in sorted(self.errors, key=lambda e: e.row)],
                "file_error": (None if self.file_error is None else
                               {"code": self.file_error.code,
                                "params": dict(self.file_error.params)})}

    # -- the worker ---------------------------------------------------------------
    def run(self):
        """Runs in its own thread or greenlet, with its own database connection."""
        with _RUN_ONE:   # one import at a time: each holds a write transaction
            database.connect(reuse_if_open=True)
            try:
                self._run()
            except Exception:
                log.exception("customer import %s failed", self.id)
                self.file_error = self.file_error or TableError("internal")
                self.state = "failed"
            finally:
                self.data = b""
                self.finished = time.monotonic()
                self._audit()
                if not database.is_closed():
                    database.close()

    def _progress(self, checked):
        self.checked = checked
        time.sleep(0)   # let other greenlets run (the desk's screen pops)

    def _run(self):
        self.state = "checking"
        try:
            table = read_table(self.data, self.filename)
            self.total = max(0, len([r for r in table if any(r)]) - 1)
            rows, errors = parse_rows(table, progress=self._progress)
        except TableError as exc:
            self.file_error = exc
            self.state = "failed"
            return
        self.total = len(rows)
        if not rows and not errors:
            self.file_error = TableError("no_rows")
            self.state = "failed"
            return
        try:
            with database.atomic():
                errors += check_existing(rows)
                self.checked = self.total
                if errors:
                    self.errors = errors
                    raise _Rollback
                self.state = "importing"
                now = utcnow()
                for count, row in enumerate(rows, start=1):
                    customer = Customer.create(
                        name=row.values["name"], address=row.values["address"],
                        region=row.values["region"], community=row.values["community"],
                        account_no=row.values["account_no"] or None,
                        remark=row.values["remark"], custom_fields=row.custom_fields,
                        created_at=now, updated_at=now)
                    if row.phones:
                        CustomerPhone.insert_many(
                            [{"customer": customer.id, "e164": p} for p in row.phones]
                        ).execute()
                    self.imported = count
                    if count % YIELD_EVERY == 0:
                        time.sleep(0)
        except _Rollback:
            self.imported = 0
            self.state = "failed"
            return
        self.state = "done"

    def _audit(self):
        try:
            AuditLog.create(user=self.owner_id, actor=self.owner_name[:64],
                            action="customer.import." + self.state,
                            object_type="import", object_id=self.id,
                            detail={"file": self.filename[:255], "rows": self.total,
                                    "imported": self.imported, "errors": len(self.errors)})
        except Exception:
            log.exception("customer import %s: audit record not written", self.id)


_RUN_ONE = threading.Lock()
_JOBS: dict[str, ImportJob] = {}
_JOBS_LOCK = threading.Lock()


def start(job: ImportJob, background: bool = True) -> ImportJob:
    with _JOBS_LOCK:
        now = time.monotonic()
        for key in [k for k, j in _JOBS.items()
                    if j.finished is not None and now - j.finished > JOB_TTL]:
            del _JOBS[key]
        _JOBS[job.id] = job
    if background:
        threading.Thread(target=job.run, name=f"import-{job.id}", daemon=True).start()
    else:
        job.run()
    return job


def get(job_id: str) -> ImportJob | None:
    with _JOBS_LOCK:
        return _JOBS.get(job_id)
