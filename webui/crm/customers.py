"""Customers: the list with search, one customer's page, create and edit.

Search takes one box: a phone number in any format ("138 0013 8000",
"+86 138...", "010-6552 9988") is turned into E.164 and found through
CustomerPhone; otherwise the words are looked for in the name, the account number
(户号), the address, the region and the community; four or more digits also match
inside the stored numbers (the last digits of a number).
"""
import json
import re

import peewee
from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from db.models import CallRecord, Customer, CustomerPhone, database, utcnow
from db.phone import PhoneNumberError, to_e164, try_e164
from webui import audit
from webui.access import role_required
from webui.crm import bp
from webui.crm.calls import visible_calls
from webui.crm.common import Page, display_number, local_time, page_number

CUSTOMER_ROLES = ("agent", "supervisor", "admin")
DIGITS = re.compile(r"^[\d\s\-+()]+$")
FIELD_LINE = re.compile(r"^\s*([^:：=]+?)\s*[:：=]\s*(.*?)\s*$")


class CustomerForm(FlaskForm):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=128)])
    account_no = StringField(_l("Account number"), validators=[Optional(), Length(max=64)])
    region = StringField(_l("District"), validators=[Optional(), Length(max=64)])
    community = StringField(_l("Community"), validators=[Optional(), Length(max=64)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=255)])
    phones = TextAreaField(_l("Phone numbers"), validators=[Optional(), Length(max=2000)])
    custom_fields = TextAreaField(_l("Custom fields"),
                                  validators=[Optional(), Length(max=8000)])
    remark = TextAreaField(_l("Remark"), validators=[Optional(), Length(max=4000)])


def parse_phones(text: str) -> tuple[list[tuple[str, str]], list[str]]:
    """One number per line, optionally 'number, label': ([(e164, label)], [bad lines])."""
    found, bad = [], []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        parts = re.split(r"[,，]", line, maxsplit=1)
        number, label = parts[0], (parts[1] if len(parts) > 1 else "")
        try:
            e164 = to_e164(number)
        except PhoneNumberError:
            bad.append(number.strip())
            continue
        if e164 not in [e for e, _l in found]:
            found.append((e164, label.strip()[:32]))
    return found, bad


def parse_custom_fields(text: str) -> tuple[dict, list[str]]:
    """'key: value' per line (or a JSON object): (fields, bad lines)."""
    text = (text or "").strip()
    if not text:
        return {}, []
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except ValueError:
            return {}, [text[:40]]
        if not isinstance(value, dict):
            return {}, [text[:40]]
        return {str(k).strip(): "" if v is None else str(v) for k, v in value.items()
                if str(k).strip()}, []
    fields, bad = {}, []
    for line in text.splitlines():
        if not line.strip():
            continue
        match = FIELD_LINE.match(line)
        if match is None or not match.group(1):
            bad.append(line.strip()[:40])
            continue
        fields[match.group(1)[:64]] = match.group(2)
    return fields, bad


def custom_fields_text(fields: dict) -> str:
    return "\n".join(f"{key}: {value}" for key, value in (fields or {}).items())


def search(query: str, region: str = ""):
    """Customers matching the search box (see the module's docstring)."""
    customers = Customer.select()
    query = (query or "").strip()
    if query:
        e164 = try_e164(query) if DIGITS.match(query) else None
        if e164 is not None:
            matched = CustomerPhone.select(CustomerPhone.customer).where(
                CustomerPhone.e164 == e164)
            customers = customers.where(Customer.id.in_(matched))
        else:
            condition = None
            for word in query.split():
                word_match = (Customer.name.contains(word)
                              | Customer.address.contains(word)
                              | Customer.account_no.contains(word)
                              | Customer.region.contains(word)
                              | Customer.community.contains(word))
                digits = re.sub(r"\D", "", word)
                if len(digits) >= 4 and digits == re.sub(r"[\s\-+()]", "", word):
                    word_match |= Customer.id.in_(CustomerPhone.select(
                        CustomerPhone.customer).where(CustomerPhone.e164.contains(digits)))
                condition = word_match if condition is None else condition & word_match
            customers = customers.where(condition)
    if region:
        customers = customers.where(Customer.region == region)
    return customers.order_by(Customer.name, Customer.id)


def phones_of(customers) -> dict[int, list]:
    """{customer id: [CustomerPhone]} in one query (no N+1)."""
    ids = [c.id for c in customers]
    out = {i: [] for i in ids}
    if ids:
        for phone in CustomerPhone.select().where(CustomerPhone.customer.in_(ids)) \
                .order_by(CustomerPhone.id):
            out[phone.customer_id].append(phone)
    return out


def _regions():
    return [r.region for r in Customer.select(Customer.region).distinct()
            .where(Customer.region != "").order_by(Customer.region)]


def _communities():
    return [r.community for r in Customer.select(Customer.community).distinct()
            .where(Customer.community != "").order_by(Customer.community)]


def _customer_or_404(customer_id: int) -> Customer:
    customer = Customer.get_or_none(Customer.id == customer_id)
    if customer is None:
        abort(404)
    return customer


@bp.app_template_filter("phone")
def _phone_filter(e164):
    return display_number(e164 or "")


@bp.app_template_filter("local_time")
def _local_time_filter(value):
    return local_time(value)


@bp.get("/customers")
@role_required(*CUSTOMER_ROLES)
def customers():
    query = request.args.get("q", "")
    region = request.args.get("region", "")
    page = Page(search(query, region), page_number())
    return render_template("crm/customers.html", page=page, q=query, region=region,
                           regions=_regions(), phones=phones_of(page.items))


