"""Admin → Agents: the Agent rows mod_callcenter and the SIP directory are built
from. List (extension, name, linked panel user, state, queues), create (a
generated SIP password shown once), reset the SIP password (shown once), edit the
name, linked user and mod_callcenter's times, delete.

Every change lands in the database first, then goes to the switch through the
control object the composition root puts in ``HOTLINE_AGENT_CONTROL``
(webui.desk.control: re-render the SIP directory and callcenter.conf.xml,
reloadxml, one reconcile pass, as the CLI's push does). Without one (a panel on
its own) the page says the switch gets the change at the next sync: the
reconciler of `hotline run` heals every difference.

Admin changes agents; a supervisor may look (and change tiers on the queue page).
"""
import logging
import secrets

import peewee
from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from peewee import fn
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Regexp

from db.models import Agent, AgentStateLog, Queue, Tier, User, database
from webui import audit
from webui.access import role_required
from webui.admin import bp

log = logging.getLogger(__name__)

EXTENSION_RE = r"^[0-9]{2,16}$"          # as esl_apps.switch_render.EXTENSION_RE
# The name goes into the SIP directory's XML (switch_render._text refuses these).
NAME_RE = r'^[^\x00-\x1f$"{}]+$'
DESK_ROLES = ("agent", "supervisor")      # who can be linked to an agent (the desk's users)
TIME_FIELDS = ("max_no_answer", "wrap_up_time", "reject_delay_time", "busy_delay_time",
               "no_answer_delay_time")
STATUS_NAMES = {"Available": _l("Ready"), "On Break": _l("On break"),
                "Logged Out": _l("Logged out")}
CALL_STATE_NAMES = {"Receiving": _l("Ringing"), "In a queue call": _l("On call"),
                    "Idle": _l("Idle"), "Reserved": _l("Reserved"), "Wrap Up": _l("Wrap-up")}


def generate_sip_password() -> str:
    # 16 characters of [A-Za-z0-9_-]: within switch_render.SECRET_RE
    return secrets.token_urlsafe(12)


# -- the switch ------------------------------------------------------------------
def push_to_switch(**what) -> None:
    """Hand a saved change to the switch and say how it went (a flash message).
    what: render=True (agents, SIP passwords), reload_queues=[...], unload_queues=[...]."""
    control = current_app.config.get("HOTLINE_AGENT_CONTROL")
    if control is None:
        flash(_("Saved. No switch is attached to this panel: it gets the change at "
                "the next sync."), "info")
        return
    problem = control.sync(**what)
    if problem is None:
        flash(_("Saved; the switch has it."), "info")
    elif "refused" in problem or "could not" in problem:
        flash(_("Saved, but the switch did not take it: %(why)s", why=problem), "error")
    else:
        flash(_("Saved; the switch gets it at the next sync (%(why)s).", why=problem), "info")


# -- forms -----------------------------------------------------------------------
def _name_field():
    return StringField(_l("Name"), validators=[
        InputRequired(), Length(max=128),
        Regexp(NAME_RE, message=_l('No control characters, $, ", { or }.'))])


def _user_field():
    return SelectField(_l("Panel user"), coerce=int, default=0)


def _time_field(label, high, default):
    return IntegerField(label, default=default,
                        validators=[InputRequired(), NumberRange(min=0, max=high)])


class CreateAgentForm(FlaskForm):
    extension = StringField(_l("Extension"), validators=[
        InputRequired(), Regexp(EXTENSION_RE, message=_l("2 to 16 digits."))])
    display_name = _name_field()
    user = _user_field()


class EditAgentForm(FlaskForm):
    display_name = _name_field()
    user = _user_field()
    max_no_answer = _time_field(_l("Max no answer"), 99, 3)
    wrap_up_time = _time_field(_l("Wrap-up time (s)"), 3600, 10)
    reject_delay_time = _time_field(_l("Reject delay (s)"), 3600, 10)
    busy_delay_time = _time_field(_l("Busy delay (s)"), 3600, 60)
    no_answer_delay_time = _time_field(_l("No-answer delay (s)"), 3600, 10)


class ActionForm(FlaskForm):
    """Nothing but the CSRF token (reset password, delete)."""


def _user_choices(agent=None):
    """Active desk users not linked to another agent (plus this agent's own)."""
    taken = Agent.select(Agent.user).where(Agent.user.is_null(False))
    if agent is not None:
        taken = taken.where(Agent.id != agent.id)
    users = (User.select().where(User.role.in_(DESK_ROLES) & User.active
                                 & User.id.not_in(taken))
             .order_by(User.username))
    choices = [(0, "—")] + [(u.id, f"{u.username} ({u.display_name})"
                                   if u.display_name and u.display_name != u.username
                                   else u.username) for u in users]
    if agent is not None and agent.user_id and agent.user_id not in {c[0] for c in choices}:
        choices.append((agent.user_id, agent.user.username))   # linked, since disabled
    return choices


def _create_form(**kwargs) -> CreateAgentForm:
    form = CreateAgentForm(**kwargs)
    form.user.choices = _user_choices()
    return form


def _edit_form(agent, **kwargs) -> EditAgentForm:
    form = EditAgentForm(**kwargs)
    form.user.choices = _user_choices(agent)
    return form


# -- reading ---------------------------------------------------------------------
def last_states() -> dict:
    """agent id -> the call state of its latest logged change (one query)."""
    latest = (AgentStateLog.select(fn.MAX(AgentStateLog.id)).group_by(AgentStateLog.agent))
    return {row.agent_id: row.state for row in
            AgentStateLog.select(AgentStateLog.agent, AgentStateLog.state)
            .where(AgentStateLog.id.in_(latest))}


