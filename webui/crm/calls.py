"""Call records: the list with filters (date range, caller, agent, queue, abandoned)
and paging, and one call's page. An agent sees only the calls they took: every
query starts from ``visible_calls``."""
from flask import abort, render_template, request
from flask_login import current_user

from db.models import Agent, CallNote, CallRecord, Queue
from db.phone import try_e164
from webui.access import role_required
from webui.crm import bp
from webui.crm.common import Page, page_number, parse_day, utc_bounds

CALL_ROLES = ("supervisor", "admin", "qa", "agent")


def visible_calls():
    """The call records the signed-in user may see."""
    query = CallRecord.select()
    if current_user.role == "agent":
        mine = Agent.select(Agent.id).where(Agent.user == current_user.record.id)
        query = query.where(CallRecord.agent.in_(mine))
    return query


def filtered_calls(args):
    query = visible_calls()
    start, end = parse_day(args.get("from")), parse_day(args.get("to"))
    if start:
        query = query.where(CallRecord.start_at >= utc_bounds(start))
    if end:
        query = query.where(CallRecord.start_at < utc_bounds(end, end=True))
    caller = (args.get("caller") or "").strip()
    if caller:
        e164 = try_e164(caller)
        condition = CallRecord.caller.contains(caller) | CallRecord.caller_name.contains(caller)
        if e164:
            condition |= CallRecord.caller_e164 == e164
        query = query.where(condition)
    if current_user.role != "agent":
        try:
            agent_id = int(args.get("agent") or 0)
        except ValueError:
            agent_id = 0
        if agent_id:
            query = query.where(CallRecord.agent == agent_id)
    queue = (args.get("queue") or "").strip()
    if queue:
        query = query.where(CallRecord.queue == queue)
    abandoned = args.get("abandoned")
    if abandoned in ("yes", "no"):
        query = query.where(CallRecord.abandoned == (abandoned == "yes"))
    return query.order_by(CallRecord.start_at.desc(), CallRecord.id.desc())


@bp.get("/calls")
@role_required(*CALL_ROLES)
def calls():
    page = Page(filtered_calls(request.args), page_number())
    agent_ids = {c.agent_id for c in page.items if c.agent_id}
    agents = {a.id: a for a in Agent.select().where(Agent.id.in_(agent_ids))} \
        if agent_ids else {}
    choices = [] if current_user.role == "agent" else \
        list(Agent.select().order_by(Agent.display_name))
    queues = [q.name for q in Queue.select(Queue.name).order_by(Queue.name)]
    return render_template("crm/calls.html", page=page, agents=agents,
                           agent_choices=choices, queues=queues, args=request.args)


@bp.get("/calls/<int:call_id>")
@role_required(*CALL_ROLES)
def call(call_id):
    record = visible_calls().where(CallRecord.id == call_id).first()
    if record is None:
        abort(404)   # not there, or not theirs: an agent cannot tell the two apart
    notes = list(CallNote.select().where(CallNote.call == record.id)
                 .order_by(CallNote.created_at))
    return render_template("crm/call.html", call=record, notes=notes)
