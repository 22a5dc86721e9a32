"""Work orders (工单) in the panel: the list with filters, making one by hand or
from a call (prefilled from the call record: customer, category, IVR data), one
order's page with its history, the transitions the user's role may make,
assignment, photos and linked recordings, deadline extensions; field workers'
"my work orders" (a page for phones); revisits (回访); figures; settings (the
workflow, SLA rules, departments, the service catalogue).

Who sees what: admins, supervisors and agents see every order; a field worker
only the orders assigned to them, and their departments' orders not assigned to
anyone (every query starts from ``visible_orders``; another order answers 404).
What a role may do to an order is the workflow's (esl_apps.workorders.workflow).
"""
import logging
from pathlib import Path

from flask import Blueprint, abort, current_app
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from db.models import DepartmentMember, WorkOrder, database
from esl_apps.ivr.hours import Hours
from esl_apps.workorders.service import OrderService, load_workflow
from webui.i18n import current_language

log = logging.getLogger(__name__)
bp = Blueprint("workorders", __name__, url_prefix="/workorders")
PUBLIC_ENDPOINTS: set[str] = set()

VIEW_ROLES = ("admin", "supervisor", "agent", "field")
CREATE_ROLES = ("admin", "supervisor", "agent")
ASSIGN_ROLES = ("admin", "supervisor", "agent")
DECIDE_ROLES = ("admin", "supervisor")
REVISIT_ROLES = ("admin", "supervisor", "agent")
FIGURE_ROLES = ("admin", "supervisor")

TYPE_NAMES = {"repair": _l("Repair"), "complaint": _l("Complaint"), "consult": _l("Consultation"),
              "suggestion": _l("Suggestion"), "business": _l("Service request"),
              "other": _l("Other")}
PRIORITY_NAMES = {"urgent": _l("Urgent"), "high": _l("High"), "medium": _l("Medium"),
                  "low": _l("Low")}
SATISFACTION_NAMES = {"satisfied": _l("Satisfied"), "basically_satisfied": _l("Mostly satisfied"),
                      "dissatisfied": _l("Dissatisfied"), "unreachable": _l("Could not reach")}
EVENT_NAMES = {"created": _l("Created"), "transition": _l("State changed"),
               "assigned": _l("Assigned"), "comment": _l("Note"),
               "attachment": _l("Photo added"), "sla_warning": _l("Deadline warning"),
               "sla_breach": _l("Deadline missed: escalated"),
               "extension_requested": _l("Extension requested"),
               "extension_approved": _l("Extension approved"),
               "extension_refused": _l("Extension refused"), "revisit": _l("Revisit")}


REFUSALS = {
    "not_allowed": _l("Your role may not make that step from this state."),
    "stale": _l("The order was changed meanwhile; look at it again."),
    "not_field": _l("Work orders are assigned to active field workers."),
    "closed": _l("The order is closed."),
    "extension_range": _l("An extension is 1 minute to 30 days of business time."),
    "resolved": _l("The order is resolved already."),
    "extension_pending": _l("An extension request is waiting for a decision already."),
    "decided": _l("This request was decided already."),
    "revisit_state": _l("The order is not waiting for a revisit."),
    "revisit_done": _l("This revisit is done already."),
}


def refusal(exc) -> str:
    """The sentence to show for esl_apps.workorders.service.Refused."""
    return str(REFUSALS.get(getattr(exc, "key", ""), str(exc)))


def service() -> OrderService:
    hours = current_app.config.get("HOTLINE_HOURS") or Hours(database)
    return OrderService(hours)


def files_root() -> Path:
    """Where photos go: HOTLINE_WORKORDER_FILES, else the config's data directory."""
    explicit = current_app.config.get("HOTLINE_WORKORDER_FILES")
    if explicit:
        return Path(explicit)
    config = current_app.config.get("HOTLINE_CONFIG")
    return config.dirs["data_dir"] if config is not None else Path("/var/lib/hotline")


def my_departments():
    return (DepartmentMember.select(DepartmentMember.department)
            .where(DepartmentMember.user == current_user.record.id))


def visible_orders():
    """The work orders the signed-in user may see."""
    query = WorkOrder.select()
    if current_user.role == "field":
        me = current_user.record.id
        query = query.where((WorkOrder.assignee == me)
                            | (WorkOrder.assignee.is_null()
                               & WorkOrder.department.in_(my_departments())))
    return query


def order_or_404(order_id: int) -> WorkOrder:
    order = visible_orders().where(WorkOrder.id == order_id).first()
    if order is None:
        abort(404)   # not there, or not theirs: the two look the same
    return order


@bp.app_context_processor
def _names():
    return {"wo_type_names": TYPE_NAMES, "wo_priority_names": PRIORITY_NAMES}


def workflow_labels():
    """(workflow, language) for templates: state names as the admin wrote them."""
    return load_workflow(), current_language()


from webui.workorders import (  # noqa: F401  (register the views)
    extensions,
    figures,
    files,
    orders,
    revisits,
    settings,
)
