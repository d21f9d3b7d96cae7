"""Programme (ДПП) rules: what a programme must hold, how its hours add up, and its lifecycle
draft → on review → approved → published → archived, with reviewers and versions.

Plain functions: they take domain objects and plain data, flush and never commit, and raise
``ValidationError`` (naming the field) or ``Conflict`` when a rule refuses.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from lms.accounts.models import User
from lms.core import audit
from lms.core.db import utcnow
from lms.core.errors import Conflict, DomainError, ValidationError
from lms.courses.models import (
    FROZEN,
    MIN_HOURS,
    Audience,
    ControlForm,
    CurriculumModule,
    Direction,
    FinalAttestationForm,
    Programme,
    ProgrammeKind,
    ProgrammeReview,
    ProgrammeReviewer,
    ProgrammeStatus,
    ResultScale,
    ReviewAction,
)
from lms.extensions import db
from lms.orgs.models import Membership, Organization, Role

MAX_HOURS = 3000
TEXT_LIMIT = 20000

#: The fields a programme's form edits (everything but the curriculum, status and versioning).
FIELDS = ("title", "kind", "direction", "audience", "audience_note", "subject", "description", "outcomes",
          "total_hours", "academic_hour_minutes", "variable_hours", "final_attestation_form",
          "final_attestation_hours", "result_scale", "five_point_thresholds", "max_points", "pass_points")


# --- cleaning ------------------------------------------------------------------------------------

def _int(value, field: str, errors: dict, *, low: int = 0, high: int = MAX_HOURS, required: bool = True):
    if value is None or str(value).strip() == "":
        if required:
            errors[field] = _("Required.")
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        errors[field] = _("A whole number is expected.")
        return None
    if not low <= number <= high:
        errors[field] = _("From %(low)d to %(high)d.", low=low, high=high)
        return None
    return number


def _str(value, field: str, errors: dict, *, limit: int, required: bool = False) -> str:
    text = " ".join(str(value or "").split()) if limit <= 300 else str(value or "").strip()
    if required and not text:
        errors[field] = _("Required.")
    elif len(text) > limit:
        errors[field] = _("At most %(n)d characters.", n=limit)
    return text


def _choice(value, field: str, allowed: Iterable[str], errors: dict) -> str | None:
    if value not in {str(a) for a in allowed}:
        errors[field] = _("Choose one of the options.")
        return None
    return value


def clean_programme_data(data: dict) -> dict:
    """Every field of the programme form, checked together: one error per wrong field."""
    errors: dict[str, str] = {}
    out: dict = {
        "title": _str(data.get("title"), "title", errors, limit=300, required=True),
        "kind": _choice(data.get("kind"), "kind", ProgrammeKind, errors),
        "audience": _choice(data.get("audience"), "audience", Audience, errors),
        "audience_note": _str(data.get("audience_note"), "audience_note", errors, limit=300),
        "subject": _str(data.get("subject"), "subject", errors, limit=120),
        "description": _str(data.get("description"), "description", errors, limit=TEXT_LIMIT),
        "outcomes": _str(data.get("outcomes"), "outcomes", errors, limit=TEXT_LIMIT),
        "total_hours": _int(data.get("total_hours"), "total_hours", errors, low=1),
        "academic_hour_minutes": _int(data.get("academic_hour_minutes") or 45, "academic_hour_minutes", errors,
                                      low=30, high=90),
        "variable_hours": _int(data.get("variable_hours") or 0, "variable_hours", errors),
        "final_attestation_form": _choice(data.get("final_attestation_form"), "final_attestation_form",
                                          FinalAttestationForm, errors),
        "final_attestation_hours": _int(data.get("final_attestation_hours") or 0, "final_attestation_hours", errors),
        "result_scale": _choice(data.get("result_scale"), "result_scale", ResultScale, errors),
    }
    direction = data.get("direction") or None
    if out["kind"] == ProgrammeKind.SUPPLEMENTARY:
        out["direction"] = _choice(direction, "direction", Direction, errors)
    else:
        out["direction"] = None
    minimum = MIN_HOURS.get(out["kind"])
    if minimum and out["total_hours"] is not None and out["total_hours"] < minimum:
        errors["total_hours"] = _("A programme of this kind has at least %(n)d academic hours.", n=minimum)
    out.update(_clean_scale(out["result_scale"], data, errors))
    if errors:
        raise ValidationError.of(errors)
    return out


def _clean_scale(scale: str | None, data: dict, errors: dict) -> dict:
    out: dict = {"max_points": None, "pass_points": None}
    if scale == ResultScale.FIVE_POINT:
        marks = {mark: _int(data.get(f"threshold_{mark}"), f"threshold_{mark}", errors, low=1, high=100)
                 for mark in ("5", "4", "3")}
        if None not in marks.values() and not marks["5"] > marks["4"] > marks["3"]:
            errors["threshold_4"] = _("The thresholds must fall: «5» above «4» above «3».")
        out["five_point_thresholds"] = marks
    elif scale == ResultScale.POINTS:
        out["max_points"] = _int(data.get("max_points"), "max_points", errors, low=1, high=10000)
        out["pass_points"] = _int(data.get("pass_points"), "pass_points", errors, low=0, high=10000)
        if out["max_points"] is not None and out["pass_points"] is not None and out["pass_points"] > out["max_points"]:
            errors["pass_points"] = _("The pass mark cannot exceed the maximum.")
    return out


@dataclass
class ModuleRow:
    title: str
    lecture_hours: int
    practice_hours: int
    self_study_hours: int
    internship_hours: int
    control_form: str
    is_optional: bool


def clean_curriculum(rows: list[dict]) -> list[ModuleRow]:
    """The rows of a curriculum form. Rows left entirely empty are dropped; each error is keyed
    ``modules-<index>-<field>`` (the form's own input names) and says which row it is about."""
    errors: dict[str, str] = {}
    out: list[ModuleRow] = []
    for index, row in enumerate(rows):
        hours = ("lecture_hours", "practice_hours", "self_study_hours", "internship_hours")
        if not str(row.get("title") or "").strip() and not any(str(row.get(h) or "").strip() for h in hours):
            continue
        row_errors: dict[str, str] = {}
        title = _str(row.get("title"), "title", row_errors, limit=300, required=True)
        numbers = {h: _int(row.get(h) or 0, h, row_errors) for h in hours}
        control = _choice(row.get("control_form") or ControlForm.NONE, "control_form", ControlForm, row_errors)
        if not row_errors and sum(numbers.values()) == 0:
            row_errors["lecture_hours"] = _("A module needs at least one hour.")
        for field, message in row_errors.items():
            errors[f"modules-{index}-{field}"] = _("Row %(n)d: %(message)s", n=index + 1, message=message)
        if not row_errors:
            out.append(ModuleRow(title, *(numbers[h] for h in hours), control, bool(row.get("is_optional"))))
    if errors:
        raise ValidationError.of(errors)
    return out


# --- hours ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class HoursSummary:
    lecture: int
    practice: int
    self_study: int
    internship: int
    mandatory: int
    optional: int
    final_attestation: int
    #: mandatory modules + the variable part + final attestation: what must equal the total
    planned: int
    total: int

    @property
    def difference(self) -> int:
        return self.total - self.planned


def hours_summary(programme: Programme) -> HoursSummary:
    modules = programme.modules
    mandatory = sum(m.total_hours for m in modules if not m.is_optional)
    optional = sum(m.total_hours for m in modules if m.is_optional)
    planned = mandatory + programme.variable_hours + programme.final_attestation_hours
    return HoursSummary(
        lecture=sum(m.lecture_hours for m in modules), practice=sum(m.practice_hours for m in modules),
        self_study=sum(m.self_study_hours for m in modules), internship=sum(m.internship_hours for m in modules),
        mandatory=mandatory, optional=optional, final_attestation=programme.final_attestation_hours,
        planned=planned, total=programme.total_hours)


def hours_problems(programme: Programme) -> list[str]:
    """What is off in the curriculum, in words a methodologist can act on (empty: the plan adds up)."""
    s = hours_summary(programme)
    problems = []
    if not programme.modules:
        problems.append(_("The curriculum has no modules yet."))
    if s.planned != s.total:
        detail = _("Mandatory modules %(m)d h + variable part %(v)d h + final attestation %(f)d h = %(p)d h, "
                   "but the programme is %(t)d h", m=s.mandatory, v=programme.variable_hours,
                   f=s.final_attestation, p=s.planned, t=s.total)
        if s.difference > 0:
            problems.append(_("%(detail)s: %(n)d h are missing.", detail=detail, n=s.difference))
        else:
            problems.append(_("%(detail)s: %(n)d h too many.", detail=detail, n=-s.difference))
    if programme.variable_hours and s.optional < programme.variable_hours:
        problems.append(_("The variable part is %(v)d h, but the optional modules offer only %(o)d h.",
                          v=programme.variable_hours, o=s.optional))
    if s.optional and not programme.variable_hours:
        problems.append(_("There are optional modules, but the variable part is 0 h: set how many hours of "
                          "optional modules a learner takes."))
    return problems


# --- create and edit -----------------------------------------------------------------------------

def _editable(programme: Programme) -> None:
    if programme.status in FROZEN:
        raise Conflict(_("An approved programme is frozen: make a new version to change it."))
    if programme.status == ProgrammeStatus.REVIEW:
        raise Conflict(_("The programme is on review: withdraw it or wait for the reviewers to return it."))


def create_programme(organization: Organization, *, by: User, **data) -> Programme:
    fields = clean_programme_data({"academic_hour_minutes": organization.academic_hour_minutes, **data})
    programme = Programme(owner_organization=organization, author=by, status=ProgrammeStatus.DRAFT, **fields)
    db.session.add(programme)
    db.session.flush()
    programme.lineage_id = programme.id
    audit.record("programme_created", actor=by, organization=organization, obj=programme,
                 title=programme.title)
    return programme


def update_programme(programme: Programme, *, by: User, **data) -> list[str]:
    _editable(programme)
    fields = clean_programme_data(data)
    changed = [k for k, v in fields.items() if getattr(programme, k) != v]
    for key in changed:
        setattr(programme, key, fields[key])
    if changed:
        audit.record("programme_updated", actor=by, organization=programme.owner_organization_id,
                     obj=programme, fields=changed)
    return changed


def set_curriculum(programme: Programme, rows: list[dict], *, by: User) -> None:
    """Replace the curriculum with ``rows`` in order. Existing modules are updated in place by
    position, so reviewers' comments on a module stay attached to it."""
    _editable(programme)
    clean = clean_curriculum(rows)
    existing = list(programme.modules)
    for position, row in enumerate(clean, start=1):
        module = existing[position - 1] if position <= len(existing) else None
        if module is None:
            module = CurriculumModule(programme=programme, position=position)
            db.session.add(module)
        module.title, module.control_form, module.is_optional = row.title, row.control_form, row.is_optional
        module.lecture_hours, module.practice_hours = row.lecture_hours, row.practice_hours
        module.self_study_hours, module.internship_hours = row.self_study_hours, row.internship_hours
    for module in existing[len(clean):]:
        programme.modules.remove(module)
    db.session.flush()
    audit.record("programme_curriculum_set", actor=by, organization=programme.owner_organization_id,
                 obj=programme, modules=len(clean))


def delete_programme(programme: Programme, *, by: User) -> None:
    if programme.status != ProgrammeStatus.DRAFT:
        raise Conflict(_("Only a draft can be deleted; archive a programme that was approved."))
    audit.record("programme_deleted", actor=by, organization=programme.owner_organization_id,
                 title=programme.title, version=programme.version)
    db.session.delete(programme)
    db.session.flush()


# --- review --------------------------------------------------------------------------------------

REVIEWER_ROLES = frozenset({Role.METHODOLOGIST, Role.TEACHER, Role.ORG_ADMIN, Role.COORDINATOR})


def may_review(programme: Programme, user: User) -> bool:
    """Reviewers are methodologists (of any organization) or experts — staff of another organization
    than the one that owns the programme. Nobody reviews their own programme."""
    if not user.is_active or user.id == programme.author_id:
        return False
    rows = db.session.execute(select(Membership.organization_id, Membership.role)
                              .where(Membership.user_id == user.id, Membership.role.in_(REVIEWER_ROLES)))
    return any(role == Role.METHODOLOGIST or org_id != programme.owner_organization_id for org_id, role in rows)


def reviewer_candidates(programme: Programme) -> list[User]:
    """Methodologists of the owner's municipality, offered in the submit form (an expert of another
    organization can be named by login as well)."""
    org = programme.owner_organization
    methodologists = (select(Membership.user_id).join(Organization, Organization.id == Membership.organization_id)
                      .where(Organization.municipality_id == org.municipality_id,
                             Membership.role == Role.METHODOLOGIST, Organization.is_active.is_(True)))
    # IN, not JOIN … DISTINCT: PostgreSQL cannot compare the users' JSON columns for DISTINCT.
    stmt = (select(User).where(User.id.in_(methodologists), User.is_active.is_(True))
            .order_by(User.surname, User.name).limit(500))
    return [u for u in db.session.scalars(stmt) if u.id != programme.author_id]


def chosen_reviewers(programme: Programme, reviewer_ids, expert_login: str = "", *,
                     candidates: list[User] | None = None) -> list[User]:
    """The reviewers a form or an API request names: ids among ``reviewer_candidates`` and, optionally, an
    expert of another organization by login or e-mail. A stranger id or an unknown login is refused by field."""
    from lms.accounts.services import find_by_login

    by_id = {u.id: u for u in (reviewer_candidates(programme) if candidates is None else candidates)}
    ids = list(dict.fromkeys(reviewer_ids or []))
    if any(i not in by_id for i in ids):
        raise ValidationError(_("Choose one of the options."), field="reviewers")
    reviewers = [by_id[i] for i in ids]
    login = str(expert_login or "").strip()
    if login:
        expert = find_by_login(login)
        if expert is None or not expert.is_active:
            raise ValidationError(_("No active person with this login or e-mail."), field="expert")
        reviewers.append(expert)
    return reviewers


def submit_for_review(programme: Programme, reviewers: list[User], *, by: User, comment: str = "") -> None:
    """Draft → on review. The plan must add up and at least one reviewer must be named."""
    if programme.status != ProgrammeStatus.DRAFT:
        raise Conflict(_("Only a draft can be sent for review."))
    problems = hours_problems(programme)
    if problems:
        raise ValidationError(" ".join(problems), field="reviewers")
    if not reviewers:
        raise ValidationError(_("Choose at least one reviewer."), field="reviewers")
    refused = [u.full_name for u in reviewers if not may_review(programme, u)]
    if refused:
        raise ValidationError(_("Cannot review this programme: %(names)s. A reviewer is a methodologist or an "
                                "expert of another organization, and not the author.", names=", ".join(refused)),
                              field="reviewers")
    programme.reviewers.clear()
    db.session.flush()
    for user in {u.id: u for u in reviewers}.values():
        programme.reviewers.append(ProgrammeReviewer(user=user))
    programme.status = ProgrammeStatus.REVIEW
    programme.submitted_at = utcnow()
    _history(programme, by, ReviewAction.SUBMIT, _str(comment, "comment", {}, limit=TEXT_LIMIT))
    audit.record("programme_submitted", actor=by, organization=programme.owner_organization_id, obj=programme,
                 reviewers=[u.id for u in reviewers])


def withdraw_from_review(programme: Programme, *, by: User) -> None:
    if programme.status != ProgrammeStatus.REVIEW:
        raise Conflict(_("The programme is not on review."))
    programme.status = ProgrammeStatus.DRAFT
    _history(programme, by, ReviewAction.WITHDRAW, "")
    audit.record("programme_withdrawn", actor=by, organization=programme.owner_organization_id, obj=programme)


def review(programme: Programme, *, by: User, action: str, comment: str = "",
           module_id: int | None = None) -> None:
    """A reviewer comments, approves or returns the programme. It is approved when every assigned
    reviewer has approved; one return sends it back to the author as a draft."""
    if programme.status != ProgrammeStatus.REVIEW:
        raise Conflict(_("The programme is not on review."))
    assignment = next((r for r in programme.reviewers if r.user_id == by.id), None)
    if assignment is None:
        raise DomainError(_("You are not a reviewer of this programme."))
    if action not in (ReviewAction.COMMENT, ReviewAction.APPROVE, ReviewAction.RETURN):
        raise ValidationError(_("Choose one of the options."), field="action")
    comment = _str(comment, "comment", {}, limit=TEXT_LIMIT)
    if action in (ReviewAction.COMMENT, ReviewAction.RETURN) and not comment:
        raise ValidationError(_("Write what should change."), field="comment")
    if module_id is not None and module_id not in {m.id for m in programme.modules}:
        raise ValidationError(_("Choose one of the options."), field="module")
    _history(programme, by, action, comment, module_id)
    if action == ReviewAction.COMMENT:
        return
    assignment.decision, assignment.decided_at = action, utcnow()
    if action == ReviewAction.RETURN:
        programme.status = ProgrammeStatus.DRAFT
    elif all(r.decision == ReviewAction.APPROVE for r in programme.reviewers):
        programme.status = ProgrammeStatus.APPROVED
        programme.approved_at = utcnow()
    audit.record(f"programme_{action}", actor=by, organization=programme.owner_organization_id, obj=programme)


def _history(programme: Programme, by: User, action: str, comment: str, module_id: int | None = None) -> None:
    db.session.add(ProgrammeReview(programme=programme, author=by, action=action, comment=comment,
                                   module_id=module_id))
    db.session.flush()


# --- publish, archive, versions ------------------------------------------------------------------

def publish(programme: Programme, *, by: User) -> None:
    """Approved → published (into the catalogue). The previously published version of the same
    programme is archived: runs already opened keep the version they were opened with."""
    if programme.status != ProgrammeStatus.APPROVED:
        raise Conflict(_("Only an approved programme can be published."))
    now = utcnow()
    for other in db.session.scalars(select(Programme).where(Programme.lineage_id == programme.lineage_id,
                                                            Programme.status == ProgrammeStatus.PUBLISHED)):
        other.status, other.archived_at = ProgrammeStatus.ARCHIVED, now
    programme.status, programme.published_at = ProgrammeStatus.PUBLISHED, now
    _history(programme, by, ReviewAction.PUBLISH, "")
    audit.record("programme_published", actor=by, organization=programme.owner_organization_id, obj=programme)


def archive(programme: Programme, *, by: User) -> None:
    if programme.status not in (ProgrammeStatus.APPROVED, ProgrammeStatus.PUBLISHED):
        raise Conflict(_("Only an approved or published programme can be archived."))
    programme.status, programme.archived_at = ProgrammeStatus.ARCHIVED, utcnow()
    _history(programme, by, ReviewAction.ARCHIVE, "")
    audit.record("programme_archived", actor=by, organization=programme.owner_organization_id, obj=programme)


def open_version(programme: Programme) -> Programme | None:
    """The draft or on-review version of the same programme, if one exists."""
    return db.session.scalar(select(Programme).where(
        Programme.lineage_id == programme.lineage_id,
        Programme.status.in_([ProgrammeStatus.DRAFT, ProgrammeStatus.REVIEW])).limit(1))


def new_version(programme: Programme, *, by: User) -> Programme:
    """A change to a frozen programme: a new draft version with the same fields and curriculum."""
    if programme.status not in FROZEN:
        raise Conflict(_("This version is not frozen yet: edit it directly."))
    existing = open_version(programme)
    if existing is not None:
        raise Conflict(_("Version %(n)d of this programme is already being prepared.", n=existing.version))
    number = db.session.scalar(select(func.max(Programme.version))
                               .where(Programme.lineage_id == programme.lineage_id)) or programme.version
    copy = Programme(lineage_id=programme.lineage_id, version=number + 1, status=ProgrammeStatus.DRAFT,
                     owner_organization_id=programme.owner_organization_id, author=by,
                     **{f: getattr(programme, f) for f in FIELDS})
    copy.five_point_thresholds = dict(programme.five_point_thresholds or {})
    for m in programme.modules:
        copy.modules.append(CurriculumModule(
            position=m.position, title=m.title, lecture_hours=m.lecture_hours, practice_hours=m.practice_hours,
            self_study_hours=m.self_study_hours, internship_hours=m.internship_hours,
            control_form=m.control_form, is_optional=m.is_optional))
    db.session.add(copy)
    db.session.flush()
    audit.record("programme_version_created", actor=by, organization=programme.owner_organization_id, obj=copy,
                 version=copy.version, source=programme.id)
    return copy


def versions(programme: Programme) -> list[Programme]:
    return list(db.session.scalars(select(Programme).where(Programme.lineage_id == programme.lineage_id)
                                   .order_by(Programme.version.desc())))
