"""The application models. The composition root of each daemon calls
``database.initialize(...)`` (see db.connect.open_database); nothing here opens
a connection. Migrations under db/migrations carry frozen copies of these
tables; tests/test_migrations.py checks the two never drift apart.
"""
import datetime

from peewee import (BooleanField, CharField, DatabaseProxy, DateField, DateTimeField,
                    DecimalField, ForeignKeyField, IntegerField, Model, SmallIntegerField,
                    TextField)

from db.fields import JSONField

database = DatabaseProxy()

ROLES = ("admin", "supervisor", "agent", "qa", "designer", "field")
QUEUE_STRATEGIES = ("longest-idle-agent", "round-robin", "top-down", "ring-all",
                    "agent-with-least-talk-time", "agent-with-fewest-calls")
AGENT_STATES = ("Logged Out", "Available", "On Break", "Wrap Up")
HOLIDAY_KINDS = ("closed", "workday")
VOICEMAIL_STATUSES = ("new", "taken", "done")
CALLBACK_STATUSES = ("pending", "dialing", "done", "failed")
COMPANIES = ("heating", "gas", "water")
AGENT_LOG_SOURCES = ("phone", "hotline", "reconciler")
RECORDING_STATUSES = ("ok", "missing", "empty")


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


class User(BaseModel):
    username = CharField(max_length=64, unique=True)
    display_name = CharField(max_length=128, default="")
    password_hash = CharField(max_length=255)
    role = CharField(max_length=16, choices=[(r, r) for r in ROLES])
    language = CharField(max_length=8, default="zh_CN")
    active = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)
    last_login_at = DateTimeField(null=True)


class AuditLog(BaseModel):
    at = DateTimeField(default=utcnow, index=True)
    user = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="audit")
    actor = CharField(max_length=64)
    action = CharField(max_length=64)
    object_type = CharField(max_length=32, default="")
    object_id = CharField(max_length=64, default="")
    detail = JSONField(null=True)
    remote_addr = CharField(max_length=64, default="")


class Agent(BaseModel):
    user = ForeignKeyField(User, null=True, unique=True, on_delete="SET NULL",
                           backref="agent")
    extension = CharField(max_length=16, unique=True)
    display_name = CharField(max_length=128)
    sip_password = CharField(max_length=64)
    skills = JSONField(default=list)
    state = CharField(max_length=16, default="Logged Out")
    break_reason = CharField(max_length=64, default="")
    max_no_answer = SmallIntegerField(default=3)
    wrap_up_time = SmallIntegerField(default=10)
    reject_delay_time = SmallIntegerField(default=10)
    busy_delay_time = SmallIntegerField(default=60)
    no_answer_delay_time = SmallIntegerField(default=10)
    created_at = DateTimeField(default=utcnow)


class Queue(BaseModel):
    name = CharField(max_length=64, unique=True)
    display_name = CharField(max_length=128, default="")
    strategy = CharField(max_length=32, default="longest-idle-agent",
                         choices=[(s, s) for s in QUEUE_STRATEGIES])
    moh_sound = CharField(max_length=255, default="local_stream://moh")
    record_calls = BooleanField(default=True)
    announce_frequency = SmallIntegerField(default=30)
    max_wait_time = IntegerField(default=0)
    max_wait_time_with_no_agent = IntegerField(default=0)
    tier_rules_apply = BooleanField(default=False)
    discard_abandoned_after = IntegerField(default=60)
    abandoned_resume_allowed = BooleanField(default=False)
    sticky_agent_days = SmallIntegerField(null=True)
    overflow_action = CharField(max_length=16, default="")
    overflow_target = CharField(max_length=64, default="")


class Tier(BaseModel):
    queue = ForeignKeyField(Queue, on_delete="CASCADE", backref="tiers")
    agent = ForeignKeyField(Agent, on_delete="CASCADE", backref="tiers")
    level = SmallIntegerField(default=1)
    position = SmallIntegerField(default=1)

    class Meta:
        indexes = ((("queue", "agent"), True),)


