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

ROLES = ("admin", "supervisor", "agent", "qa", "designer")
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
    call = ForeignKeyField(CallRecord, null=True, on_delete="SET NULL", backref="notes")
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
