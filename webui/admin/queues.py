"""Admin → Queues: the Queue rows callcenter.conf.xml is rendered from, and their
tiers (which agents answer a queue, at which level and position: the agents'
skills). List, create, edit, delete queues; add, change and remove tiers.

A queue change is rendered into callcenter.conf.xml and the queue reloaded in
mod_callcenter (`callcenter_config queue reload`); a tier change goes by one
reconcile pass (webui.admin.agents.push_to_switch). The waiting service reads
announce frequency and sticky-agent days from the database by itself.

mod_callcenter's reserve-agents is global, not per queue, and read only when the
module loads: it is the config setting acd.reserve_agents (shown here, not edited).

Admin changes everything; a supervisor may look and change tiers.
"""
import logging

import peewee
from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp

from db.models import QUEUE_STRATEGIES, Agent, Queue, Tier, database
from esl_apps.switch_render import flow_queues
from webui import audit
from webui.access import role_required
from webui.admin import bp
from webui.admin.agents import push_to_switch
from webui.admin.flows import load_current

log = logging.getLogger(__name__)

QUEUE_NAME_RE = r"^[A-Za-z0-9_-]{1,48}$"   # as esl_apps.acd.commands.QUEUE_NAME_RE
# Hold music: a local_stream (mod_local_stream) or silence; goes into the XML.
MOH_RE = r"^(local_stream://[A-Za-z0-9_-]{1,64}|silence_stream://-?[0-9]{1,7})$"
STRATEGY_NAMES = {
    "longest-idle-agent": _l("Longest idle agent"), "round-robin": _l("Round robin"),
    "top-down": _l("Top down"), "ring-all": _l("Ring all"),
    "agent-with-least-talk-time": _l("Least talk time"),
    "agent-with-fewest-calls": _l("Fewest calls")}
# Queue fields the page edits, and whether a change needs the queue reloaded in
# mod_callcenter (the others are the panel's or the waiting service's).
SWITCH_FIELDS = ("strategy", "moh_sound", "record_calls", "max_wait_time",
                 "max_wait_time_with_no_agent", "tier_rules_apply",
                 "discard_abandoned_after", "abandoned_resume_allowed")
OTHER_FIELDS = ("display_name", "announce_frequency", "sticky_agent_days")
MAX_LEVEL = 9999


def _strategy_choices():
    return [(s, f"{STRATEGY_NAMES[s]} ({s})") for s in QUEUE_STRATEGIES]


def _seconds(label, default, high=86400):
    return IntegerField(label, default=default,
                        validators=[InputRequired(), NumberRange(min=0, max=high)])


class QueueSettingsForm(FlaskForm):
    display_name = StringField(_l("Display name"), validators=[Optional(), Length(max=128)])
    strategy = SelectField(_l("Strategy"), choices=_strategy_choices,
                           default="longest-idle-agent", validators=[InputRequired()])
    moh_sound = StringField(_l("Hold music"), default="local_stream://moh", validators=[
        InputRequired(), Regexp(MOH_RE, message=_l(
            "local_stream://NAME or silence_stream://-1."))])
    record_calls = BooleanField(_l("Record calls"), default=True)
    max_wait_time = _seconds(_l("Max wait (s, 0 = no limit)"), 0)
    max_wait_time_with_no_agent = _seconds(_l("Max wait with no agent (s, 0 = no limit)"), 0)
    announce_frequency = _seconds(_l("Announce position every (s, 0 = never)"), 30, 3600)
    sticky_agent_days = IntegerField(
        _l("Sticky agent (days, 0 = off)"), default=0,
        validators=[InputRequired(), NumberRange(min=0, max=365)])
    tier_rules_apply = BooleanField(_l("Tier rules apply"), default=False)
    discard_abandoned_after = _seconds(_l("Forget abandoned callers after (s)"), 60)
    abandoned_resume_allowed = BooleanField(_l("Abandoned callers keep their place"),
                                            default=False)


class CreateQueueForm(QueueSettingsForm):
    name = StringField(_l("Queue name"), validators=[
        InputRequired(), Regexp(QUEUE_NAME_RE, message=_l(
            "1 to 48 letters, digits, _ or -."))])


def _level(label):
    return IntegerField(label, default=1, validators=[
        InputRequired(), NumberRange(min=1, max=MAX_LEVEL)])


class TierForm(FlaskForm):
    agent = SelectField(_l("Agent"), coerce=int, validators=[InputRequired()])
    level = _level(_l("Level"))
    position = _level(_l("Position"))


