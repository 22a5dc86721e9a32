"""What can happen to a work order. Each operation runs in one transaction, checks
the workflow and the actor's role, writes the history event and queues the
notifications (esl_apps.workorders.notices), so either all of it happens or none.

Users act with their role (User.role); a system action (an SLA timer) has user
None. Refused is raised for anything the actor may not do, worded for them.
"""
import logging
import uuid
from collections.abc import Callable

from db.models import (
    CallRecord,
    DeadlineExtension,
    Recording,
    RevisitTask,
    User,
    WorkOrder,
    WorkOrderAttachment,
    WorkOrderEvent,
    WorkOrderWorkflow,
    database,
    utcnow,
)
from esl_apps.ivr.hours import Hours
from esl_apps.workorders import notices, sla
from esl_apps.workorders.calendar import BusinessCalendar
from esl_apps.workorders.workflow import Workflow

log = logging.getLogger(__name__)

WORKFLOW_NAME = "default"
EXTENSION_MAX_MINUTES = 30 * 24 * 60
# revisit outcomes: satisfied and basically satisfied close the order,
# dissatisfied re-dispatches it, unreachable leaves the task open
CLOSING = ("satisfied", "basically_satisfied")


class Refused(Exception):
    """The actor may not do this: `key` names the reason (the panel shows its own
    translated sentence for it), the message says it in English."""

    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key = key


def workflow_row() -> WorkOrderWorkflow | None:
    return WorkOrderWorkflow.get_or_none(WorkOrderWorkflow.name == WORKFLOW_NAME)


def load_workflow() -> Workflow:
    row = workflow_row()
    if row is None:
        raise RuntimeError("no work-order workflow in the database (hotline db upgrade)")
    return Workflow.from_definition(row.definition)


def actor_name(user: User | None) -> str:
    return user.username if user is not None else "system"


def add_event(order: WorkOrder, kind: str, user: User | None, comment: str = "",
              from_state: str = "", to_state: str = "", now=None, **detail) -> WorkOrderEvent:
    return WorkOrderEvent.create(order=order.id, at=now or utcnow(), user=user,
                                 actor=actor_name(user), kind=kind, from_state=from_state,
                                 to_state=to_state, comment=comment or "", detail=detail)