class Did(BaseModel):
    number = CharField(max_length=32, unique=True)
    flow = CharField(max_length=64)
    description = CharField(max_length=255, default="")
    language = CharField(max_length=8, default="zh_CN")
    enabled = BooleanField(default=True)


class Customer(BaseModel):
    name = CharField(max_length=128, index=True)
    address = CharField(max_length=255, default="", index=True)
    region = CharField(max_length=64, default="", index=True)
    community = CharField(max_length=64, default="")
    account_no = CharField(max_length=64, null=True, unique=True)
    custom_fields = JSONField(default=dict)
    remark = TextField(default="")
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)


class CustomerPhone(BaseModel):
    customer = ForeignKeyField(Customer, on_delete="CASCADE", backref="phones")
    e164 = CharField(max_length=20, index=True)
    label = CharField(max_length=32, default="")

    class Meta:
        indexes = ((("customer", "e164"), True),)


class CallRecord(BaseModel):
    call_uuid = CharField(max_length=64, unique=True)
    direction = CharField(max_length=8, choices=[(d, d) for d in
                                                 ("inbound", "outbound", "internal")])
    caller = CharField(max_length=64, default="")
    caller_e164 = CharField(max_length=20, null=True, index=True)
    caller_name = CharField(max_length=128, default="")
    callee = CharField(max_length=64, default="")
    did = CharField(max_length=32, default="")
    flow = CharField(max_length=64, default="")
    queue = CharField(max_length=64, default="")
    agent = ForeignKeyField(Agent, null=True, on_delete="SET NULL", backref="calls")
    customer = ForeignKeyField(Customer, null=True, on_delete="SET NULL", backref="calls")
    start_at = DateTimeField(default=utcnow, index=True)
    ring_at = DateTimeField(null=True)
    answer_at = DateTimeField(null=True)
    end_at = DateTimeField(null=True)
    hangup_cause = CharField(max_length=64, default="")
    wait_seconds = IntegerField(null=True)
    talk_seconds = IntegerField(null=True)
    call_data = JSONField(default=dict)
    recording_path = CharField(max_length=512, default="")
    recording_seconds = DecimalField(max_digits=10, decimal_places=2, null=True)
    # mod_callcenter's view of the call (the caller's leg): when it joined the queue,
    # "answered" or "cancel" (cc_cause), why it left without an agent (cc_cancel_reason:
    # BREAK_OUT when the caller hung up, TIMEOUT, NO_AGENT_TIMEOUT, EXIT_WITH_KEY)
    queue_joined_at = DateTimeField(null=True)
    queue_result = CharField(max_length=16, default="")
    queue_cancel_reason = CharField(max_length=32, default="")
    abandoned = BooleanField(default=False, index=True)
    recording_status = CharField(max_length=8, default="")  # "", or RECORDING_STATUSES


class NoteCategory(BaseModel):
    parent = ForeignKeyField("self", null=True, on_delete="CASCADE", backref="children")
    code = CharField(max_length=32, unique=True)
    name_zh = CharField(max_length=64)
    name_en = CharField(max_length=64)
    position = SmallIntegerField(default=0)
    active = BooleanField(default=True)


class CallNote(BaseModel):
    """A note written during the call keeps call_uuid until the CDR makes the call
    record (webui.cdr.store_cdr links it then)."""
    call = ForeignKeyField(CallRecord, null=True, on_delete="SET NULL", backref="notes")
    call_uuid = CharField(max_length=64, default="", index=True)
    customer = ForeignKeyField(Customer, null=True, on_delete="SET NULL", backref="notes")
    author = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="notes")
    category = ForeignKeyField(NoteCategory, null=True, on_delete="SET NULL",
                               backref="notes")
    text = TextField()
    created_at = DateTimeField(default=utcnow, index=True)


class BlacklistEntry(BaseModel):
    pattern = CharField(max_length=32, index=True)
    is_prefix = BooleanField(default=False)
    allow = BooleanField(default=False)  # True: a whitelist entry
    did = CharField(max_length=32, null=True)  # None: every DID
    reason = CharField(max_length=255, default="")
    expires_at = DateTimeField(null=True)
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)


