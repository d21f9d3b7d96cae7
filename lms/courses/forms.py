"""Forms of the courses domain. They carry the input; the rules (hours, kinds, scales, who may review)
live in the services, so the pages and the API answer alike. Number inputs are text fields here so that
a wrong value gets the service's message on its field instead of WTForms' generic one."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)

from lms.courses.labels import (
    AUDIENCE_LABELS,
    CONTROL_FORM_LABELS,
    DIRECTION_LABELS,
    FINAL_ATTESTATION_LABELS,
    PROGRAMME_KIND_LABELS,
    RESULT_SCALE_LABELS,
)
from lms.courses.models import DEFAULT_FIVE_POINT, Programme


def _choices(labels: dict, empty: str | None = None):
    def build():
        items = list(labels.items())
        return [("", empty)] + items if empty is not None else items
    return build


class ProgrammeForm(FlaskForm):
    organization = SelectField(_l("Organization"), coerce=int, validate_choice=False,
                               description=_l("The organization that owns and delivers the programme."))
    title = StringField(_l("Title"))
    kind = SelectField(_l("Kind of programme"), choices=_choices(PROGRAMME_KIND_LABELS), validate_choice=False)
    direction = SelectField(_l("Direction"), choices=_choices(DIRECTION_LABELS, "—"), validate_choice=False,
                            description=_l("For a supplementary general programme only."))
    audience = SelectField(_l("Audience"), choices=_choices(AUDIENCE_LABELS), validate_choice=False)
    audience_note = StringField(_l("Who exactly"),
                                description=_l("E.g. «учителя математики 5–9 классов»."))
    subject = StringField(_l("Subject"), description=_l("E.g. «Математика», «Информатика»."))
    description = TextAreaField(_l("Summary"))
    outcomes = TextAreaField(_l("Planned learning outcomes"))
    total_hours = StringField(_l("Total academic hours"),
                              description=_l("Professional development: at least 16 h, usually 36 or 72; "
                                             "retraining: at least 250 h."))
    academic_hour_minutes = StringField(_l("Academic hour, minutes"))
    variable_hours = StringField(_l("Variable part, hours"),
                                 description=_l("How many hours of optional modules a learner takes (0 if none)."))
    final_attestation_form = SelectField(_l("Final attestation"), choices=_choices(FINAL_ATTESTATION_LABELS),
                                         validate_choice=False)
    final_attestation_hours = StringField(_l("Final attestation, hours"))
    result_scale = SelectField(_l("Result scale"), choices=_choices(RESULT_SCALE_LABELS), validate_choice=False)
    threshold_5 = StringField(_l("«5» from, %"))
    threshold_4 = StringField(_l("«4» from, %"))
    threshold_3 = StringField(_l("«3» from, %"))
    max_points = StringField(_l("Maximum points"))
    pass_points = StringField(_l("Pass mark, points"))

    def fill(self, programme: Programme) -> None:
        for name in ("title", "kind", "audience", "audience_note", "subject", "description", "outcomes",
                     "final_attestation_form", "result_scale"):
            getattr(self, name).data = getattr(programme, name)
        self.direction.data = programme.direction or ""
        for name in ("total_hours", "academic_hour_minutes", "variable_hours", "final_attestation_hours",
                     "max_points", "pass_points"):
            value = getattr(programme, name)
            getattr(self, name).data = "" if value is None else str(value)
        thresholds = programme.five_point_thresholds or DEFAULT_FIVE_POINT
        for mark in ("5", "4", "3"):
            getattr(self, f"threshold_{mark}").data = str(thresholds.get(mark, ""))

    def programme_data(self) -> dict:
        data = {name: getattr(self, name).data for name in (
            "title", "kind", "direction", "audience", "audience_note", "subject", "description", "outcomes",
            "total_hours", "academic_hour_minutes", "variable_hours", "final_attestation_form",
            "final_attestation_hours", "result_scale", "threshold_5", "threshold_4", "threshold_3",
            "max_points", "pass_points")}
        return data


class ModuleRowForm(Form):
    title = StringField(_l("Module"))
    lecture_hours = StringField(_l("Lectures"))
    practice_hours = StringField(_l("Practice"))
    self_study_hours = StringField(_l("Self-study"))
    internship_hours = StringField(_l("Internship"))
    control_form = SelectField(_l("Form of control"), choices=_choices(CONTROL_FORM_LABELS), validate_choice=False)
    is_optional = BooleanField(_l("Optional"))


class CurriculumForm(FlaskForm):
    modules = FieldList(FormField(ModuleRowForm), min_entries=1)

    def rows(self) -> list[dict]:
        return [entry.form.data for entry in self.modules]


class SubmitForReviewForm(FlaskForm):
    reviewers = SelectMultipleField(_l("Reviewers"), coerce=int, validate_choice=False,
                                    description=_l("Methodologists of the municipality. Hold Ctrl to choose several."))
    expert = StringField(_l("Expert of another organization"),
                         description=_l("Login or e-mail of an expert who is not in the list (optional)."))
    comment = TextAreaField(_l("Note to the reviewers"))


class ReviewForm(FlaskForm):
    action = RadioField(_l("Decision"), choices=[
        ("comment", _l("Comment only")), ("approve", _l("Approve")), ("return", _l("Return for changes"))],
        default="comment", validate_choice=False)
    module = SelectField(_l("About the module"), coerce=str, validate_choice=False)
    comment = TextAreaField(_l("Comment"))