class TierChangeForm(FlaskForm):
    level = _level(_l("Level"))
    position = _level(_l("Position"))


class ActionForm(FlaskForm):
    """Nothing but the CSRF token (delete, remove)."""


def _values(form) -> dict:
    values = {key: getattr(form, key).data for key in SWITCH_FIELDS + OTHER_FIELDS}
    values["display_name"] = values["display_name"] or ""
    values["record_calls"] = bool(values["record_calls"])
    values["tier_rules_apply"] = bool(values["tier_rules_apply"])
    values["abandoned_resume_allowed"] = bool(values["abandoned_resume_allowed"])
    values["sticky_agent_days"] = values["sticky_agent_days"] or None
    return values


def _config():
    return current_app.config["HOTLINE_CONFIG"]


def flow_users() -> dict:
    """queue name -> the loaded flows that send callers to it."""
    users: dict = {}
    for name, flow in load_current()[0].items():
        for queue in flow_queues({name: flow}):
            users.setdefault(queue, []).append(name)
    return users


def reserve_agents():
    return _config().acd.reserve_agents


# -- list and create ----------------------------------------------------------------
def _list_page(create=None, status=200):
    queues = list(Queue.select().order_by(Queue.name))
    counts = dict(Tier.select(Tier.queue, peewee.fn.COUNT(Tier.id))
                  .group_by(Tier.queue).tuples())
    users = flow_users()
    known = {q.name for q in queues}
    return render_template(
        "admin/queues.html", queues=queues, counts=counts, flow_users=users,
        unlisted=sorted(set(users) - known), fallback=_config().freeswitch.fallback_queue,
        strategy_names=STRATEGY_NAMES, reserve_agents=reserve_agents(),
        create=create or CreateQueueForm(formdata=None)), status


@bp.get("/queues")
@role_required("admin", "supervisor")
def queues():
    return _list_page()


@bp.post("/queues")
@role_required("admin")
def create_queue():
    form = CreateQueueForm()
    if not form.validate_on_submit():
        return _list_page(create=form, status=400)
    name = form.name.data
    if Queue.select().where(Queue.name == name).exists():
        form.name.errors.append(_("A queue with this name already exists."))
        return _list_page(create=form, status=409)
    values = _values(form)
    try:
        with database.atomic():
            queue = Queue.create(name=name, **values)
    except peewee.IntegrityError:
        form.name.errors.append(_("A queue with this name already exists."))
        return _list_page(create=form, status=409)
    audit.record("queue.create", object_type="queue", object_id=queue.id,
                 detail={"name": name, **values})
    log.info("admin: queue %s created", name)
    push_to_switch(reload_queues=[name])
    return redirect(url_for("admin.queue", queue_id=queue.id))


# -- one queue: settings and tiers -------------------------------------------------
def _queue_or_404(queue_id) -> Queue:
    queue = Queue.get_or_none(Queue.id == queue_id)
    if queue is None:
        abort(404)
    return queue


def _tier_form(queue, **kwargs) -> TierForm:
    form = TierForm(**kwargs)
    inside = Tier.select(Tier.agent).where(Tier.queue == queue)
    form.agent.choices = [(a.id, f"{a.extension} {a.display_name}") for a in
                          Agent.select().where(Agent.id.not_in(inside))
                          .order_by(Agent.extension)]
    return form


def _queue_page(queue, settings=None, tier_form=None, tier_errors=None, status=200):
    if settings is None:
        settings = QueueSettingsForm(formdata=None, obj=queue)
        settings.sticky_agent_days.data = queue.sticky_agent_days or 0
    tiers = list(Tier.select(Tier, Agent).join(Agent).where(Tier.queue == queue)
                 .order_by(Tier.level, Tier.position, Agent.extension))
    return render_template(
        "admin/queue.html", queue=queue, settings=settings,
        tier_form=tier_form or _tier_form(queue, formdata=None), tiers=tiers,
        tier_errors=tier_errors or {}, flows=flow_users().get(queue.name, []),
        strategy_names=STRATEGY_NAMES, can_edit=current_user.role == "admin"), status


@bp.get("/queues/<int:queue_id>")
@role_required("admin", "supervisor")
def queue(queue_id):
    return _queue_page(_queue_or_404(queue_id))