class BlockedCall(BaseModel):
    """One call the switch refused because of a blacklist entry (the dialplan marks it
    hotline_blocked=<entry id>); written once per call by the CDR handler
    (webui.blocked). The entry may be gone since: pattern keeps what matched."""
    call_uuid = CharField(max_length=64, unique=True)
    caller = CharField(max_length=64, default="")
    did = CharField(max_length=32, default="")
    entry = ForeignKeyField(BlacklistEntry, null=True, on_delete="SET NULL", backref="blocked")
    pattern = CharField(max_length=32, default="")
    at = DateTimeField(default=utcnow, index=True)


class SurveyResult(BaseModel):
    call_uuid = CharField(max_length=64)
    question = CharField(max_length=32, default="satisfaction")
    score = SmallIntegerField()
    agent = ForeignKeyField(Agent, null=True, on_delete="SET NULL", backref="surveys")
    queue = CharField(max_length=64, default="")
    created_at = DateTimeField(default=utcnow, index=True)

    class Meta:
        indexes = ((("call_uuid", "question"), True),)


class Schedule(BaseModel):
    """Business hours for `branch: {when: {business_hours: NAME}}`; see esl_apps.ivr.hours."""
    name = CharField(max_length=64, unique=True)
    description = CharField(max_length=255, default="")
    timezone = CharField(max_length=64, default="Asia/Shanghai")
    # False: holidays for all schedules (schedule NULL) do not apply, as for a 24h line
    observe_holidays = BooleanField(default=True)


class ScheduleHours(BaseModel):
    """One opening range of one weekday; several per day make a lunch break."""
    schedule = ForeignKeyField(Schedule, on_delete="CASCADE", backref="hours")
    weekday = SmallIntegerField()  # 0 Monday .. 6 Sunday
    opens = CharField(max_length=5)  # 'HH:MM'
    closes = CharField(max_length=5)  # 'HH:MM', '24:00' for the end of the day


class Holiday(BaseModel):
    """A day that overrides the weekly hours: 'closed', or 'workday' (调休: a weekend
    day worked, during opens-closes or else Monday's hours)."""
    schedule = ForeignKeyField(Schedule, null=True, on_delete="CASCADE",
                               backref="holidays")  # None: every schedule
    day = DateField(index=True)
    name = CharField(max_length=64, default="")
    kind = CharField(max_length=8, default="closed", choices=[(k, k) for k in HOLIDAY_KINDS])
    opens = CharField(max_length=5, null=True)
    closes = CharField(max_length=5, null=True)


class VoicemailMessage(BaseModel):
    """A message left in a box; agents take it as a task and mark it done."""
    call_uuid = CharField(max_length=64, index=True)
    box = CharField(max_length=64, index=True)
    caller = CharField(max_length=64, default="")
    did = CharField(max_length=32, default="")
    file_path = CharField(max_length=512)
    seconds = IntegerField(default=0)
    created_at = DateTimeField(default=utcnow, index=True)
    status = CharField(max_length=8, default="new", index=True,
                       choices=[(s, s) for s in VOICEMAIL_STATUSES])
    taken_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="voicemails")
    call_data = JSONField(default=dict)


class CallbackRequest(BaseModel):
    """A caller who asked to be called back by an agent of `queue`. position_time is
    when they joined the queue, so the callback keeps their place in it."""
    call_uuid = CharField(max_length=64, index=True)
    queue = CharField(max_length=64)
    number = CharField(max_length=20)  # E.164
    caller = CharField(max_length=64, default="")
    created_at = DateTimeField(default=utcnow)
    status = CharField(max_length=8, default="pending",
                       choices=[(s, s) for s in CALLBACK_STATUSES])
    attempts = SmallIntegerField(default=0)
    call_data = JSONField(default=dict)
    position_time = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("status", "queue", "position_time"), False),)


class IvrNodeStat(BaseModel):
    """Per day and flow node: callers who entered it, and who hung up there."""
    day = DateField()
    flow = CharField(max_length=64)
    node = CharField(max_length=64)
    entered = IntegerField(default=0)
    hung_up = IntegerField(default=0)

    class Meta:
        indexes = ((("day", "flow", "node"), True),)


