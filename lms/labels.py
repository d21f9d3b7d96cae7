"""Human labels for the domain's enumerations, in one place for pages, exports and the API docs."""

from flask_babel import lazy_gettext as _l

ROLE_LABELS = {
    "student": _l("Student"),
    "teacher": _l("Teacher"),
    "methodologist": _l("Methodologist"),
    "org_admin": _l("Organization administrator"),
    "coordinator": _l("Municipal coordinator"),
}
#: Column headings of tables that count people by role.
ROLE_PLURAL_LABELS = {
    "student": _l("Students"),
    "teacher": _l("Teachers"),
    "methodologist": _l("Methodologists"),
    "org_admin": _l("Organization administrators"),
    "coordinator": _l("Municipal coordinators"),
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
OUTBOX_STATUS_LABELS = {
    "pending": _l("queued"),
    "sent": _l("sent"),
    "failed": _l("not sent"),
    "logged": _l("kept in the log (no SMTP server)"),
}
OBJECT_TYPE_LABELS = {
    "Programme": _l("Programme"),
    "CourseRun": _l("Course run"),
    "Certificate": _l("Certificate"),
    "CertificateTemplate": _l("Document template"),
    "User": _l("Person"),
    "Organization": _l("Organization"),
    "Municipality": _l("Municipality"),
    "AcademicYear": _l("Academic year"),
    "Membership": _l("Role"),
    "ImportJob": _l("Import"),
    "QuestionBank": _l("Question bank"),
}
#: Russia's time zones by their usual names (UTC+2 … UTC+12).
TIME_ZONE_LABELS = {
    "Europe/Kaliningrad": _l("Kaliningrad (UTC+2)"),
    "Europe/Moscow": _l("Moscow (UTC+3)"),
    "Europe/Samara": _l("Samara (UTC+4)"),
    "Asia/Yekaterinburg": _l("Yekaterinburg (UTC+5)"),
    "Asia/Omsk": _l("Omsk (UTC+6)"),
    "Asia/Novosibirsk": _l("Novosibirsk (UTC+7)"),
    "Asia/Krasnoyarsk": _l("Krasnoyarsk (UTC+7)"),
    "Asia/Irkutsk": _l("Irkutsk (UTC+8)"),
    "Asia/Yakutsk": _l("Yakutsk (UTC+9)"),
    "Asia/Vladivostok": _l("Vladivostok (UTC+10)"),
    "Asia/Magadan": _l("Magadan (UTC+11)"),
    "Asia/Kamchatka": _l("Kamchatka (UTC+12)"),
}


#: Audit log actions.
ACTION_LABELS = {
    "programme_created": _l("Programme created"), "programme_updated": _l("Programme changed"),
    "programme_curriculum_set": _l("Curriculum changed"), "programme_deleted": _l("Programme draft deleted"),
    "programme_submitted": _l("Programme sent for review"), "programme_withdrawn": _l("Programme withdrawn from review"),
    "programme_approve": _l("Programme approved by a reviewer"), "programme_return": _l("Programme returned for changes"),
    "programme_published": _l("Programme published"), "programme_archived": _l("Programme archived"),
    "programme_version_created": _l("New programme version"),
    "certificate_issued": _l("Certificate issued"), "certificate_revoked": _l("Certificate revoked"),
    "certificate_duplicate_issued": _l("Certificate duplicate issued"),
    "certificate_settings_changed": _l("Document settings changed"),
    "certificate_template_changed": _l("Document template changed"),
    "section_added": _l("Course section added"), "activity_added": _l("Course activity added"),
    "activity_changed": _l("Course activity changed"), "activity_deleted": _l("Course activity deleted"),
    "announcement_posted": _l("Course announcement posted"),
    "run_opened": _l("Course run opened"), "run_updated": _l("Course run changed"),
    "run_staff_added": _l("Teacher added to a run"), "run_group_added": _l("Group added to a run"),
    "enrolled": _l("Enrolled in a course"), "enrolled_bulk": _l("Enrolled in a course in bulk"),
    "enrolment_requested": _l("Asked to enrol in a course"), "enrolment_approved": _l("Enrolment request approved"),
    "enrolment_rejected": _l("Enrolment request rejected"), "enrolment_withdrawn": _l("Left a course"),
    "enrolment_completed": _l("Completed a course"),
    "work_submitted": _l("Assignment work submitted"), "work_graded": _l("Assignment work graded"),
    "attestation_recorded": _l("Attestation result recorded"), "run_completed": _l("Learners completed a run"),
    "grade_overridden": _l("Grade changed in the gradebook"), "statements_issued": _l("Statements issued"),
    "bank_created": _l("Question bank created"), "bank_shared": _l("Question bank shared"),
    "questions_imported": _l("Questions imported"),
    "quiz_changed": _l("Quiz settings changed"), "quiz_questions_added": _l("Questions added to a quiz"),
    "quiz_questions_removed": _l("Question removed from a quiz"),
    "quiz_questions_moved": _l("Quiz questions reordered"), "quiz_override_set": _l("Quiz override set"),
    "quiz_override_removed": _l("Quiz override removed"), "quiz_regraded": _l("Quiz attempts regraded"),
    "questions_moved": _l("Questions moved to another bank"), "questions_copied": _l("Questions copied to a bank"),
    "login": _l("Logged in"), "login_failed": _l("Failed login attempt"), "user_created": _l("Person created"),
    "user_updated": _l("Person changed"), "user_deactivated": _l("Person deactivated"),
    "user_reactivated": _l("Person reactivated"), "users_merged": _l("Duplicates merged"),
    "password_changed": _l("Password changed"), "password_set": _l("Password set by administrator"),
    "password_reset_requested": _l("Password reset requested"), "role_granted": _l("Role granted"),
    "role_revoked": _l("Role revoked"), "membership_changed": _l("Class changed"),
    "org_created": _l("Organization created"), "org_updated": _l("Organization changed"),
    "org_status_set": _l("Organization status set"), "org_status_removed": _l("Organization status removed"),
    "municipality_created": _l("Municipality created"), "municipality_updated": _l("Municipality changed"),
    "academic_year_created": _l("Academic year created"), "academic_year_current": _l("Current year changed"),
    "api_token_created": _l("API token created"), "api_token_revoked": _l("API token revoked"),
    "parent_linked": _l("Parent linked"), "parent_unlinked": _l("Parent unlinked"),
    "consent_recorded": _l("Consent recorded"), "consent_withdrawn": _l("Consent withdrawn"),
    "users_imported": _l("People imported"), "people_exported": _l("People exported"),
    "import_credentials_downloaded": _l("Initial passwords downloaded"),
}


def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


def time_zone_label(zone: str | None) -> str:
    if not zone:
        return ""
    label = TIME_ZONE_LABELS.get(zone)
    return str(label) if label is not None else zone


def template_labels() -> dict:
    return {
        "role_labels": ROLE_LABELS, "role_plural_labels": ROLE_PLURAL_LABELS, "org_kind_labels": ORG_KIND_LABELS, "org_status_labels": ORG_STATUS_LABELS,
        "relation_labels": RELATION_LABELS, "consent_labels": CONSENT_LABELS,
        "import_status_labels": IMPORT_STATUS_LABELS, "sex_labels": SEX_LABELS,
        "outbox_status_labels": OUTBOX_STATUS_LABELS, "object_type_labels": OBJECT_TYPE_LABELS,
    }
