"""Admin → Business hours and holidays (esl_apps.ivr.hours reads them).

Weekly hours are edited per schedule as one line per weekday, ranges separated by
commas ("09:00-12:00, 13:00-17:30"; empty: closed); every range is checked
(HH:MM, 24:00 for the end of the day, opens before closes) and the week is
replaced whole. Holidays: a day 'closed', or a 'workday' (调休) with optional
hours, for one schedule or every schedule. After a change the running service's
Hours cache is dropped when the app was given it (app.config["HOTLINE_HOURS"]);
otherwise the IVR sees the change within Hours' one-minute cache.
"""
import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import peewee
from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, Regexp, ValidationError

from db.models import Holiday, Schedule, ScheduleHours, database
from esl_apps.ivr.hours import minutes
from webui import audit
from webui.access import role_required
from webui.admin import bp

WEEKDAYS = (_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"),
            _l("Saturday"), _l("Sunday"))
NAME_RE = r"^[A-Za-z0-9_-]{1,64}$"  # as `business_hours: NAME` in a flow
HHMM_RE = r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"


def parse_ranges(text: str) -> list[tuple[str, str]]:
    """'09:00-12:00, 13:00-17:30' -> [('09:00', '12:00'), ('13:00', '17:30')]."""
    ranges = []
    for part in (p.strip() for p in (text or "").replace("，", ",").split(",")):
        if not part:
            continue
        opens, sep, closes = (s.strip() for s in part.partition("-"))
        if not sep:
            raise ValueError(_("%(range)s: write a range as HH:MM-HH:MM.", range=part))
        try:
            start, end = minutes(opens), minutes(closes)
        except ValueError:
            raise ValueError(_("%(range)s: times are HH:MM, 00:00 to 24:00.",
                               range=part)) from None
        if start >= end:
            raise ValueError(_("%(range)s: it must open before it closes.", range=part))
        ranges.append((opens, closes))
    return ranges


def _ranges_validator(_form, field):
    try:
        parse_ranges(field.data)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


class WeekForm(FlaskForm):
    pass


for _day in range(7):
    setattr(WeekForm, f"day{_day}", StringField(WEEKDAYS[_day], validators=[
        Optional(), Length(max=200), _ranges_validator]))


def _zone(_form, field):
    try:
        ZoneInfo(field.data)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(_("Unknown time zone.")) from None


class ScheduleForm(FlaskForm):
    name = StringField(_l("Name"), validators=[
        InputRequired(), Regexp(NAME_RE, message=_l("Letters, digits, - and _ only."))])
    description = StringField(_l("Description"), validators=[Optional(), Length(max=255)])
    timezone = StringField(_l("Time zone"), default="Asia/Shanghai",
                           validators=[InputRequired(), Length(max=64), _zone])


class HolidayForm(FlaskForm):
    schedule = SelectField(_l("Schedule"), validators=[Optional()], validate_choice=False)
    day = DateField(_l("Day"), validators=[InputRequired()])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=64)])
    kind = SelectField(_l("Kind"), choices=[SelectChoice("closed", _l("Closed")),
                                            SelectChoice("workday", _l("Workday (调休)"))],
                       validators=[InputRequired()])
    opens = StringField(_l("Opens"), validators=[
        Optional(), Regexp(HHMM_RE, message=_l("HH:MM, 00:00 to 24:00."))])
    closes = StringField(_l("Closes"), validators=[
        Optional(), Regexp(HHMM_RE, message=_l("HH:MM, 00:00 to 24:00."))])

    def validate(self, extra_validators=None):
        if not super().validate(extra_validators):
            return False
        opens, closes = self.opens.data, self.closes.data
        if bool(opens) != bool(closes):
            self.closes.errors.append(_("Give both times, or neither."))
        elif closes and self.kind.data != "workday":
            self.closes.errors.append(_("Only a workday has hours."))
        elif closes and minutes(opens) >= minutes(closes):
            self.closes.errors.append(_("It must open before it closes."))
        return not self.closes.errors


class ActionForm(FlaskForm):
    """Nothing but the CSRF token."""


def _schedule_choices():
    return [SelectChoice("", _("Every schedule"))] + [
        SelectChoice(str(s.id), s.name) for s in Schedule.select().order_by(Schedule.name)]


def _week_text(schedule) -> dict[int, str]:
    week = {day: [] for day in range(7)}
    for row in schedule.hours.order_by(ScheduleHours.weekday, ScheduleHours.opens):
        if row.weekday in week:
            week[row.weekday].append(f"{row.opens}-{row.closes}")
    return {day: ", ".join(parts) for day, parts in week.items()}