class IvrTransitionStat(BaseModel):
    """Per day: how often each edge of a flow's graph was taken."""
    day = DateField()
    flow = CharField(max_length=64)
    from_node = CharField(max_length=64)
    to_node = CharField(max_length=64)
    taken = IntegerField(default=0)

    class Meta:
        indexes = ((("day", "flow", "from_node", "to_node"), True),)


class BillingAccount(BaseModel):
    """What `lookup` reads for a bill; a utility imports its own (db/sample_data.py
    holds demo rows)."""
    account_no = CharField(max_length=32, unique=True)
    customer = ForeignKeyField(Customer, null=True, on_delete="SET NULL",
                               backref="billing_accounts")
    company = CharField(max_length=16, index=True, choices=[(c, c) for c in COMPANIES])
    amount_due = DecimalField(max_digits=12, decimal_places=2, default=0)
    due_date = DateField(null=True)
    address = CharField(max_length=255, default="")


class Recording(BaseModel):
    """One agent call's recording (mod_callcenter's record-template), written by the
    CDR handler once the file is checked (webui.call_outcomes). The jobs in
    esl_apps.jobs compress it after some days (path and format change) and delete it
    past the retention period (the row stays, deleted_at set)."""
    call = ForeignKeyField(CallRecord, unique=True, on_delete="CASCADE", backref="recordings")
    call_uuid = CharField(max_length=64, unique=True)
    path = CharField(max_length=512)
    format = CharField(max_length=8, default="wav")
    seconds = DecimalField(max_digits=10, decimal_places=2)
    size_bytes = IntegerField(default=0)
    agent = ForeignKeyField(Agent, null=True, on_delete="SET NULL", backref="recordings")
    agent_name = CharField(max_length=64, default="")  # cc_agent as the switch named it
    queue = CharField(max_length=64, default="", index=True)
    created_at = DateTimeField(default=utcnow, index=True)
    compressed_at = DateTimeField(null=True)
    deleted_at = DateTimeField(null=True, index=True)


class RecordingFailure(BaseModel):
    """Per day and reason ("missing", "empty"): agent calls whose recording could not
    be kept. Reports read it beside the per-call CallRecord.recording_status."""
    day = DateField()
    reason = CharField(max_length=16)
    count = IntegerField(default=0)

    class Meta:
        indexes = ((("day", "reason"), True),)

class AgentStateLog(BaseModel):
    """Every change of an agent's state, with its time: what login and busy reports
    read. status is mod_callcenter's (Logged Out, Available, On Break), state its
    call state (Waiting, Receiving, In a queue call, Idle = wrap-up, Reserved);
    source says who made the change: phone (feature code), hotline (CLI, desk) or
    reconciler (a difference healed)."""
    agent = ForeignKeyField(Agent, on_delete="CASCADE", backref="state_log")
    status = CharField(max_length=32)
    state = CharField(max_length=32, default="")
    reason = CharField(max_length=64, default="")
    source = CharField(max_length=16, choices=[(s, s) for s in AGENT_LOG_SOURCES])
    at = DateTimeField(default=utcnow, index=True)

    class Meta:
        indexes = ((("agent", "at"), False),)


MODELS = [User, AuditLog, Agent, Queue, Tier, Did, Customer, CustomerPhone,
          CallRecord, NoteCategory, CallNote, BlacklistEntry, BlockedCall, SurveyResult,
          Schedule, ScheduleHours, Holiday, VoicemailMessage, CallbackRequest,
          IvrNodeStat, IvrTransitionStat, BillingAccount, Recording,
          RecordingFailure,
          AgentStateLog]


# --- notifications, knowledge base, call scripts, notices (migration 0009) ---

NOTIFY_CHANNELS = ("email", "sms")
NOTIFY_STATUSES = ("pending", "sending", "sent", "failed")


