"""Human labels for the domain's enumerations, in one place for pages, exports and the API docs."""

from flask_babel import lazy_gettext as _l

ROLE_LABELS = {
    "student": _l("Student"),
    "teacher": _l("Teacher"),
    "methodologist": _l("Methodologist"),
    "org_admin": _l("Organization administrator"),
    "coordinator": _l("Municipal coordinator"),
}
ORG_KIND_LABELS = {
    "school": _l("School"),
    "preschool": _l("Preschool"),
    "supplementary_centre": _l("Supplementary education centre"),
    "college": _l("College"),
    "university": _l("University"),
    "methodological_office": _l("Methodological office"),
    "education_department": _l("Education department"),
}
ORG_STATUS_LABELS = {
    "resource_centre": _l("Resource centre"),
    "internship_site": _l("Internship site"),
    "innovation_site": _l("Innovation site"),
}
RELATION_LABELS = {
    "mother": _l("Mother"),
    "father": _l("Father"),
    "guardian": _l("Guardian"),
}
CONSENT_LABELS = {
    "personal_data": _l("Processing of personal data"),
    "publish_results": _l("Publishing of results"),
    "olympiad_participation": _l("Participation in olympiads"),
}
IMPORT_STATUS_LABELS = {
    "pending": _l("waiting"),
    "running": _l("in progress"),
    "done": _l("finished"),
    "failed": _l("errors found"),
    "interrupted": _l("interrupted"),
}
SEX_LABELS = {"m": _l("Male"), "f": _l("Female")}


def template_labels() -> dict:
    return {
        "role_labels": ROLE_LABELS, "org_kind_labels": ORG_KIND_LABELS, "org_status_labels": ORG_STATUS_LABELS,
        "relation_labels": RELATION_LABELS, "consent_labels": CONSENT_LABELS,
        "import_status_labels": IMPORT_STATUS_LABELS, "sex_labels": SEX_LABELS,
    }
