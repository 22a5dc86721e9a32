"""Work-order figures (esl_apps.workorders.figures) over a date range: counts by
type, state and region, SLA compliance, mean time to close."""
from flask import render_template, request

from esl_apps.workorders import figures as numbers
from esl_apps.workorders.service import load_workflow
from webui.access import role_required
from webui.crm.common import parse_day, utc_bounds
from webui.i18n import current_language
from webui.workorders import FIGURE_ROLES, bp


@bp.get("/figures")
@role_required(*FIGURE_ROLES)
def figures():
    start_day, end_day = parse_day(request.args.get("from")), parse_day(request.args.get("to"))
    start = utc_bounds(start_day) if start_day else None
    end = utc_bounds(end_day, end=True) if end_day else None
    return render_template("workorders/figures.html", figures=numbers.summary(start, end),
                           workflow=load_workflow(), lang=current_language(),
                           args=request.args)