class OrderService:
    def __init__(self, hours: Hours | None = None, now: Callable = utcnow):
        self.calendar = BusinessCalendar(hours or Hours(database))
        self.now = now

    # -- making one -------------------------------------------------------
    def create(self, user: User | None, *, title: str, type: str, priority: str,
               call: CallRecord | None = None, **fields) -> WorkOrder:
        """A new order in the workflow's initial state, with its deadlines; from a
        call, the call's customer, IVR data and recording come along."""
        now = self.now()
        with database.atomic():
            workflow = load_workflow()
            wf_row = workflow_row()
            if call is not None:
                if fields.get("customer") is None:
                    fields["customer"] = call.customer_id
                fields["call_data"] = dict(call.call_data or {})
            order = WorkOrder(number=f"new-{uuid.uuid4().hex[:24]}", title=title,
                              type=type, priority=priority, call=call, state=workflow.initial,
                              created_by=user, created_at=now, updated_at=now, **fields)
            sla.snapshot(order, wf_row)
            order.sla_started_at = now
            order.save()
            # 工单号: the local day and the row id, e.g. 20261123000042
            day = self.calendar.local_date(order.sla_schedule, now)
            order.number = f"{day:%Y%m%d}{order.id:06d}"
            sla.start(self.calendar, order, now)
            order.save()
            add_event(order, "created", user, fields.get("description", ""),
                      to_state=workflow.initial, now=now)
            if call is not None:
                recording = Recording.get_or_none(Recording.call == call.id)
                if recording is not None:
                    WorkOrderAttachment.create(order=order.id, kind="recording",
                                               filename=recording.call_uuid,
                                               recording=recording, uploaded_by=user,
                                               uploaded_at=now)
            self._enter(order, workflow, workflow.initial, user, now)
            notices.notify("dispatch", order, deadline=order.resolve_due_at,
                           state_label=workflow.label(order.state, "zh"))
        log.info("work order %s made by %s (%s/%s)", order.number, actor_name(user),
                 type, priority)
        return order

    # -- the workflow -----------------------------------------------------
    def transition(self, order: WorkOrder, target: str, user: User | None, role: str,
                   comment: str = "") -> WorkOrder:
        workflow = load_workflow()
        step = workflow.find(order.state, target, role)
        if step is None:
            raise Refused("not_allowed", f"{role} may not move the order from {order.state} "
                          f"to {target}")
        with database.atomic():
            self._step(order, workflow, step, user, comment)
        return order

    def _step(self, order, workflow, step, user, comment):
        now = self.now()
        moved = (WorkOrder.update(state=step.target, updated_at=now)
                 .where(WorkOrder.id == order.id, WorkOrder.state == step.source).execute())
        if moved != 1:
            raise Refused("stale", "the order was changed meanwhile; reload it")
        order.state, order.updated_at = step.target, now
        add_event(order, "transition", user, comment, from_state=step.source,
                  to_state=step.target, now=now)
        if step.redispatch:
            order.reopen_count += 1
            order.responded_at = order.resolved_at = order.closed_at = None
            sla.start(self.calendar, order, now)
        self._enter(order, workflow, step.target, user, now)
        order.save()
        if step.redispatch:
            notices.notify("dispatch", order, deadline=order.resolve_due_at, comment=comment,
                           state_label=workflow.label(order.state, "zh"))

    def _enter(self, order, workflow, state, user, now):
        """What entering `state` means: deadlines met, a revisit task, closing."""
        if workflow.has(state, "responded") and order.responded_at is None:
            order.responded_at = now
            sla.cancel(order, now, phases=("response",))
        if workflow.has(state, "resolved") and order.resolved_at is None:
            if order.responded_at is None:
                order.responded_at = now
            order.resolved_at = now
            sla.cancel(order, now)
        if workflow.has(state, "revisit") and not RevisitTask.select().where(
                RevisitTask.order == order.id, RevisitTask.status == "pending").exists():
            RevisitTask.create(order=order.id, created_at=now)
        if workflow.has(state, "final"):
            order.closed_at = now
            sla.cancel(order, now)
            (RevisitTask.update(status="done", done_at=now)
             .where(RevisitTask.order == order.id, RevisitTask.status == "pending").execute())
            notices.notify("closed", order, state_label=workflow.label(state, "zh"))
        order.save()

    # -- assignment, notes ------------------------------------------------
    def assign(self, order: WorkOrder, user: User | None, *, department=None, assignee=None,
               comment: str = "") -> WorkOrder:
        if assignee is not None and (assignee.role != "field" or not assignee.active):
            raise Refused("not_field", "work orders are assigned to active field workers")
        if order.closed_at is not None:
            raise Refused("closed", "the order is closed")
        now = self.now()
        with database.atomic():
            before = {"department": order.department_id, "assignee": order.assignee_id}
            order.department = department
            order.assignee = assignee
            order.updated_at = now
            order.save()
            add_event(order, "assigned", user, comment, now=now, before=before,
                      department=order.department_id, assignee=order.assignee_id)
            if department is not None or assignee is not None:
                notices.notify("dispatch", order, deadline=order.resolve_due_at,
                               comment=comment)
        return order

    def comment(self, order: WorkOrder, user: User | None, text: str) -> WorkOrderEvent:
        with database.atomic():
            WorkOrder.update(updated_at=self.now()).where(WorkOrder.id == order.id).execute()
            return add_event(order, "comment", user, text, now=self.now())

    # -- extensions -------------------------------------------------------
    def request_extension(self, order: WorkOrder, user: User, minutes: int,
                          reason: str) -> DeadlineExtension:
        if not 0 < minutes <= EXTENSION_MAX_MINUTES:
            raise Refused("extension_range", "an extension is 1 minute to 30 days of business time")
        if order.resolved_at is not None or order.closed_at is not None:
            raise Refused("resolved", "the order is resolved already")
        with database.atomic():
            if DeadlineExtension.select().where(DeadlineExtension.order == order.id,
                                                DeadlineExtension.status == "pending").exists():
                raise Refused("extension_pending",
                              "an extension request is waiting for a decision already")
            now = self.now()
            ext = DeadlineExtension.create(order=order.id, requested_by=user, minutes=minutes,
                                           reason=reason, requested_at=now)
            add_event(order, "extension_requested", user, reason, now=now, minutes=minutes,
                      extension=ext.id)
        return ext

    def decide_extension(self, ext: DeadlineExtension, user: User, approve: bool,
                         comment: str = "") -> DeadlineExtension:
        now = self.now()
        status = "approved" if approve else "refused"
        with database.atomic():
            done = (DeadlineExtension.update(status=status, decided_by=user, decided_at=now,
                                             decision_comment=comment)
                    .where(DeadlineExtension.id == ext.id,
                           DeadlineExtension.status == "pending").execute())
            if done != 1:
                raise Refused("decided", "this request was decided already")
            order = WorkOrder.get_by_id(ext.order_id)
            if approve:
                sla.extend(self.calendar, order, ext.minutes, now)
                order.updated_at = now
                order.save()
            add_event(order, f"extension_{status}", user, comment, now=now,
                      minutes=ext.minutes, extension=ext.id,
                      resolve_due_at=order.resolve_due_at.isoformat()
                      if order.resolve_due_at else None)
        ext.status = status
        return ext

    # -- revisit ----------------------------------------------------------
    def record_revisit(self, task: RevisitTask, user: User, role: str, satisfaction: str,
                       comment: str = "") -> RevisitTask:
        """The agent's call to the customer: satisfied closes the order, dissatisfied
        re-dispatches it (through the workflow's transitions the role may make),
        unreachable leaves the task open."""
        order = WorkOrder.get_by_id(task.order_id)
        workflow = load_workflow()
        now = self.now()
        with database.atomic():
            if task.status != "pending":
                raise Refused("revisit_done", "this revisit is done already")
            if satisfaction == "unreachable":
                (RevisitTask.update(attempts=RevisitTask.attempts + 1, agent=user,
                                    comment=comment)
                 .where(RevisitTask.id == task.id, RevisitTask.status == "pending").execute())
                task = RevisitTask.get_by_id(task.id)
                add_event(order, "revisit", user, comment, now=now, satisfaction=satisfaction,
                          attempts=task.attempts)
                return task
            if satisfaction in CLOSING:
                def goal(t):
                    return workflow.has(t.target, "final")
            else:
                def goal(t):
                    return t.redispatch
            steps = workflow.path(order.state, role, goal)
            if steps is None:
                raise Refused("revisit_state",
                              f"{role} cannot finish a revisit from state {order.state}")
            done = (RevisitTask.update(status="done", done_at=now, agent=user,
                                       satisfaction=satisfaction, comment=comment,
                                       attempts=RevisitTask.attempts + 1)
                    .where(RevisitTask.id == task.id, RevisitTask.status == "pending")
                    .execute())
            if done != 1:
                raise Refused("revisit_done", "this revisit is done already")
            order.satisfaction = satisfaction
            add_event(order, "revisit", user, comment, now=now, satisfaction=satisfaction)
            for step in steps:
                self._step(order, workflow, step, user, comment)
        return RevisitTask.get_by_id(task.id)
