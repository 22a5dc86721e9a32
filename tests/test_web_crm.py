"""CRM pages: customer search by each field, create/edit with several numbers and
custom fields, the all-or-nothing import (CSV and XLSX) with its progress endpoint,
and call records with filters and per-record access for agents."""
import datetime
import io
import re
import time

import openpyxl
import pytest

from db.models import Agent, AuditLog, CallRecord, Customer, CustomerPhone
from tests.webpanel import add_user, make_app, sign_in_session
from webui.crm import importer

HEADER = "姓名,电话,户号,区,社区,地址,表号\n"
GOOD = HEADER + (
    "张伟,138 0013 8000; 010-6552 9988,20481357,朝阳区,望京社区,望京西园三区 312 号楼,M-1\n"
    "李娜,+86 139 1000 2000,20481358,海淀区,学院路社区,学院路 30 号,\n"
    "王芳,13700137000,,海淀区,学院路社区,学院路 31 号,M-3\n")


def _client(role, username=None, lang="en"):
    client = make_app(csrf=False).test_client()
    user = add_user(username or f"{role}1", role)
    sign_in_session(client, user)
    with client.session_transaction() as session:
        session["lang"] = lang
    return client, user


def _customer(name, *phones, **fields):
    customer = Customer.create(name=name, **fields)
    for phone in phones:
        CustomerPhone.create(customer=customer, e164=phone)
    return customer


