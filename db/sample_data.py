"""Demo rows for the sample flows: bills of a heating, a gas and a water company.

A utility imports its own billing data; these rows are for demos and tests only,
and no migration loads them."""
import datetime
from decimal import Decimal

from db.models import BillingAccount

# account_no, company, amount_due, due_date, address
SAMPLE_BILLING = [
    ("20481357", "heating", "1234.50", "2026-12-31", "和平区幸福小区3号楼2单元101"),
    ("31572468", "heating", "2856.00", "2026-12-31", "和平区幸福小区5号楼1单元602"),
    ("42683579", "heating", "0.00", "2026-12-31", "河西区梅江花园12号楼3单元1101"),
    ("53794680", "heating", "3412.80", "2026-11-30", "南开区长虹公寓7号楼4单元302"),
    ("60817395", "gas", "86.40", "2026-12-20", "河东区万新村18号楼1单元201"),
    ("71928406", "gas", "152.75", "2026-12-20", "河北区金钟花园2号楼2单元502"),
    ("82031517", "gas", "0.00", "2027-01-20", "红桥区丁字沽一号路6号楼103"),
    ("93142628", "gas", "318.20", "2026-11-25", "西青区中北镇锦绣里9号楼701"),
    ("14253739", "water", "45.60", "2026-12-15", "和平区幸福小区3号楼2单元101"),
    ("25364840", "water", "128.30", "2026-12-15", "南开区长虹公寓7号楼4单元302"),
    ("36475951", "water", "67.05", "2027-01-15", "东丽区丽景花园11号楼1单元402"),
    ("47586062", "water", "1020.00", "2026-12-15", "津南区咸水沽商业街23号底商"),
]


def sample_rows() -> list[dict]:
    return [{"account_no": no, "company": company, "amount_due": Decimal(amount),
             "due_date": datetime.date.fromisoformat(due), "address": address}
            for no, company, amount, due, address in SAMPLE_BILLING]


def load_sample_billing(database) -> int:
    """Insert the sample accounts into `database`, skipping account numbers already
    there; returns how many rows were new."""
    with database.atomic():
        before = BillingAccount.select().count(database)
        BillingAccount.insert_many(sample_rows()).on_conflict_ignore().execute(database)
        return BillingAccount.select().count(database) - before
