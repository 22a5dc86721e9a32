"""The knowledge base's forms (FlaskForm: every one carries a CSRF token)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

BODY_MAX = 20000


class ArticleForm(FlaskForm):
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=200)])
    category = SelectField(_l("Category"), coerce=int, validators=[Optional()])
    tags = StringField(_l("Tags"), validators=[Optional(), Length(max=255)],
                       description=_l("Separated by commas."))
    body = TextAreaField(_l("Content"), validators=[Optional(), Length(max=BODY_MAX)])


class CategoryForm(FlaskForm):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=64)])
    position = IntegerField(_l("Position"), default=0,
                            validators=[Optional(), NumberRange(min=0, max=9999)])


class ScriptForm(FlaskForm):
    category = SelectField(_l("Call category"), coerce=int, validators=[InputRequired()])
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=200)])
    body = TextAreaField(_l("Script"), validators=[InputRequired(), Length(max=BODY_MAX)])
    position = IntegerField(_l("Position"), default=0,
                            validators=[Optional(), NumberRange(min=0, max=9999)])
    active = BooleanField(_l("Active"), default=True)


class NoticeForm(FlaskForm):
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=200)])
    body = TextAreaField(_l("Content"), validators=[Optional(), Length(max=BODY_MAX)])
    active_from = DateTimeLocalField(_l("Shown from"), format="%Y-%m-%dT%H:%M",
                                     validators=[Optional()])
    active_until = DateTimeLocalField(_l("Shown until"), format="%Y-%m-%dT%H:%M",
                                      validators=[Optional()])
    audience_role = SelectField(_l("Shown to"), validators=[Optional()])

    def validate(self, extra_validators=None):
        if not super().validate(extra_validators):
            return False
        start, end = self.active_from.data, self.active_until.data
        if start and end and end <= start:
            self.active_until.errors.append(_l("It must end after it starts."))
            return False
        return True


class ActionForm(FlaskForm):
    """Nothing but the CSRF token (delete, retry)."""