class Notification(BaseModel):
    """One message to one recipient on one channel (esl_apps.notify): written
    "pending" by outbox.enqueue in the caller's transaction, claimed ("sending") and
    sent by the notify job, "sent" or, after notify.max_attempts, "failed" (shown on
    /admin/notifications, where it can be retried). order_id is the work order's id,
    a plain number so the outbox does not depend on the work-order tables."""
    event = CharField(max_length=32, index=True)
    order_id = IntegerField(null=True, index=True)
    channel = CharField(max_length=8, choices=[(c, c) for c in NOTIFY_CHANNELS])
    recipient = CharField(max_length=255)  # e-mail address or phone number
    recipient_name = CharField(max_length=128, default="")
    language = CharField(max_length=8, default="zh")
    subject = CharField(max_length=255, default="")
    body = TextField()
    status = CharField(max_length=8, default="pending",
                       choices=[(s, s) for s in NOTIFY_STATUSES])
    attempts = SmallIntegerField(default=0)
    next_attempt_at = DateTimeField(default=utcnow)
    claimed_by = CharField(max_length=32, default="")
    claimed_at = DateTimeField(null=True)
    last_error = CharField(max_length=512, default="")
    created_at = DateTimeField(default=utcnow, index=True)
    sent_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("status", "next_attempt_at"), False),)


class KbCategory(BaseModel):
    name = CharField(max_length=64, unique=True)
    position = SmallIntegerField(default=0)


class KbArticle(BaseModel):
    """A knowledge-base article. search_text is title, tags and body as search
    tokens (webui.kb.search: CJK as character bigrams and unigrams, other words
    lowercased); SQLite indexes it with FTS5 (kb_article_fts, kept by triggers),
    PostgreSQL with a GIN index on to_tsvector('simple', search_text)."""
    category = ForeignKeyField(KbCategory, null=True, on_delete="SET NULL",
                               backref="articles")
    title = CharField(max_length=200)
    body = TextField(default="")
    tags = CharField(max_length=255, default="")  # comma-separated
    search_text = TextField(default="")
    author = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="kb_articles")
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow, index=True)


class CallScript(BaseModel):
    """What an agent says (话术) for calls of one note category, shown on the desk."""
    category = ForeignKeyField(NoteCategory, on_delete="CASCADE", backref="scripts")
    title = CharField(max_length=200)
    body = TextField()
    position = SmallIntegerField(default=0)
    active = BooleanField(default=True)
    updated_at = DateTimeField(default=utcnow)


class Notice(BaseModel):
    """An announcement shown on the desk between active_from and active_until (open
    ended when None) to users of audience_role ("" = everybody)."""
    title = CharField(max_length=200)
    body = TextField(default="")
    active_from = DateTimeField(default=utcnow)
    active_until = DateTimeField(null=True)
    audience_role = CharField(max_length=16, default="")
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="notices")
    created_at = DateTimeField(default=utcnow, index=True)


MODELS += [Notification, KbCategory, KbArticle, CallScript, Notice]


# --- work orders (migration 0008; esl_apps.workorders, webui.workorders) ---

WORK_ORDER_TYPES = ("repair", "complaint", "consult", "suggestion", "business", "other")
WORK_ORDER_PRIORITIES = ("urgent", "high", "medium", "low")
SLA_TIMER_KINDS = ("response_warning", "response_breach", "resolve_warning", "resolve_breach")
EXTENSION_STATUSES = ("pending", "approved", "refused")
REVISIT_STATUSES = ("pending", "done")
SATISFACTION_LEVELS = ("satisfied", "basically_satisfied", "dissatisfied", "unreachable")


class Department(BaseModel):
    """A department or field crew that work orders are dispatched to; email/phone
    reach its duty desk (dispatch and SLA notifications)."""
    name = CharField(max_length=64, unique=True)
    email = CharField(max_length=255, default="")
    phone = CharField(max_length=32, default="")
    active = BooleanField(default=True)


class DepartmentMember(BaseModel):
    """A user of a department: field workers see its unassigned orders; a lead
    (班组长) gets the SLA escalations. email/phone: where their notifications go."""
    department = ForeignKeyField(Department, on_delete="CASCADE", backref="members")
    user = ForeignKeyField(User, on_delete="CASCADE", backref="departments")
    lead = BooleanField(default=False)
    email = CharField(max_length=255, default="")
    phone = CharField(max_length=32, default="")

    class Meta:
        indexes = ((("department", "user"), True),)