def state_text(agent, call_state: str) -> str:
    text = str(STATUS_NAMES.get(agent.state, agent.state))
    if agent.state == "On Break" and agent.break_reason:
        text += f" ({agent.break_reason})"
    if agent.state != "Logged Out" and call_state in CALL_STATE_NAMES:
        text += " / " + str(CALL_STATE_NAMES[call_state])
    return text


def agent_queues() -> dict:
    """agent id -> [(queue name, level, position)]."""
    out: dict = {}
    for tier in (Tier.select(Tier, Queue.name).join(Queue)
                 .order_by(Queue.name)):
        out.setdefault(tier.agent_id, []).append((tier.queue.name, tier.level, tier.position))
    return out


def _agent_or_404(agent_id) -> Agent:
    agent = Agent.get_or_none(Agent.id == agent_id)
    if agent is None:
        abort(404)
    return agent


def _page(create=None, shown=None, status=200):
    agents = list(Agent.select(Agent, User).join(User, peewee.JOIN.LEFT_OUTER)
                  .order_by(Agent.extension))
    states = last_states()
    rows = [{"agent": a, "state": state_text(a, states.get(a.id, "")),
             "user": a.user.username if a.user_id else ""} for a in agents]
    response = render_template("admin/agents.html", rows=rows, queues=agent_queues(),
                               create=create or _create_form(formdata=None), shown=shown)
    return response, status, {"Cache-Control": "no-store"}


# -- views -----------------------------------------------------------------------
@bp.get("/agents")
@role_required("admin", "supervisor")
def agents():
    return _page()


@bp.post("/agents")
@role_required("admin")
def create_agent():
    form = _create_form()
    if not form.validate_on_submit():
        return _page(create=form, status=400)
    ext = form.extension.data
    if Agent.select().where(Agent.extension == ext).exists():
        form.extension.errors.append(_("An agent with this extension already exists."))
        return _page(create=form, status=409)
    password = generate_sip_password()
    try:
        with database.atomic():
            agent = Agent.create(extension=ext, display_name=form.display_name.data,
                                 user=form.user.data or None, sip_password=password)
    except peewee.IntegrityError:
        form.extension.errors.append(_("An agent with this extension already exists, "
                                       "or the user is linked to another agent."))
        return _page(create=form, status=409)
    audit.record("agent.create", object_type="agent", object_id=agent.id,
                 detail={"extension": ext, "name": agent.display_name,
                         "user": form.user.data or None})
    log.info("admin: agent %s created", ext)
    push_to_switch(render=True)
    return _page(shown={"extension": ext, "password": password})


@bp.post("/agents/<int:agent_id>/password")
@role_required("admin")
def reset_sip_password(agent_id):
    agent = _agent_or_404(agent_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    password = generate_sip_password()
    Agent.update(sip_password=password).where(Agent.id == agent.id).execute()
    audit.record("agent.sip_password_reset", object_type="agent", object_id=agent.id,
                 detail={"extension": agent.extension})
    push_to_switch(render=True)
    return _page(shown={"extension": agent.extension, "password": password})


def _edit_page(agent, form=None, status=200):
    if form is None:
        form = _edit_form(agent, formdata=None, obj=agent)
        form.user.data = agent.user_id or 0
    tiers = (Tier.select(Tier, Queue).join(Queue).where(Tier.agent == agent)
             .order_by(Queue.name))
    return render_template("admin/agents_edit.html", agent=agent, form=form,
                           tiers=list(tiers), time_fields=TIME_FIELDS), status


@bp.get("/agents/<int:agent_id>")
@role_required("admin", "supervisor")
def agent(agent_id):
    return _edit_page(_agent_or_404(agent_id))


@bp.post("/agents/<int:agent_id>")
@role_required("admin")
def edit_agent(agent_id):
    agent = _agent_or_404(agent_id)
    form = _edit_form(agent)
    if not form.validate_on_submit():
        return _edit_page(agent, form, 400)
    values = {"display_name": form.display_name.data, "user": form.user.data or None,
              **{key: getattr(form, key).data for key in TIME_FIELDS}}
    before = {"display_name": agent.display_name, "user": agent.user_id,
              **{key: getattr(agent, key) for key in TIME_FIELDS}}
    try:
        with database.atomic():
            Agent.update(**values).where(Agent.id == agent.id).execute()
    except peewee.IntegrityError:
        form.user.errors.append(_("This user is linked to another agent."))
        return _edit_page(agent, form, 409)
    changed = {k: v for k, v in values.items() if before[k] != v}
    audit.record("agent.update", object_type="agent", object_id=agent.id,
                 detail={"extension": agent.extension,
                         "from": {k: before[k] for k in changed}, "to": changed})
    # the name is in the SIP directory; the times go by the reconcile pass
    push_to_switch(render="display_name" in changed)
    return redirect(url_for("admin.agent", agent_id=agent.id))


@bp.post("/agents/<int:agent_id>/delete")
@role_required("admin")
def delete_agent(agent_id):
    agent = _agent_or_404(agent_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    queues = [t.queue.name for t in Tier.select(Tier, Queue).join(Queue)
              .where(Tier.agent == agent)]
    with database.atomic():
        agent.delete_instance()   # its tiers and state log go with it (ON DELETE CASCADE)
    audit.record("agent.delete", object_type="agent", object_id=agent.id,
                 detail={"extension": agent.extension, "name": agent.display_name,
                         "queues": queues})
    log.info("admin: agent %s deleted", agent.extension)
    push_to_switch(render=True)
    return redirect(url_for("admin.agents"))
