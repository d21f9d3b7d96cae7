"""Forms of the courses domain. They carry the input; the rules (hours, kinds, scales, who may review)
live in the services, so the pages and the API answer alike. Number inputs are text fields here so that
a wrong value gets the service's message on its field instead of WTForms' generic one."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
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

from lms.core.forms import select_choices
from lms.courses import grading as methods
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
        return select_choices([("", empty)] + items if empty is not None else items)
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
    action = RadioField(_l("Decision"), choices=select_choices([
        ("comment", _l("Comment only")), ("approve", _l("Approve")), ("return", _l("Return for changes"))]),
        default="comment", validate_choice=False)
    module = SelectField(_l("About the module"), coerce=str, validate_choice=False)
    comment = TextAreaField(_l("Comment"))


class RunForm(FlaskForm):
    host = SelectField(_l("Host organization"), coerce=int, validate_choice=False)
    name = StringField(_l("Name of the run"), description=_l("E.g. «Поток 1, осень 2026»."))
    starts_on = StringField(_l("Starts on"))
    ends_on = StringField(_l("Ends on"))
    capacity = StringField(_l("Places"), description=_l("Leave empty for no limit. When the run is full, "
                                                        "new learners go to the waiting list."))
    is_published = BooleanField(_l("Show in the catalogue"))
    self_enrolment = BooleanField(_l("People may ask to enrol from the catalogue"))
    requires_approval = BooleanField(_l("A request needs approval"), default=True)
    enrolment_key = StringField(_l("Enrolment key"),
                                description=_l("Optional: whoever knows the key enrols at once, without approval."))
    is_network = BooleanField(_l("Network form: learners of other organizations may enrol"))
    is_template = BooleanField(_l("Template run: new runs of the programme copy its content"))
    template = SelectField(_l("Copy content from"), coerce=str, validate_choice=False,
                           description=_l("A template run of this programme; otherwise each curriculum module "
                                          "gets an empty section."))
    teachers = SelectMultipleField(_l("Teachers"), coerce=int, validate_choice=False,
                                   description=_l("Staff of the host organization. Hold Ctrl to choose several."))
    groups = StringField(_l("Groups"), description=_l("Names separated by commas, e.g. «Группа 1, Группа 2»."))

    def run_data(self) -> dict:
        return {name: getattr(self, name).data for name in (
            "name", "starts_on", "ends_on", "capacity", "is_published", "self_enrolment", "requires_approval",
            "enrolment_key", "is_network", "is_template")}


class EnrolPersonForm(FlaskForm):
    person = StringField(_l("Login or e-mail"))
    group = SelectField(_l("Group"), coerce=str, validate_choice=False)


class EnrolCohortForm(FlaskForm):
    organization = SelectField(_l("Organization"), coerce=int, validate_choice=False)
    role = SelectField(_l("Who"), choices=select_choices([
        ("student", _l("Students")), ("teacher", _l("Teachers")), ("methodologist", _l("Methodologists"))]),
        validate_choice=False)
    grade = StringField(_l("Grade"), description=_l("For students: leave empty for every grade."))
    class_letter = StringField(_l("Class letter"))
    group = SelectField(_l("Group"), coerce=str, validate_choice=False)


class EnrolCsvForm(FlaskForm):
    file = FileField(_l("CSV file"), description=_l("One person per line: login or e-mail, optionally a group "
                                                    "after a «;». UTF-8 or Windows-1251."))
    dry_run = BooleanField(_l("Check only, enrol nobody"), default=True)


class StaffForm(FlaskForm):
    person = StringField(_l("Login or e-mail"))
    role = SelectField(_l("Role in the run"),
                       choices=select_choices([("teacher", _l("Teacher")), ("assistant", _l("Assistant"))]),
                       validate_choice=False)


class GroupForm(FlaskForm):
    name = StringField(_l("Group name"))


class RequestEnrolmentForm(FlaskForm):
    key = StringField(_l("Enrolment key"))
    note = TextAreaField(_l("Note to the organizers"), description=_l("Optional, e.g. your position and school."))


class SectionForm(FlaskForm):
    title = StringField(_l("Section title"))
    summary = TextAreaField(_l("Summary"))


class ActivityForm(FlaskForm):
    title = StringField(_l("Title"))
    body = TextAreaField(_l("Text"), description=_l("Formatting: HTML paragraphs, lists, links, tables and images; "
                                                    "scripts and styles are removed."))
    url = StringField(_l("Web address"), description=_l("A page or a video, e.g. https://…"))
    file = FileField(_l("File"), description=_l("Up to 200 MB."))
    planned_hours = StringField(_l("Planned academic hours"))
    completion = SelectField(_l("Completed when"), choices=select_choices([
        ("none", _l("Does not count toward completion")), ("viewed", _l("The learner has opened it")),
        ("submitted", _l("The learner has submitted work")), ("graded", _l("Graded at or above the pass mark")),
        ("attended", _l("Attended (webinars)"))]), validate_choice=False)
    is_visible = BooleanField(_l("Visible to learners"), default=True)
    available_from = StringField(_l("Open from"))
    available_until = StringField(_l("Open until"))
    requires_activity = SelectField(_l("Only after completing"), coerce=str, validate_choice=False)
    group = SelectField(_l("Only for the group"), coerce=str, validate_choice=False)
    opens_at = StringField(_l("Submissions open"))
    due_at = StringField(_l("Due"))
    cutoff_at = StringField(_l("Cut-off"), description=_l("After this moment nothing is accepted; between the due "
                                                          "date and the cut-off work is accepted as late."))
    online_text = BooleanField(_l("Online text"), default=True)
    files = BooleanField(_l("File uploads"), default=True)
    grading = SelectField(_l("Graded with"), choices=select_choices(methods.METHOD_LABELS.items()),
                          validate_choice=False)
    scale = SelectField(_l("Scale"), choices=select_choices(methods.SCALE_LABELS.items()),
                        validate_choice=False,
                        description=_l("A scale's marks count as points: 2–5 of 5 (pass mark 3) or 0/1 of 1."))
    rubric = TextAreaField(_l("Rubric"), description=_l(
        "A criterion per line: «Criterion: level = points; level = points». The grader chooses a level for "
        "each criterion; the work gets their sum, and the maximum is the sum of the best levels."))
    max_points = StringField(_l("Maximum points"), description=_l("With points."))
    pass_points = StringField(_l("Pass mark, points"), description=_l("With points or a rubric."))


class AnnouncementForm(FlaskForm):
    title = StringField(_l("Subject"))
    body = TextAreaField(_l("Text"))


class SubmitWorkForm(FlaskForm):
    text = TextAreaField(_l("Your answer"))
    files = MultipleFileField(_l("Files"), description=_l("Up to 10 files, 200 MB each."))


class GradeForm(FlaskForm):
    points = StringField(_l("Points"))
    feedback = TextAreaField(_l("Feedback"))
    files = MultipleFileField(_l("Feedback files"))
