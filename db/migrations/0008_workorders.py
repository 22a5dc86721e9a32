"""Work orders: departments and their members, the service catalogue, the workflow
(states and per-role transitions), SLA rules, the orders with their history,
attachments, SLA timers, deadline extensions and revisit tasks. Seeds the default
workflow and SLA limits (frozen here: esl_apps.workorders.defaults may change)."""
import datetime
import json

from peewee import (
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    SmallIntegerField,
    TextField,
)

from db.migrations._frozen import base, existing

DEFAULT_WORKFLOW = json.loads("""
{"initial": "dispatched",
 "states": [
  {"code": "dispatched", "zh": "已派工", "en": "Dispatched"},
  {"code": "repairing", "zh": "维修中", "en": "Repairing", "responded": true},
  {"code": "repaired", "zh": "维修已完工", "en": "Repair done", "resolved": true,
   "revisit": true},
  {"code": "revisit", "zh": "回访中", "en": "Revisit"},
  {"code": "closed", "zh": "工单已完工", "en": "Closed", "final": true}],
 "transitions": [
  {"from": "dispatched", "to": "repairing", "roles": ["field", "supervisor", "admin"],
   "zh": "开始维修", "en": "Start repair"},
  {"from": "repairing", "to": "repaired", "roles": ["field", "supervisor", "admin"],
   "zh": "维修完工", "en": "Repair done"},
  {"from": "repaired", "to": "revisit", "roles": ["agent", "supervisor", "admin"],
   "zh": "开始回访", "en": "Start revisit"},
  {"from": "revisit", "to": "closed", "roles": ["agent", "supervisor", "admin"],
   "zh": "回访满意，结单", "en": "Close: customer satisfied"},
  {"from": "revisit", "to": "dispatched", "roles": ["agent", "supervisor", "admin"],
   "redispatch": true, "zh": "回访不满意，重新派单", "en": "Revisit failed: re-dispatch"}]}
""")
# (type, (response, resolution) business minutes at medium priority)
TYPE_LIMITS = [("repair", (120, 960)), ("complaint", (240, 2400)), ("consult", (120, 480)),
               ("suggestion", (480, 4800)), ("business", (240, 2400)), ("other", (240, 2400))]
PRIORITY_FACTORS = [("urgent", 0.25), ("high", 0.5), ("medium", 1), ("low", 2)]



