"""The demo database: its own SQLite file under the data directory
(DATA_DIR/demo/hotline.db), made afresh at every demo start, so that demo calls,
customers and users never mix with the real ones.

It holds the sample bills (`hotline db load-samples`), two sample customers (the
known callers of esl_apps.demo.calls; the other sample callers are unknown), the
queues the flows name and one agent user with a tier in each, whose password is
generated here and shown once by `hotline run`.
"""
import secrets
from pathlib import Path

from werkzeug.security import generate_password_hash

from db import migrate
from db.connect import bind, open_database
from db.models import Agent, Customer, CustomerPhone, Queue, Tier, User
from db.sample_data import load_sample_billing

DEMO_USER = "demo.agent"
DEMO_EXTENSION = "1001"
DEMO_NAME = "演示坐席 Demo agent"
WRAP_UP_SECONDS = 5

# name, phone, account, address, region, community
SAMPLE_CUSTOMERS = (
    ("张伟", "+8613912345678", "20481357", "和平区幸福小区3号楼2单元101", "和平区", "幸福小区"),
    ("李娜", "+8613622334455", "60817395", "河东区万新村18号楼1单元201", "河东区", "万新村"),
)


def demo_database_path(data_dir: Path) -> Path:
    return Path(data_dir) / "demo" / "hotline.db"


def fresh_database(path: Path):
    """A new, migrated demo database at `path` (any previous demo file removed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for old in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        old.unlink(missing_ok=True)
    db = bind(open_database(f"sqlite:///{path}"))
    migrate.upgrade(db)
    return db


def load_demo_rows(db, queues) -> str:
    """Sample bills and customers, the queues, the demo agent; its password."""
    password = secrets.token_urlsafe(12)
    with db.atomic():
        load_sample_billing(db)
        for name, phone, account, address, region, community in SAMPLE_CUSTOMERS:
            customer = Customer.create(name=name, account_no=account, address=address,
                                       region=region, community=community)
            CustomerPhone.create(customer=customer, e164=phone, label="mobile")
        user = User.create(username=DEMO_USER, role="agent", display_name=DEMO_NAME,
                           password_hash=generate_password_hash(password))
        agent = Agent.create(user=user, extension=DEMO_EXTENSION, display_name=DEMO_NAME,
                             sip_password=secrets.token_hex(16), wrap_up_time=WRAP_UP_SECONDS)
        for name in sorted(queues):
            queue, _ = Queue.get_or_create(name=name, defaults={"record_calls": False})
            Tier.create(queue=queue, agent=agent)
    return password