def _import(client, data: bytes, filename: str):
    response = client.post("/crm/import", data={"file": (io.BytesIO(data), filename)},
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.text
    job_id = response.headers["Location"].rsplit("/", 1)[1]
    deadline = time.monotonic() + 20
    while True:
        status = client.get(f"/crm/import/{job_id}/status",
                            headers={"Accept": "application/json"}).get_json()
        if status["finished"] or time.monotonic() > deadline:
            return job_id, status
        time.sleep(0.05)


# -- customers ----------------------------------------------------------------------

@pytest.mark.parametrize("query", [
    "张伟", "张",                       # name
    "138 0013 8000", "+86 138-0013-8000", "13800138000",   # number, any format
    "8000",                              # the last digits of a number
    "望京西园", "望京社区", "朝阳",          # address, community, region
    "20481357",                          # account number (户号)
])
def test_search_finds_the_customer_by_each_field(db, query):
    _customer("张伟", "+8613800138000", address="望京西园三区 312 号楼", region="朝阳区",
              community="望京社区", account_no="20481357")
    _customer("李娜", "+8613910002000", address="学院路 30 号", region="海淀区")
    client, _user = _client("agent")
    html = client.get("/crm/customers", query_string={"q": query}).text
    assert "张伟" in html and "李娜" not in html
    assert "138 0013 8000" in html   # numbers shown as people read them


def test_search_by_region_filter_and_no_match(db):
    _customer("张伟", region="朝阳区")
    _customer("李娜", region="海淀区")
    client, _user = _client("supervisor")
    html = client.get("/crm/customers", query_string={"region": "海淀区"}).text
    assert "李娜" in html and "张伟" not in html
    assert "No customers found." in client.get("/crm/customers?q=nobody").text


def test_create_and_edit_a_customer_with_numbers_and_custom_fields(db):
    client, _user = _client("agent")
    response = client.post("/crm/customers", data={
        "name": "赵敏", "account_no": "A-1", "region": "东城区", "community": "和平里社区",
        "address": "和平里 7 区 3 号", "phones": "139 1000 2000, 手机\n010 6552 9988",
        "custom_fields": "表号: M-77\n楼层: 5", "remark": ""})
    assert response.status_code == 302
    customer = Customer.get(name="赵敏")
    assert customer.custom_fields == {"表号": "M-77", "楼层": "5"}
    assert sorted((p.e164, p.label) for p in customer.phones) == [
        ("+861065529988", ""), ("+8613910002000", "手机")]
    page = client.get(f"/crm/customers/{customer.id}").text
    assert "M-77" in page and "和平里社区" in page
    assert AuditLog.get(action="customer.create").object_id == str(customer.id)

    edit = client.get(f"/crm/customers/{customer.id}/edit").text
    assert "表号: M-77" in edit
    response = client.post(f"/crm/customers/{customer.id}", data={
        "name": "赵敏", "phones": "13910002000", "custom_fields": '{"表号": "M-78"}'})
    assert response.status_code == 302
    customer = Customer.get_by_id(customer.id)
    assert customer.custom_fields == {"表号": "M-78"} and customer.account_no is None
    assert [p.e164 for p in customer.phones] == ["+8613910002000"]


def test_the_form_refuses_bad_and_taken_numbers(db):
    _customer("张伟", "+8613800138000", account_no="20481357")
    client, _user = _client("admin")
    response = client.post("/crm/customers", data={
        "name": "", "phones": "12345\n138 0013 8000", "account_no": "20481357",
        "custom_fields": "no separator here"})
    assert response.status_code == 400
    assert "12345 is not a valid phone number." in response.text
    assert "already belongs to 张伟" in response.text
    assert Customer.select().count() == 1


def test_the_new_form_prefills_the_callers_number(db):
    client, _user = _client("agent")
    assert "+8613800138000" in client.get("/crm/customers/new?phone=13800138000").text


# -- import -------------------------------------------------------------------------

def test_a_csv_with_only_good_rows_imports_every_row(db):
    client, _user = _client("supervisor")
    _job, status = _import(client, GOOD.encode("utf-8-sig"), "customers.csv")
    assert status["state"] == "done" and status["imported"] == 3 and status["percent"] == 100
    assert Customer.select().count() == 3 and CustomerPhone.select().count() == 4
    zhang = Customer.get(name="张伟")
    assert zhang.custom_fields == {"表号": "M-1"} and zhang.community == "望京社区"
    assert {p.e164 for p in zhang.phones} == {"+8613800138000", "+861065529988"}
    assert Customer.get(name="李娜").custom_fields == {}   # empty cells add nothing
    assert AuditLog.get(action="customer.import.done").detail["imported"] == 3


def test_a_csv_with_two_bad_rows_imports_nothing_and_names_both(db):
    csv_text = HEADER + (
        "张伟,13800138000,1,朝阳区,,地址1,\n"
        ",13900139000,2,朝阳区,,地址2,\n"            # row 3: no name
        "王芳,12345,3,朝阳区,,地址3,\n"              # row 4: bad number
        "赵敏,13700137000,4,朝阳区,,地址4,\n")
    client, _user = _client("admin")
    job_id, status = _import(client, csv_text.encode(), "bad.csv")
    assert status["state"] == "failed" and status["imported"] == 0
    assert [(e["row"], e["code"]) for e in status["errors"]] == [
        (3, "missing_name"), (4, "bad_phone")]
    assert Customer.select().count() == 0 and CustomerPhone.select().count() == 0
    page = client.get(f"/crm/import/{job_id}").text
    assert "Nothing was imported" in page
    assert "<td>3</td><td>the name is missing</td>" in page
    assert "<td>4</td><td>12345 is not a valid phone number</td>" in page


def test_duplicates_in_the_file_and_with_existing_customers_are_named(db):
    _customer("老客户", "+8613600136000", account_no="99")
    csv_text = HEADER + (
        "甲,13800138000,1,,,,\n"
        "乙,138-0013-8000,2,,,,\n"        # row 3: same number as row 2
        "丙,13600136000,3,,,,\n"          # row 4: an existing customer's number
        "丁,13500135000,99,,,,\n"         # row 5: an existing account number
        "戊,13400134000,1,,,,\n")         # row 6: same account as row 2
    client, _user = _client("admin", lang="zh_CN")
    job_id, status = _import(client, csv_text.encode("gb18030"), "gbk.csv")
    assert [(e["row"], e["code"]) for e in status["errors"]] == [
        (3, "duplicate_phone_in_file"), (4, "duplicate_phone_existing"),
        (5, "duplicate_account_existing"), (6, "duplicate_account_in_file")]
    assert Customer.select().count() == 1
    assert "老客户" in client.get(f"/crm/import/{job_id}").text


def test_an_xlsx_import_and_the_xlsx_template(db):
    client, _user = _client("admin")
    template = client.get("/crm/import/template.xlsx")
    assert template.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(template.data))
    assert [c.value for c in book.active[1]][:2] == ["姓名", "电话"]
    book.active.append(["周杰", 13300133000, 20481359, "西城区", "什刹海社区", "地址", "", ""])
    out = io.BytesIO()
    book.save(out)
    _job, status = _import(client, out.getvalue(), "customers.xlsx")
    assert status["state"] == "done" and status["imported"] == 3, status
    zhou = Customer.get(name="周杰")
    assert zhou.account_no == "20481359"   # a number cell read as text, no ".0"
    assert [p.e164 for p in zhou.phones] == ["+8613300133000"]


def test_the_csv_template_imports_as_it_is(db):
    client, _user = _client("supervisor")
    data = client.get("/crm/import/template.csv").data
    assert data.startswith(b"\xef\xbb\xbf")
    _job, status = _import(client, data, "customers-template.csv")
    assert status["state"] == "done" and status["imported"] == len(importer.TEMPLATE_ROWS)


def test_a_file_without_a_name_column_is_refused(db):
    client, _user = _client("admin")
    _job, status = _import(client, b"phone\n13800138000\n", "x.csv")
    assert status["state"] == "failed" and status["file_error"]["code"] == "no_name_column"
    _job, status = _import(client, b"not a workbook", "x.xlsx")
    assert status["file_error"]["code"] == "bad_xlsx"