@bp.get("/customers/<int:customer_id>")
@role_required(*CUSTOMER_ROLES)
def customer(customer_id):
    record = _customer_or_404(customer_id)
    calls = list(visible_calls().where(CallRecord.customer == record.id)
                 .order_by(CallRecord.start_at.desc()).limit(10))
    phones = list(record.phones.order_by(CustomerPhone.id))
    return render_template("crm/customer.html", customer=record, phones=phones, calls=calls)


def _form_page(form, customer=None, status=200):
    return render_template("crm/customer_form.html", form=form, customer=customer,
                           regions=_regions(), communities=_communities()), status


@bp.get("/customers/new")
@role_required(*CUSTOMER_ROLES)
def new_customer():
    """The empty form; ?phone= prefills a number (the desk's unknown caller)."""
    form = CustomerForm(formdata=None)
    number = try_e164(request.args.get("phone", ""))
    if number:
        form.phones.data = number
    return _form_page(form)


@bp.get("/customers/<int:customer_id>/edit")
@role_required(*CUSTOMER_ROLES)
def edit_customer(customer_id):
    record = _customer_or_404(customer_id)
    form = CustomerForm(formdata=None, obj=record)
    form.phones.data = "\n".join(
        display_number(p.e164) + (f", {p.label}" if p.label else "")
        for p in record.phones.order_by(CustomerPhone.id))
    form.custom_fields.data = custom_fields_text(record.custom_fields)
    form.account_no.data = record.account_no or ""
    return _form_page(form, record)


def _validate(form, customer=None):
    """(phones, custom fields) when the form is good, else None (errors on the form)."""
    ok = form.validate_on_submit()
    phones, bad = parse_phones(form.phones.data)
    for number in bad:
        form.phones.errors.append(_("%(number)s is not a valid phone number.",
                                    number=number))
    fields, bad_fields = parse_custom_fields(form.custom_fields.data)
    for line in bad_fields:
        form.custom_fields.errors.append(
            _("Write one field per line as name: value (or a JSON object): %(line)s",
              line=line))
    if phones:
        taken = (CustomerPhone.select(CustomerPhone.e164, Customer.name, Customer.id)
                 .join(Customer).where(CustomerPhone.e164.in_([e for e, _l in phones])))
        if customer is not None:
            taken = taken.where(Customer.id != customer.id)
        for phone in taken:
            form.phones.errors.append(
                _("%(number)s already belongs to %(name)s.",
                  number=display_number(phone.e164), name=phone.customer.name))
    account = (form.account_no.data or "").strip()
    if account:
        other = Customer.select().where(Customer.account_no == account)
        if customer is not None:
            other = other.where(Customer.id != customer.id)
        other = other.first()
        if other is not None:
            form.account_no.errors = list(form.account_no.errors) + [
                _("Account number %(account)s already belongs to %(name)s.",
                  account=account, name=other.name)]
    if not ok or any(f.errors for f in form):
        return None
    return phones, fields


def _save(form, customer, phones, fields):
    values = {"name": form.name.data.strip(),
              "account_no": (form.account_no.data or "").strip() or None,
              "region": (form.region.data or "").strip(),
              "community": (form.community.data or "").strip(),
              "address": (form.address.data or "").strip(),
              "remark": form.remark.data or "",
              "custom_fields": fields, "updated_at": utcnow()}
    with database.atomic():
        if customer is None:
            customer = Customer.create(**values)
        else:
            Customer.update(**values).where(Customer.id == customer.id).execute()
        wanted = dict(phones)
        existing = {p.e164: p for p in CustomerPhone.select()
                    .where(CustomerPhone.customer == customer.id)}
        gone = [p.id for e, p in existing.items() if e not in wanted]
        if gone:
            CustomerPhone.delete().where(CustomerPhone.id.in_(gone)).execute()
        for e164, label in phones:
            if e164 in existing:
                if existing[e164].label != label:
                    CustomerPhone.update(label=label).where(
                        CustomerPhone.id == existing[e164].id).execute()
            else:
                CustomerPhone.create(customer=customer.id, e164=e164, label=label)
    return customer


@bp.post("/customers")
@role_required(*CUSTOMER_ROLES)
def create_customer():
    form = CustomerForm()
    checked = _validate(form)
    if checked is None:
        return _form_page(form, status=400)
    try:
        record = _save(form, None, *checked)
    except peewee.IntegrityError:   # a concurrent save took the account number
        form.account_no.errors = [_("This account number is already taken.")]
        return _form_page(form, status=409)
    audit.record("customer.create", object_type="customer", object_id=record.id,
                 detail={"name": record.name})
    return redirect(url_for("crm.customer", customer_id=record.id))


@bp.post("/customers/<int:customer_id>")
@role_required(*CUSTOMER_ROLES)
def update_customer(customer_id):
    record = _customer_or_404(customer_id)
    form = CustomerForm()
    checked = _validate(form, record)
    if checked is None:
        return _form_page(form, record, status=400)
    try:
        _save(form, record, *checked)
    except peewee.IntegrityError:
        form.account_no.errors = [_("This account number is already taken.")]
        return _form_page(form, record, status=409)
    audit.record("customer.update", object_type="customer", object_id=record.id,
                 detail={"name": form.name.data.strip()})
    return redirect(url_for("crm.customer", customer_id=record.id))
