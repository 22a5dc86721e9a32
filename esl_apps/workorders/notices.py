"""Who is told about a work order, and what they are told (esl_apps.notify.outbox
renders and sends it).

- dispatch: the assigned field worker, else the department's duty desk;
- sla_warning: the same, so the work gets done in time;
- sla_breach: the department's leads and duty desk (escalation), and the assignee;
- closed: the customer (an SMS to the contact phone).
Everyone in [notify] default_recipients (hotline.toml) is told as well.
"""
import logging

from db.models import DepartmentMember, User, WorkOrder
from esl_apps.notify import outbox

log = logging.getLogger(__name__)


def _member(order: WorkOrder, user_id: int) -> dict | None:
    query = DepartmentMember.select(DepartmentMember, User).join(User) \
        .where(DepartmentMember.user == user_id)
    if order.department_id:
        query = query.order_by((DepartmentMember.department == order.department_id).desc())
    member = query.first()
    if member is None:
        return None
    return {"name": member.user.display_name or member.user.username, "email": member.email,
            "phone": member.phone, "language": member.user.language}


def _desk(order: WorkOrder) -> list[dict]:
    if not order.department_id:
        return []
    dept = order.department
    return [{"name": dept.name, "email": dept.email, "phone": dept.phone}]


def _leads(order: WorkOrder) -> list[dict]:
    if not order.department_id:
        return []
    rows = (DepartmentMember.select(DepartmentMember, User).join(User)
            .where(DepartmentMember.department == order.department_id, DepartmentMember.lead))
    return [{"name": m.user.display_name or m.user.username, "email": m.email,
             "phone": m.phone, "language": m.user.language} for m in rows]


def recipients(event: str, order: WorkOrder) -> list[dict]:
    people = []
    assignee = _member(order, order.assignee_id) if order.assignee_id else None
    if event in ("dispatch", "sla_warning"):
        people = [assignee] if assignee else _desk(order)
    elif event == "sla_breach":
        people = _leads(order) + _desk(order) + ([assignee] if assignee else [])
    elif event == "closed" and order.contact_phone:
        people = [{"name": order.contact_name, "phone": order.contact_phone}]
    people += outbox.default_recipients(event)
    unique, seen = [], set()
    for person in people:
        if not person:
            continue
        key = ((person.get("email") or "").strip().lower(), (person.get("phone") or "").strip())
        if key == ("", "") or key in seen:
            continue
        seen.add(key)
        unique.append(person)
    return unique


def context(order: WorkOrder, state_label: str = "", deadline=None, comment: str = "") -> dict:
    return {
        "number": order.number, "title": order.title, "type": order.type,
        "priority": order.priority,
        "customer": order.contact_name or (order.customer.name if order.customer_id else ""),
        "phone": order.contact_phone, "address": order.address,
        "department": order.department.name if order.department_id else "",
        "assignee": (order.assignee.display_name or order.assignee.username)
        if order.assignee_id else "",
        "deadline": deadline.strftime("%Y-%m-%d %H:%M") + " UTC" if deadline else "",
        "state": state_label or order.state, "comment": comment,
        "url": f"/workorders/{order.id}",
    }


def notify(event: str, order: WorkOrder, **kw) -> list:
    """Queue the event's notifications in the caller's transaction."""
    return outbox.enqueue(event, order_id=order.id, recipients=recipients(event, order),
                          context=context(order, **kw))