def test_the_progress_endpoint_shows_a_bar_and_polls_until_finished(db):
    client, user = _client("admin")
    job = importer.ImportJob(owner_id=user.id, owner_name=user.username,
                             filename="x.csv", data=GOOD.encode())
    importer._JOBS[job.id] = job   # registered, not yet run: what a poll sees early
    fragment = client.get(f"/crm/import/{job.id}/status").text
    assert 'hx-trigger="every 1s"' in fragment and "<progress" in fragment
    job.run()
    fragment = client.get(f"/crm/import/{job.id}/status").text
    assert "hx-trigger" not in fragment and 'value="100"' in fragment
    assert "Imported 3 customers." in fragment
    # only the one who started a job follows it (an admin may too)
    other, _u = _client("supervisor", "sup2")
    assert other.get(f"/crm/import/{job.id}/status").status_code == 404
    assert client.get("/crm/import/nosuchjob/status").status_code == 404


def test_progress_while_checking(db):
    rows, _errors = importer.parse_rows([["name"]] + [["n"]] * 3)
    assert len(rows) == 3
    job = importer.ImportJob(owner_id=1, owner_name="x", filename="a.csv", data=b"")
    job.state, job.total, job.checked = "checking", 10, 5
    assert job.snapshot()["percent"] == 25


def test_agents_cannot_import(db):
    client, _user = _client("agent")
    assert client.get("/crm/import").status_code == 403


# -- call records ---------------------------------------------------------------------

def _calls():
    amy = add_user("amy", "agent")
    bob = add_user("bob", "agent")
    a1 = Agent.create(user=amy, extension="1001", display_name="Amy", sip_password="x")
    a2 = Agent.create(user=bob, extension="1002", display_name="Bob", sip_password="x")
    day = datetime.datetime(2026, 3, 2, 2, 0)   # 10:00 in Asia/Shanghai
    mine = CallRecord.create(call_uuid="c1", direction="inbound", caller="13800138000",
                             caller_e164="+8613800138000", queue="repair", agent=a1,
                             start_at=day)
    theirs = CallRecord.create(call_uuid="c2", direction="inbound", caller="13900139000",
                               caller_e164="+8613910002000", queue="billing", agent=a2,
                               start_at=day + datetime.timedelta(days=1))
    lost = CallRecord.create(call_uuid="c3", direction="inbound", caller="13700137000",
                             queue="repair", abandoned=True,
                             start_at=day + datetime.timedelta(days=2))
    return amy, mine, theirs, lost


def test_an_agent_sees_only_their_own_call_records(db):
    amy, mine, theirs, lost = _calls()
    client = make_app(csrf=False).test_client()
    sign_in_session(client, amy)
    html = client.get("/crm/calls").text
    assert f'id="call-{mine.id}"' in html
    assert f'id="call-{theirs.id}"' not in html and f'id="call-{lost.id}"' not in html
    assert client.get(f"/crm/calls/{mine.id}").status_code == 200
    assert client.get(f"/crm/calls/{theirs.id}").status_code == 404
    assert client.get(f"/crm/calls/{lost.id}").status_code == 404
    # the agent filter cannot widen it
    assert f'id="call-{theirs.id}"' not in client.get(
        f"/crm/calls?agent={theirs.agent_id}").text


def test_an_agent_without_an_agent_record_sees_no_calls(db):
    _calls()
    client, _user = _client("agent", "nobody")
    assert "No calls." in client.get("/crm/calls").text


@pytest.mark.parametrize("args, expected", [
    ({}, {"c1", "c2", "c3"}),
    ({"from": "2026-03-03"}, {"c2", "c3"}),
    ({"to": "2026-03-02"}, {"c1"}),
    ({"from": "2026-03-03", "to": "2026-03-03"}, {"c2"}),
    ({"caller": "138 0013 8000"}, {"c1"}),
    ({"caller": "0137"}, {"c3"}),
    ({"queue": "repair"}, {"c1", "c3"}),
    ({"abandoned": "yes"}, {"c3"}),
    ({"abandoned": "no"}, {"c1", "c2"}),
])
def test_call_record_filters(db, args, expected):
    _amy, *records = _calls()
    ids = {r.call_uuid: r.id for r in records}
    client, _user = _client("qa")
    html = client.get("/crm/calls", query_string=args).text
    assert {u for u, i in ids.items() if f'id="call-{i}"' in html} == expected


def test_call_records_filter_by_agent_and_page(db):
    _amy, mine, theirs, _lost = _calls()
    for n in range(60):
        CallRecord.create(call_uuid=f"p{n}", direction="inbound", caller="1",
                          start_at=datetime.datetime(2025, 1, 1, 0, n))
    client, _user = _client("supervisor")
    html = client.get("/crm/calls", query_string={"agent": mine.agent_id}).text
    assert f'id="call-{mine.id}"' in html and f'id="call-{theirs.id}"' not in html
    first = client.get("/crm/calls").text
    assert "63 calls" in first and "Page 1 of 2" in first and 'rel="next"' in first
    second = client.get("/crm/calls?page=2").text
    assert len(re.findall(r'id="call-\d+"', second)) == 13