class ServiceCatalogEntry(BaseModel):
    """服务目录: what the order is about (e.g. "heating: radiator not warm"), with
    the department it usually goes to."""
    code = CharField(max_length=32, unique=True)
    name_zh = CharField(max_length=64)
    name_en = CharField(max_length=64)
    department = ForeignKeyField(Department, null=True, on_delete="SET NULL",
                                 backref="catalog")
    position = SmallIntegerField(default=0)
    active = BooleanField(default=True)


class WorkOrderWorkflow(BaseModel):
    """The states and per-role transitions (esl_apps.workorders.workflow reads and
    checks `definition`), and the business-hours schedule SLA deadlines count in
    (an esl_apps.ivr.hours schedule name). One row, named "default"."""
    name = CharField(max_length=32, unique=True)
    definition = JSONField()
    sla_schedule = CharField(max_length=64, default="default")
    updated_at = DateTimeField(default=utcnow)
    updated_by = ForeignKeyField(User, null=True, on_delete="SET NULL")


class SlaRule(BaseModel):
    """Response and resolution limits, in business minutes, of one type and priority;
    a warning goes out warn_before minutes before each deadline. schedule: the
    business-hours schedule for this rule ("" = the workflow's sla_schedule)."""
    type = CharField(max_length=16)
    priority = CharField(max_length=8)
    response_minutes = IntegerField()
    resolve_minutes = IntegerField()
    warn_before = IntegerField(default=30)
    schedule = CharField(max_length=64, default="")

    class Meta:
        indexes = ((("type", "priority"), True),)


class WorkOrder(BaseModel):
    """A work order (工单). The SLA snapshot (sla_schedule, *_limit, warn_before)
    is copied from the SlaRule when the order is made; an approved extension adds
    to resolve_limit. Deadlines count from sla_started_at (creation, or the last
    re-dispatch). Times are naive UTC."""
    number = CharField(max_length=32, unique=True)
    title = CharField(max_length=200)
    description = TextField(default="")
    type = CharField(max_length=16, index=True, choices=[(t, t) for t in WORK_ORDER_TYPES])
    priority = CharField(max_length=8, choices=[(p, p) for p in WORK_ORDER_PRIORITIES])
    catalog = ForeignKeyField(ServiceCatalogEntry, null=True, on_delete="SET NULL",
                              backref="orders")
    category = ForeignKeyField(NoteCategory, null=True, on_delete="SET NULL",
                               backref="orders")
    department = ForeignKeyField(Department, null=True, on_delete="SET NULL",
                                 backref="orders")
    assignee = ForeignKeyField(User, null=True, on_delete="SET NULL",
                               backref="assigned_orders")
    customer = ForeignKeyField(Customer, null=True, on_delete="SET NULL", backref="orders")
    call = ForeignKeyField(CallRecord, null=True, on_delete="SET NULL", backref="orders")
    call_data = JSONField(default=dict)  # the IVR's call data, copied when made
    contact_name = CharField(max_length=128, default="")
    contact_phone = CharField(max_length=32, default="")
    address = CharField(max_length=255, default="")
    region = CharField(max_length=64, default="", index=True)
    state = CharField(max_length=32, index=True)
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL",
                                 backref="created_orders")
    created_at = DateTimeField(default=utcnow, index=True)
    updated_at = DateTimeField(default=utcnow)
    sla_schedule = CharField(max_length=64, default="default")
    response_limit = IntegerField(default=0)   # business minutes
    resolve_limit = IntegerField(default=0)    # business minutes, with extensions
    warn_before = IntegerField(default=0)
    sla_started_at = DateTimeField(default=utcnow)
    response_due_at = DateTimeField(null=True, index=True)
    resolve_due_at = DateTimeField(null=True, index=True)
    responded_at = DateTimeField(null=True)
    resolved_at = DateTimeField(null=True)
    closed_at = DateTimeField(null=True, index=True)
    escalated_at = DateTimeField(null=True)
    reopen_count = SmallIntegerField(default=0)
    satisfaction = CharField(max_length=24, default="")


