"""Human labels of the courses domain's enumerations (pages, PDFs, exports, API docs)."""

from flask_babel import lazy_gettext as _l

PROGRAMME_KIND_LABELS = {
    "pd": _l("Professional development (ПК)"),
    "retraining": _l("Professional retraining"),
    "profile": _l("Profile course"),
    "preprofile": _l("Pre-profile elective"),
    "olympiad": _l("Olympiad training"),
    "supplementary": _l("Supplementary general programme"),
}
DIRECTION_LABELS = {
    "technical": _l("Technical"),
    "natural_science": _l("Natural science"),
    "social_humanitarian": _l("Social and humanitarian"),
    "arts": _l("Arts"),
    "physical": _l("Physical culture and sports"),
    "tourism": _l("Tourism and local history"),
}
AUDIENCE_LABELS = {
    "teachers": _l("Teachers"),
    "managers": _l("School leaders"),
    "students": _l("Pupils"),
    "parents": _l("Parents"),
}
PROGRAMME_STATUS_LABELS = {
    "draft": _l("Draft"),
    "review": _l("On review"),
    "approved": _l("Approved"),
    "published": _l("Published"),
    "archived": _l("Archived"),
}
CONTROL_FORM_LABELS = {
    "none": _l("None"),
    "credit": _l("Credit (зачёт)"),
    "graded_credit": _l("Graded credit"),
    "exam": _l("Exam"),
    "test_work": _l("Test paper"),
    "essay": _l("Essay"),
    "interview": _l("Interview"),
}
FINAL_ATTESTATION_LABELS = {
    "test": _l("Test"),
    "exam": _l("Exam"),
    "project": _l("Defence of a project"),
    "final_work": _l("Defence of a final work"),
}
RESULT_SCALE_LABELS = {
    "pass_fail": _l("Pass / fail"),
    "five_point": _l("5-point scale"),
    "points": _l("Points"),
}
REVIEW_ACTION_LABELS = {
    "submit": _l("Sent for review"),
    "comment": _l("Comment"),
    "approve": _l("Approved"),
    "return": _l("Returned for changes"),
    "publish": _l("Published"),
    "archive": _l("Archived"),
    "withdraw": _l("Withdrawn from review"),
}
ENROLMENT_STATUS_LABELS = {
    "requested": _l("Request awaits approval"),
    "waitlisted": _l("On the waiting list"),
    "active": _l("Studying"),
    "completed": _l("Completed"),
    "withdrawn": _l("Left"),
    "rejected": _l("Request rejected"),
}
ENROLMENT_METHOD_LABELS = {
    "manual": _l("by the organizers"),
    "self": _l("by request"),
    "key": _l("with the enrolment key"),
    "csv": _l("from a file"),
    "cohort": _l("with a class or organization"),
}
ACTIVITY_KIND_LABELS = {
    "page": _l("Page"),
    "file": _l("File"),
    "link": _l("Link or video"),
    "assignment": _l("Assignment"),
    "quiz": _l("Quiz"),
    "webinar": _l("Webinar"),
    "survey": _l("Survey"),
}


def course_labels() -> dict:
    return {
        "programme_kind_labels": PROGRAMME_KIND_LABELS, "direction_labels": DIRECTION_LABELS,
        "audience_labels": AUDIENCE_LABELS, "programme_status_labels": PROGRAMME_STATUS_LABELS,
        "control_form_labels": CONTROL_FORM_LABELS, "final_attestation_labels": FINAL_ATTESTATION_LABELS,
        "result_scale_labels": RESULT_SCALE_LABELS, "review_action_labels": REVIEW_ACTION_LABELS,
        "enrolment_status_labels": ENROLMENT_STATUS_LABELS, "enrolment_method_labels": ENROLMENT_METHOD_LABELS,
        "activity_kind_labels": ACTIVITY_KIND_LABELS,
    }
