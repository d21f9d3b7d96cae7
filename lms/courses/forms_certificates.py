"""Forms and labels of the certificate pages. The forms check the shape of the input; the rules (hours
minimums, dates, who may receive a document, template safety) live in ``lms.courses.certificates``."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from lms.core.forms import select_choices

DOCUMENT_KIND_LABELS = {
    "pd_certificate": _l("Certificate of professional development (удостоверение)"),
    "retraining_diploma": _l("Diploma of professional retraining"),
    "profile_certificate": _l("Certificate of a profile course"),
    "statement": _l("Statement of study (справка об обучении)"),
}
STATUS_LABELS = {
    "valid": _l("valid"),
    "revoked": _l("revoked"),
    "replaced": _l("replaced by a duplicate"),
}
SETTINGS_LABELS = {
    "city": _l("City"),
    "director_name": _l("Director's name"),
    "director_title": _l("Director's title"),
    "series": _l("Series"),
    "study_form": _l("Form of study"),
    "funding_source": _l("Source of funding"),
    "education_form": _l("Form of education"),
    "citizenship_code": _l("Citizenship (OKSM code)"),
}


def kind_choices() -> list[SelectChoice]:
    return select_choices(DOCUMENT_KIND_LABELS.items())


class IssueForm(FlaskForm):
    holder = SelectField(_l("Person"), coerce=int, validate_choice=False, validators=[InputRequired()])
    programme = SelectField(_l("Programme"), coerce=int, validate_choice=False, validators=[InputRequired()])
    kind = SelectField(_l("Document"), choices=kind_choices, validate_choice=False, validators=[Optional()])
    hours = IntegerField(_l("Academic hours"), validators=[Optional(), NumberRange(min=1, max=5000)],
                         description=_l("Leave empty to use the programme's total."))
    study_start = DateField(_l("Start of study"), validators=[InputRequired()])
    study_end = DateField(_l("End of study"), validators=[InputRequired()])
    issued_on = DateField(_l("Date of issue"), validators=[Optional()],
                          description=_l("Leave empty for today."))


class RevokeForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)],
                         description=_l("E.g. the number and date of the order."))


class SettingsForm(FlaskForm):
    city = StringField(SETTINGS_LABELS["city"], validators=[Optional(), Length(max=100)])
    director_title = StringField(SETTINGS_LABELS["director_title"], validators=[Optional(), Length(max=200)],
                                 description=_l("E.g. «Директор»."))
    director_name = StringField(SETTINGS_LABELS["director_name"], validators=[Optional(), Length(max=200)],
                                description=_l("As printed under the signature line, e.g. «А. А. Образцов»."))
    series = StringField(SETTINGS_LABELS["series"], validators=[Optional(), Length(max=20)],
                         description=_l("Printed on new documents; leave empty if the form has no series."))
    study_form = StringField(SETTINGS_LABELS["study_form"], validators=[Optional(), Length(max=60)],
                             description=_l("For ФИС ФРДО, e.g. «Заочная»."))
    funding_source = StringField(SETTINGS_LABELS["funding_source"], validators=[Optional(), Length(max=120)],
                                 description=_l("For ФИС ФРДО, as the registry words it."))
    education_form = StringField(SETTINGS_LABELS["education_form"], validators=[Optional(), Length(max=120)],
                                 description=_l("For ФИС ФРДО: the form of education when studies ended."))
    citizenship_code = StringField(SETTINGS_LABELS["citizenship_code"], validators=[Optional(), Length(max=3)],
                                   description=_l("643 for Russia."))


class TemplateForm(FlaskForm):
    html = TextAreaField(_l("HTML template"), validators=[DataRequired(), Length(max=100_000)])


class FrdoForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that only reads

    org = SelectField(_l("Organization"), coerce=int, validate_choice=False, validators=[InputRequired()])
    start = DateField(_l("Issued from"), validators=[InputRequired()])
    end = DateField(_l("Issued until"), validators=[InputRequired()])
