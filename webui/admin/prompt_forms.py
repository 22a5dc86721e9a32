"""Admin → Prompts: the page's forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, InputRequired, Length, Regexp

from esl_apps.prompts.override import IDENTS
from esl_apps.prompts.paths import LANGUAGES
from webui.admin.prompt_files import LANGUAGE_NAMES, MAX_TEXT, NAME_RE


def _language_choices():
    return [SelectChoice(code, LANGUAGE_NAMES[code]) for code in LANGUAGES]


class NamedPromptForm(FlaskForm):
    """A panel prompt's language and name."""
    language = SelectField(_l("Language"), choices=_language_choices,
                           validators=[InputRequired()])
    name = StringField(_l("Prompt name"), validators=[
        InputRequired(), Regexp(NAME_RE, message=_l(
            "Lower-case letters, digits, - and _ (at most 48), starting with a letter "
            "or digit."))])


class UploadForm(NamedPromptForm):
    file = FileField(_l("Sound file (WAV, MP3 or OGG)"), validators=[FileRequired()])


class TextForm(NamedPromptForm):
    text = TextAreaField(_l("Text to speak"), validators=[InputRequired(),
                                                          Length(max=MAX_TEXT)])


class BlockedUploadForm(FlaskForm):
    file = FileField(_l("Sound file (WAV, MP3 or OGG)"), validators=[FileRequired()])


class BlockedTextForm(FlaskForm):
    language = SelectField(_l("Language"), choices=_language_choices,
                           validators=[InputRequired()])
    text = TextAreaField(_l("Text to speak"), validators=[InputRequired(),
                                                          Length(max=MAX_TEXT)])


class RemoveBlockedForm(FlaskForm):
    confirm = HiddenField(validators=[InputRequired(), AnyOf(["remove"])])


class BuiltinUploadForm(FlaskForm):
    """A recording in place of a built-in prompt (or the fallback)."""
    prompt = HiddenField(validators=[InputRequired(), AnyOf(IDENTS)])
    file = FileField(_l("Sound file (WAV, MP3 or OGG)"), validators=[FileRequired()])


class BuiltinTtsForm(FlaskForm):
    """A built-in prompt back to its TTS text (its recording removed)."""
    prompt = HiddenField(validators=[InputRequired(), AnyOf(IDENTS)])


class BuildForm(FlaskForm):
    scope = HiddenField(validators=[InputRequired(), AnyOf(["all"])])