def _tables(db):
    now = datetime.datetime.utcnow

    Base = base(db)
    User = existing(Base, "user")
    Customer = existing(Base, "customer")
    CallRecord = existing(Base, "call_record")
    NoteCategory = existing(Base, "note_category")
    Recording = existing(Base, "recording")

    class Department(Base):
        name = CharField(max_length=64, unique=True)
        email = CharField(max_length=255, default="")
        phone = CharField(max_length=32, default="")
        active = BooleanField(default=True)

    class DepartmentMember(Base):
        department = ForeignKeyField(Department, on_delete="CASCADE")
        user = ForeignKeyField(User, on_delete="CASCADE")
        lead = BooleanField(default=False)
        email = CharField(max_length=255, default="")
        phone = CharField(max_length=32, default="")

        class Meta:
            indexes = ((("department", "user"), True),)

    class ServiceCatalogEntry(Base):
        code = CharField(max_length=32, unique=True)
        name_zh = CharField(max_length=64)
        name_en = CharField(max_length=64)
        department = ForeignKeyField(Department, null=True, on_delete="SET NULL")
        position = SmallIntegerField(default=0)
        active = BooleanField(default=True)

    class WorkOrderWorkflow(Base):
        name = CharField(max_length=32, unique=True)
        definition = TextField()
        sla_schedule = CharField(max_length=64, default="default")
        updated_at = DateTimeField(default=now)
        updated_by = ForeignKeyField(User, null=True, on_delete="SET NULL")

    class SlaRule(Base):
        type = CharField(max_length=16)
        priority = CharField(max_length=8)
        response_minutes = IntegerField()
        resolve_minutes = IntegerField()
        warn_before = IntegerField(default=30)
        schedule = CharField(max_length=64, default="")

        class Meta:
            indexes = ((("type", "priority"), True),)

    class WorkOrder(Base):
        number = CharField(max_length=32, unique=True)
        title = CharField(max_length=200)
        description = TextField(default="")
        type = CharField(max_length=16, index=True)
        priority = CharField(max_length=8)
        catalog = ForeignKeyField(ServiceCatalogEntry, null=True, on_delete="SET NULL")
        category = ForeignKeyField(NoteCategory, null=True, on_delete="SET NULL")
        department = ForeignKeyField(Department, null=True, on_delete="SET NULL")
        assignee = ForeignKeyField(User, null=True, on_delete="SET NULL")
        customer = ForeignKeyField(Customer, null=True, on_delete="SET NULL")
        call = ForeignKeyField(CallRecord, null=True, on_delete="SET NULL")
        call_data = TextField(default="{}")
        contact_name = CharField(max_length=128, default="")
        contact_phone = CharField(max_length=32, default="")
        address = CharField(max_length=255, default="")
        region = CharField(max_length=64, default="", index=True)
        state = CharField(max_length=32, index=True)
        created_by = ForeignKeyField(User, null=True, on_delete="SET NULL",
                                     backref="created_orders")
        created_at = DateTimeField(default=now, index=True)
        updated_at = DateTimeField(default=now)
        sla_schedule = CharField(max_length=64, default="default")
        response_limit = IntegerField(default=0)
        resolve_limit = IntegerField(default=0)
        warn_before = IntegerField(default=0)
        sla_started_at = DateTimeField(default=now)
        response_due_at = DateTimeField(null=True, index=True)
        resolve_due_at = DateTimeField(null=True, index=True)
        responded_at = DateTimeField(null=True)
        resolved_at = DateTimeField(null=True)
        closed_at = DateTimeField(null=True, index=True)
        escalated_at = DateTimeField(null=True)
        reopen_count = SmallIntegerField(default=0)
        satisfaction = CharField(max_length=24, default="")

    class WorkOrderEvent(Base):
        order = ForeignKeyField(WorkOrder, on_delete="CASCADE")
        at = DateTimeField(default=now, index=True)
        user = ForeignKeyField(User, null=True, on_delete="SET NULL")
        actor = CharField(max_length=64, default="")
        kind = CharField(max_length=24)
        from_state = CharField(max_length=32, default="")
        to_state = CharField(max_length=32, default="")
        comment = TextField(default="")
        detail = TextField(default="{}")

    class WorkOrderAttachment(Base):
        order = ForeignKeyField(WorkOrder, on_delete="CASCADE")
        kind = CharField(max_length=16, default="photo")
        filename = CharField(max_length=255, default="")
        stored_name = CharField(max_length=64, default="")
        content_type = CharField(max_length=64, default="")
        size_bytes = IntegerField(default=0)
        recording = ForeignKeyField(Recording, null=True, on_delete="SET NULL")
        uploaded_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        uploaded_at = DateTimeField(default=now)

    class SlaTimer(Base):
        order = ForeignKeyField(WorkOrder, on_delete="CASCADE")
        kind = CharField(max_length=20)
        due_at = DateTimeField()
        deadline = DateTimeField()
        fired_at = DateTimeField(null=True)
        cancelled_at = DateTimeField(null=True)
        created_at = DateTimeField(default=now)

        class Meta:
            indexes = ((("fired_at", "cancelled_at", "due_at"), False),)

    class DeadlineExtension(Base):
        order = ForeignKeyField(WorkOrder, on_delete="CASCADE")
        requested_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        requested_at = DateTimeField(default=now)
        minutes = IntegerField()
        reason = TextField(default="")
        status = CharField(max_length=8, default="pending", index=True)
        decided_by = ForeignKeyField(User, null=True, on_delete="SET NULL",
                                     backref="decided_extensions")
        decided_at = DateTimeField(null=True)
        decision_comment = TextField(default="")

    class RevisitTask(Base):
        order = ForeignKeyField(WorkOrder, on_delete="CASCADE")
        created_at = DateTimeField(default=now, index=True)
        status = CharField(max_length=8, default="pending", index=True)
        attempts = SmallIntegerField(default=0)
        agent = ForeignKeyField(User, null=True, on_delete="SET NULL")
        satisfaction = CharField(max_length=24, default="")
        comment = TextField(default="")
        done_at = DateTimeField(null=True)

    return [Department, DepartmentMember, ServiceCatalogEntry, WorkOrderWorkflow, SlaRule,
            WorkOrder, WorkOrderEvent, WorkOrderAttachment, SlaTimer, DeadlineExtension,
            RevisitTask]


def up(migrator, db):
    tables = _tables(db)
    db.create_tables(tables)
    workflow, rule = tables[3], tables[4]
    workflow.create(name="default", sla_schedule="default",
                    definition=json.dumps(DEFAULT_WORKFLOW, ensure_ascii=False,
                                          sort_keys=True))
    for type_, (response, resolve) in TYPE_LIMITS:
        for priority, factor in PRIORITY_FACTORS:
            resp = int(response * factor)
            rule.create(type=type_, priority=priority, response_minutes=resp,
                        resolve_minutes=int(resolve * factor),
                        warn_before=min(60, max(10, resp // 4)),
                        schedule="24h" if (type_, priority) == ("repair", "urgent") else "")


def down(migrator, db):
    db.drop_tables(_tables(db))