def _page(schedule_form=None, holiday_form=None, week_errors=None, status=200):
    schedules = list(Schedule.select().order_by(Schedule.name))
    holiday_form = holiday_form or HolidayForm(formdata=None)
    holiday_form.schedule.choices = _schedule_choices()
    holidays = list(Holiday.select(Holiday, Schedule).join(Schedule, peewee.JOIN.LEFT_OUTER)
                    .order_by(Holiday.day.desc()))
    return render_template("admin/hours.html", schedules=schedules,
                           weeks={s.id: _week_text(s) for s in schedules},
                           weekdays=WEEKDAYS, holidays=holidays,
                           schedule_form=schedule_form or ScheduleForm(formdata=None),
                           holiday_form=holiday_form, week_errors=week_errors or {}), status


def invalidate(name=None):
    hours = current_app.config.get("HOTLINE_HOURS")
    if hours is not None:
        hours.invalidate(name)


@bp.get("/hours")
@role_required("admin")
def business_hours():
    return _page()


@bp.post("/hours")
@role_required("admin")
def create_schedule():
    form = ScheduleForm()
    if not form.validate_on_submit():
        return _page(schedule_form=form, status=400)
    try:
        with database.atomic():
            schedule = Schedule.create(name=form.name.data, timezone=form.timezone.data,
                                       description=form.description.data or "")
    except peewee.IntegrityError:
        form.name.errors.append(_("A schedule with this name already exists."))
        return _page(schedule_form=form, status=409)
    audit.record("schedule.create", object_type="schedule", object_id=schedule.id,
                 detail={"name": schedule.name, "timezone": schedule.timezone})
    invalidate(schedule.name)
    return redirect(url_for("admin.business_hours"))


def _schedule_or_404(schedule_id) -> Schedule:
    schedule = Schedule.get_or_none(Schedule.id == schedule_id)
    if schedule is None:
        abort(404)
    return schedule


@bp.post("/hours/<int:schedule_id>/week")
@role_required("admin")
def edit_week(schedule_id):
    schedule = _schedule_or_404(schedule_id)
    form = WeekForm()
    if not form.validate_on_submit():
        errors = {day: getattr(form, f"day{day}").errors for day in range(7)}
        return _page(week_errors={schedule.id: {d: e for d, e in errors.items() if e}},
                     status=400)
    week = {day: parse_ranges(getattr(form, f"day{day}").data) for day in range(7)}
    with database.atomic():
        ScheduleHours.delete().where(ScheduleHours.schedule == schedule).execute()
        for day, ranges in week.items():
            for opens, closes in ranges:
                ScheduleHours.create(schedule=schedule, weekday=day, opens=opens,
                                     closes=closes)
    audit.record("schedule.hours", object_type="schedule", object_id=schedule.id,
                 detail={"name": schedule.name,
                         "week": {str(d): [f"{o}-{c}" for o, c in r] for d, r in week.items()}})
    invalidate(schedule.name)
    flash(_("Hours of %(name)s saved.", name=schedule.name), "info")
    return redirect(url_for("admin.business_hours"))


@bp.post("/hours/holidays")
@role_required("admin")
def create_holiday():
    form = HolidayForm()
    form.schedule.choices = _schedule_choices()
    if not form.validate_on_submit():
        return _page(holiday_form=form, status=400)
    schedule = None
    if form.schedule.data:
        schedule = Schedule.get_or_none(Schedule.id == int(form.schedule.data)) \
            if form.schedule.data.isdigit() else None
        if schedule is None:
            form.schedule.errors.append(_("No such schedule."))
            return _page(holiday_form=form, status=400)
    holiday = Holiday.create(schedule=schedule, day=form.day.data, kind=form.kind.data,
                             name=form.name.data or "", opens=form.opens.data or None,
                             closes=form.closes.data or None)
    audit.record("holiday.create", object_type="holiday", object_id=holiday.id,
                 detail={"day": holiday.day.isoformat(), "kind": holiday.kind,
                         "schedule": schedule.name if schedule else None})
    invalidate(schedule.name if schedule else None)
    return redirect(url_for("admin.business_hours"))


@bp.post("/hours/holidays/<int:holiday_id>/delete")
@role_required("admin")
def delete_holiday(holiday_id):
    holiday = Holiday.get_or_none(Holiday.id == holiday_id)
    if holiday is None:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    day = holiday.day.isoformat() if isinstance(holiday.day, datetime.date) else str(holiday.day)
    Holiday.delete().where(Holiday.id == holiday.id).execute()
    audit.record("holiday.delete", object_type="holiday", object_id=holiday.id,
                 detail={"day": day, "kind": holiday.kind})
    invalidate()
    return redirect(url_for("admin.business_hours"))