class WorkOrderEvent(BaseModel):
    """The order's history: who did what, when, with what comment. kind: created,
    transition, assigned, comment, attachment, sla_warning, sla_breach,
    extension_requested, extension_approved, extension_refused, revisit."""
    order = ForeignKeyField(WorkOrder, on_delete="CASCADE", backref="events")
    at = DateTimeField(default=utcnow, index=True)
    user = ForeignKeyField(User, null=True, on_delete="SET NULL")
    actor = CharField(max_length=64, default="")
    kind = CharField(max_length=24)
    from_state = CharField(max_length=32, default="")
    to_state = CharField(max_length=32, default="")
    comment = TextField(default="")
    detail = JSONField(default=dict)


class WorkOrderAttachment(BaseModel):
    """A photo uploaded to the order (stored_name under the data directory's
    workorders/<order id>/), or a linked call recording (recording set, no file)."""
    order = ForeignKeyField(WorkOrder, on_delete="CASCADE", backref="attachments")
    kind = CharField(max_length=16, default="photo")  # photo | recording
    filename = CharField(max_length=255, default="")  # as uploaded, for display only
    stored_name = CharField(max_length=64, default="")
    content_type = CharField(max_length=64, default="")
    size_bytes = IntegerField(default=0)
    recording = ForeignKeyField(Recording, null=True, on_delete="SET NULL")
    uploaded_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    uploaded_at = DateTimeField(default=utcnow)


class SlaTimer(BaseModel):
    """A due SLA warning or breach. The SLA job claims due rows with one UPDATE ...
    WHERE fired_at IS NULL AND cancelled_at IS NULL, in the transaction that writes
    the event and the notification, so each fires once across restarts."""
    order = ForeignKeyField(WorkOrder, on_delete="CASCADE", backref="timers")
    kind = CharField(max_length=20, choices=[(k, k) for k in SLA_TIMER_KINDS])
    due_at = DateTimeField()
    deadline = DateTimeField()
    fired_at = DateTimeField(null=True)
    cancelled_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("fired_at", "cancelled_at", "due_at"), False),)


class DeadlineExtension(BaseModel):
    """A field worker's request for more time (延期申请), in business minutes added
    to the resolution limit; a supervisor approves or refuses it."""
    order = ForeignKeyField(WorkOrder, on_delete="CASCADE", backref="extensions")
    requested_by = ForeignKeyField(User, null=True, on_delete="SET NULL",
                                   backref="extension_requests")
    requested_at = DateTimeField(default=utcnow)
    minutes = IntegerField()
    reason = TextField(default="")
    status = CharField(max_length=8, default="pending", index=True,
                       choices=[(s, s) for s in EXTENSION_STATUSES])
    decided_by = ForeignKeyField(User, null=True, on_delete="SET NULL",
                                 backref="extension_decisions")
    decided_at = DateTimeField(null=True)
    decision_comment = TextField(default="")


class RevisitTask(BaseModel):
    """回访: made when a repair is done; an agent calls the customer and records
    their satisfaction ("unreachable" keeps the task open for another try)."""
    order = ForeignKeyField(WorkOrder, on_delete="CASCADE", backref="revisits")
    created_at = DateTimeField(default=utcnow, index=True)
    status = CharField(max_length=8, default="pending", index=True,
                       choices=[(s, s) for s in REVISIT_STATUSES])
    attempts = SmallIntegerField(default=0)
    agent = ForeignKeyField(User, null=True, on_delete="SET NULL")
    satisfaction = CharField(max_length=24, default="")
    comment = TextField(default="")
    done_at = DateTimeField(null=True)


MODELS += [Department, DepartmentMember, ServiceCatalogEntry, WorkOrderWorkflow, SlaRule,
           WorkOrder, WorkOrderEvent, WorkOrderAttachment, SlaTimer, DeadlineExtension,
           RevisitTask]