@bp.post("/queues/<int:queue_id>")
@role_required("admin")
def edit_queue(queue_id):
    queue = _queue_or_404(queue_id)
    form = QueueSettingsForm()
    if not form.validate_on_submit():
        return _queue_page(queue, settings=form, status=400)
    values = _values(form)
    before = {key: getattr(queue, key) for key in values}
    changed = {k: v for k, v in values.items() if before[k] != v}
    Queue.update(**values).where(Queue.id == queue.id).execute()
    audit.record("queue.update", object_type="queue", object_id=queue.id,
                 detail={"name": queue.name, "from": {k: before[k] for k in changed},
                         "to": changed})
    if set(changed) & set(SWITCH_FIELDS):
        push_to_switch(reload_queues=[queue.name])
    else:
        flash(_("Saved."), "info")
    return redirect(url_for("admin.queue", queue_id=queue.id))


@bp.post("/queues/<int:queue_id>/delete")
@role_required("admin")
def delete_queue(queue_id):
    queue = _queue_or_404(queue_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    flows = flow_users().get(queue.name, [])
    if flows:
        flash(_("Queue %(name)s is used by the flows %(flows)s: change them first.",
                name=queue.name, flows=", ".join(sorted(flows))), "error")
        return redirect(url_for("admin.queue", queue_id=queue.id))
    if queue.name == _config().freeswitch.fallback_queue:
        flash(_("Queue %(name)s is Hotline's fallback queue and cannot be deleted.",
                name=queue.name), "error")
        return redirect(url_for("admin.queue", queue_id=queue.id))
    agents = [t.agent.extension for t in Tier.select(Tier, Agent).join(Agent)
              .where(Tier.queue == queue)]
    with database.atomic():
        queue.delete_instance()   # its tiers go with it (ON DELETE CASCADE)
    audit.record("queue.delete", object_type="queue", object_id=queue.id,
                 detail={"name": queue.name, "agents": agents})
    log.info("admin: queue %s deleted", queue.name)
    push_to_switch(unload_queues=[queue.name])
    return redirect(url_for("admin.queues"))


@bp.post("/queues/<int:queue_id>/tiers")
@role_required("admin", "supervisor")
def add_tier(queue_id):
    queue = _queue_or_404(queue_id)
    form = _tier_form(queue)
    if not form.validate_on_submit():
        return _queue_page(queue, tier_form=form, status=400)
    agent = Agent.get_by_id(form.agent.data)   # one of the choices: it exists
    try:
        with database.atomic():
            tier = Tier.create(queue=queue, agent=agent, level=form.level.data,
                               position=form.position.data)
    except peewee.IntegrityError:
        form.agent.errors.append(_("This agent is already in the queue."))
        return _queue_page(queue, tier_form=form, status=409)
    audit.record("tier.create", object_type="tier", object_id=tier.id,
                 detail={"queue": queue.name, "agent": agent.extension,
                         "level": tier.level, "position": tier.position})
    push_to_switch()
    return redirect(url_for("admin.queue", queue_id=queue.id))


def _tier_or_404(queue, tier_id) -> Tier:
    tier = (Tier.select(Tier, Agent).join(Agent)
            .where((Tier.id == tier_id) & (Tier.queue == queue)).first())
    if tier is None:
        abort(404)
    return tier


@bp.post("/queues/<int:queue_id>/tiers/<int:tier_id>")
@role_required("admin", "supervisor")
def change_tier(queue_id, tier_id):
    queue = _queue_or_404(queue_id)
    tier = _tier_or_404(queue, tier_id)
    form = TierChangeForm()
    if not form.validate_on_submit():
        errors = [f"{field.label.text}: {error}" for field in (form.level, form.position)
                  for error in field.errors]
        return _queue_page(queue, tier_errors={tier.id: errors}, status=400)
    before = (tier.level, tier.position)
    after = (form.level.data, form.position.data)
    if before != after:
        Tier.update(level=after[0], position=after[1]).where(Tier.id == tier.id).execute()
        audit.record("tier.update", object_type="tier", object_id=tier.id,
                     detail={"queue": queue.name, "agent": tier.agent.extension,
                             "from": list(before), "to": list(after)})
        push_to_switch()
    return redirect(url_for("admin.queue", queue_id=queue.id))


@bp.post("/queues/<int:queue_id>/tiers/<int:tier_id>/delete")
@role_required("admin", "supervisor")
def remove_tier(queue_id, tier_id):
    queue = _queue_or_404(queue_id)
    tier = _tier_or_404(queue, tier_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    Tier.delete().where(Tier.id == tier.id).execute()
    audit.record("tier.delete", object_type="tier", object_id=tier.id,
                 detail={"queue": queue.name, "agent": tier.agent.extension})
    push_to_switch()
    return redirect(url_for("admin.queue", queue_id=queue.id))
