"""Question banks: who may edit and who may use them, the category tree, questions and their versions, and
importing GIFT or Moodle XML (all or nothing, after a preview) and exporting.

Plain functions: they flush, never commit, and raise ``ValidationError``/``Conflict``/``DomainError``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import and_, select

from lms.accounts.models import User
from lms.assessment import gift, moodle_xml, qtypes
from lms.assessment.models import (
    DIFFICULTIES,
    BankShare,
    Question,
    QuestionBank,
    QuestionCategory,
    QuestionVersion,
)
from lms.core import audit
from lms.core.errors import ValidationError
from lms.extensions import db
from lms.orgs.models import Role
from lms.orgs.permissions import scope_of

FORMATS = {"gift": gift, "xml": moodle_xml}
#: Roles that build question banks in their organization (its managers may as well).
BANK_ROLES = frozenset({Role.METHODOLOGIST, Role.TEACHER})


# --- who may -------------------------------------------------------------------------------------

def can_edit_bank(user, bank: QuestionBank) -> bool:
    """An organization's bank: its methodologists and teachers and its managers; a run's bank: those who
    edit the run's content."""
    if bank.run_id is not None:
        from lms.courses import permissions as course_perm

        return course_perm.can_edit_content(user, bank.run)
    s = scope_of(user)
    return s.manages(bank.organization_id) or bool(s.roles_by_org.get(bank.organization_id, frozenset()) & BANK_ROLES)


def can_use_bank(user, bank: QuestionBank) -> bool:
    """Editors, and the staff of the organizations the bank is shared with (they put its questions in quizzes)."""
    if can_edit_bank(user, bank):
        return True
    staff = scope_of(user).staff_org_ids
    return any(share.organization_id in staff for share in bank.shares)


# --- banks and categories -------------------------------------------------------------------------

def create_bank(*, name: str, by: User | None, organization=None, run=None, description: str = "") -> QuestionBank:
    name = " ".join(str(name or "").split())
    if not name:
        raise ValidationError(_("Required."), field="name")
    if len(name) > 200:
        raise ValidationError(_("At most %(n)d characters.", n=200), field="name")
    if (organization is None) == (run is None):
        raise ValidationError(_("Choose one of the options."), field="organization")
    bank = QuestionBank(name=name, description=str(description or "").strip(), organization=organization, run=run,
                        created_by_id=getattr(by, "id", None))
    db.session.add(bank)
    db.session.flush()
    audit.record("bank_created", actor=by, organization=organization or run.host_organization_id, obj=bank)
    return bank


def share(bank: QuestionBank, organization_ids: list[int], *, by: User | None) -> None:
    """Share the bank with exactly these organizations (an organization's bank only)."""
    if bank.run_id is not None:
        raise ValidationError(_("A course run's bank is not shared; copy its questions instead."), field="organizations")
    wanted = set(organization_ids) - {bank.organization_id}
    for existing in list(bank.shares):
        if existing.organization_id not in wanted:
            bank.shares.remove(existing)
    have = {s.organization_id for s in bank.shares}
    for org_id in sorted(wanted - have):
        bank.shares.append(BankShare(organization_id=org_id))
    db.session.flush()
    audit.record("bank_shared", actor=by, organization=bank.organization_id, obj=bank, organizations=sorted(wanted))


def _path_names(path: str) -> list[str]:
    return [p.strip()[:200] for p in str(path or "").split("/") if p.strip()]


class CategoryFinder:
    """A bank's categories read once, then found by path and made (with their parents) when missing: an import
    of many questions reads the category tree in one statement instead of one per question and path segment."""

    def __init__(self, bank: QuestionBank):
        self.bank = bank
        self._by_key: dict[tuple[int | None, str], QuestionCategory] = {}
        for c in db.session.scalars(select(QuestionCategory).where(QuestionCategory.bank_id == bank.id)
                                    .order_by(QuestionCategory.id)):
            self._by_key.setdefault((c.parent_id, c.name), c)  # two same-named siblings: the older one

    def path(self, path: str) -> QuestionCategory | None:
        """The category at ``path`` («Олимпиада/Математика»), made with its parents when missing (None: the top)."""
        parent = None
        for name in _path_names(path):
            key = (parent.id if parent else None, name)
            found = self._by_key.get(key)
            if found is None:
                found = QuestionCategory(bank_id=self.bank.id, parent_id=key[0], name=name)
                db.session.add(found)
                db.session.flush()  # its id is the parent of the next segment
                self._by_key[key] = found
            parent = found
        return parent


def category_path(bank: QuestionBank, path: str) -> QuestionCategory | None:
    """The category at ``path`` («Олимпиада/Математика»), made with its parents when missing (None: the top).
    For many paths of one bank, use one ``CategoryFinder``."""
    return CategoryFinder(bank).path(path)


def paths_of(rows: list[QuestionCategory]) -> dict[int, str]:
    """Every category's full path, from one bank's categories already read."""
    by_id = {c.id: c for c in rows}

    def path(c: QuestionCategory) -> str:
        parts, seen = [], set()
        while c is not None and c.id not in seen:
            seen.add(c.id)
            parts.append(c.name)
            c = by_id.get(c.parent_id) if c.parent_id else None
        return "/".join(reversed(parts))

    return {i: path(c) for i, c in by_id.items()}


def category_paths(bank: QuestionBank) -> dict[int, str]:
    """Every category's full path, in one statement."""
    return paths_of(list(db.session.scalars(select(QuestionCategory).where(QuestionCategory.bank_id == bank.id))))


# --- questions -----------------------------------------------------------------------------------

def _meta(data: dict) -> dict:
    errors: dict[str, str] = {}
    grade = str(data.get("grade") or "").strip()
    if grade and (not grade.isdecimal() or not 1 <= int(grade) <= 11):
        errors["grade"] = _("From %(low)d to %(high)d.", low=1, high=11)
    difficulty = data.get("difficulty") or None
    if difficulty is not None and difficulty not in DIFFICULTIES:
        errors["difficulty"] = _("Choose one of the options.")
    tags = sorted({" ".join(str(t).split())[:50] for t in (data.get("tags") or []) if str(t).strip()})
    if errors:
        raise ValidationError.of(errors)
    return {"subject": str(data.get("subject") or "").strip()[:120], "grade": int(grade) if grade else None,
            "difficulty": difficulty, "tags": tags}


def add_question(bank: QuestionBank, definition: dict, *, by: User | None, name: str = "",
                 category: QuestionCategory | None = None, **meta) -> Question:
    clean = qtypes.qtype(definition.get("qtype", "")).clean(definition)
    name = " ".join(str(name or "").split())[:255] or " ".join(clean["text"].split())[:80] or clean["qtype"]
    question = Question(bank_id=bank.id, category_id=category.id if category else None, name=name,
                        qtype=clean["qtype"], current_version=1, created_by_id=getattr(by, "id", None), **_meta(meta))
    question.versions.append(QuestionVersion(version=1, definition=clean, created_by_id=getattr(by, "id", None)))
    db.session.add(question)
    db.session.flush()
    return question


def edit_question(question: Question, definition: dict, *, by: User | None) -> QuestionVersion | None:
    """A changed definition becomes a new version (quizzes and attempts keep the one they have); an unchanged
    one changes nothing. The type cannot change."""
    if definition.get("qtype") != question.qtype:
        raise ValidationError(_("The type of a question cannot change; make a new question."), field="qtype")
    clean = qtypes.qtype(question.qtype).clean(definition)
    if clean == current(question).definition:
        return None
    question.current_version += 1
    version = QuestionVersion(version=question.current_version, definition=clean, created_by_id=getattr(by, "id", None))
    question.versions.append(version)
    db.session.flush()
    return version


def current(question: Question) -> QuestionVersion:
    return next(v for v in question.versions if v.version == question.current_version)


# --- import and export -----------------------------------------------------------------------------

@dataclass
class ImportReport:
    questions: int = 0
    categories: set[str] = field(default_factory=set)
    #: (line or question number, reason)
    errors: list[tuple[int, str]] = field(default_factory=list)
    written: bool = False


def read(data: bytes, fmt: str) -> gift.Result:
    if fmt not in FORMATS:
        raise ValidationError(_("Choose one of the options."), field="format")
    return FORMATS[fmt].parse(data)


def import_questions(bank: QuestionBank, data: bytes, fmt: str, *, by: User | None, dry_run: bool) -> ImportReport:
    """Read the file and import it (``import_parsed``)."""
    return import_parsed(bank, read(data, fmt), fmt, by=by, dry_run=dry_run)


def import_parsed(bank: QuestionBank, result: gift.Result, fmt: str, *, by: User | None,
                  dry_run: bool) -> ImportReport:
    """Import a file already read (``read``): with any bad question nothing is written (every one is listed),
    and with ``dry_run`` nothing is written either — the report is the preview. The bank's categories are read
    once for the whole file."""
    report = ImportReport(questions=len(result.questions), categories={q.category for q in result.questions},
                          errors=list(result.errors))
    if report.errors or dry_run:
        return report
    if not result.questions:
        raise ValidationError(_("The file has no questions."), field="file")
    categories = CategoryFinder(bank)
    for parsed in result.questions:
        add_question(bank, parsed.definition, by=by, name=parsed.name, category=categories.path(parsed.category))
    report.written = True
    audit.record("questions_imported", actor=by, organization=bank.organization_id or bank.run.host_organization_id,
                 obj=bank, count=report.questions, format=fmt)
    return report


def current_versions(questions: list[Question]) -> dict[int, QuestionVersion]:
    """Each question's current version by its id, in one statement (not their histories)."""
    ids = sorted({q.id for q in questions})
    if not ids:
        return {}
    return {v.question_id: v for v in db.session.scalars(select(QuestionVersion).join(Question, and_(
        QuestionVersion.question_id == Question.id, QuestionVersion.version == Question.current_version))
        .where(Question.id.in_(ids)))}


def export_questions(bank: QuestionBank, fmt: str) -> bytes:
    if fmt not in FORMATS:
        raise ValidationError(_("Choose one of the options."), field="format")
    paths = category_paths(bank)
    questions = db.session.scalars(select(Question).where(Question.bank_id == bank.id)
                                   .order_by(Question.category_id, Question.id)).all()
    versions = current_versions(questions)
    triples = [(paths.get(q.category_id, ""), q.name, versions[q.id].definition) for q in questions]
    out = FORMATS[fmt].export(triples)
    return out if isinstance(out, bytes) else out.encode("utf-8")


# --- the pages: categories, saving a question with its details, moving and copying -----------------

def _category_name(name: str) -> str:
    name = " ".join(str(name or "").split())
    if not name:
        raise ValidationError(_("Required."), field="name")
    if len(name) > 200:
        raise ValidationError(_("At most %(n)d characters.", n=200), field="name")
    if "/" in name:  # GIFT and Moodle XML write a category as its path «a/b»
        raise ValidationError(_("A category name cannot contain «/»."), field="name")
    return name


def _sibling_named(bank: QuestionBank, parent_id: int | None, name: str, *, but: int | None = None) -> bool:
    stmt = select(QuestionCategory.id).where(
        QuestionCategory.bank_id == bank.id, QuestionCategory.name == name,
        QuestionCategory.parent_id.is_(None) if parent_id is None else QuestionCategory.parent_id == parent_id)
    return any(found != but for found in db.session.scalars(stmt))


def _bank_of(category: QuestionCategory) -> QuestionBank:
    return db.session.get(QuestionBank, category.bank_id)


def descendants_of(pairs, category_id: int) -> set[int]:
    """The category and every category below it, from (id, parent id) pairs of its bank already read."""
    children: dict[int | None, list[int]] = {}
    for cid, parent in pairs:
        children.setdefault(parent, []).append(cid)
    out, todo = set(), [category_id]
    while todo:
        current_id = todo.pop()
        if current_id not in out:
            out.add(current_id)
            todo.extend(children.get(current_id, []))
    return out


def descendant_ids(bank: QuestionBank, category_id: int) -> set[int]:
    """The category and every category below it, in one statement."""
    return descendants_of(db.session.execute(select(QuestionCategory.id, QuestionCategory.parent_id)
                                             .where(QuestionCategory.bank_id == bank.id)), category_id)


def add_category(bank: QuestionBank, name: str, *, parent: QuestionCategory | None = None) -> QuestionCategory:
    """A category under ``parent`` (the top when None) of the same bank; names are unique among siblings
    (an import finds a category by its path)."""
    name = _category_name(name)
    if parent is not None and parent.bank_id != bank.id:
        raise ValidationError(_("Choose one of the options."), field="parent")
    if _sibling_named(bank, parent.id if parent else None, name):
        raise ValidationError(_("There is already a category with this name here."), field="name")
    category = QuestionCategory(bank_id=bank.id, parent_id=parent.id if parent else None, name=name)
    db.session.add(category)
    db.session.flush()
    return category


def update_category(category: QuestionCategory, *, name: str, parent: QuestionCategory | None) -> None:
    """Rename and/or move a category under another parent of its bank, never into itself or below itself."""
    bank = _bank_of(category)
    name = _category_name(name)
    if parent is not None:
        if parent.bank_id != category.bank_id:
            raise ValidationError(_("Choose one of the options."), field="parent")
        if parent.id in descendant_ids(bank, category.id):
            raise ValidationError(_("A category cannot be moved into itself or into one of its subcategories."),
                                  field="parent")
    if _sibling_named(bank, parent.id if parent else None, name, but=category.id):
        raise ValidationError(_("There is already a category with this name here."), field="name")
    category.name = name
    category.parent_id = parent.id if parent else None
    db.session.flush()


def delete_category(category: QuestionCategory) -> None:
    """Only an empty category goes: its questions and subcategories are moved first (nothing is lost)."""
    has_questions = db.session.scalar(select(Question.id).where(Question.category_id == category.id).limit(1))
    has_children = db.session.scalar(select(QuestionCategory.id).where(QuestionCategory.parent_id == category.id)
                                     .limit(1))
    if has_questions is not None or has_children is not None:
        raise ValidationError(_("Only an empty category can be deleted: move its questions and subcategories "
                                "first."), field="category")
    db.session.delete(category)
    db.session.flush()


def save_question(bank: QuestionBank, definition: dict, *, by: User | None, question: Question | None = None,
                  name: str = "", category: QuestionCategory | None = None, **meta) -> tuple[Question, bool]:
    """The editor's save: the definition and the details (name, category, subject, grade, difficulty, tags) are
    checked together, so every wrong field is reported at once and nothing is written; an edit whose
    definition changed becomes a new version (``edit_question``). Returns (the question, whether a version
    was added)."""
    errors: dict[str, str] = {}
    kind = question.qtype if question is not None else str(definition.get("qtype") or "")
    try:
        details = _meta(meta)
    except ValidationError as exc:
        errors.update(exc.errors)
        details = {}
    if category is not None and category.bank_id != bank.id:
        errors["category"] = _("Choose one of the options.")
    try:
        clean = qtypes.qtype(kind).clean({**definition, "qtype": kind})
    except ValidationError as exc:
        errors.update(exc.errors or {exc.field or "text": exc.message})
    if errors:
        raise ValidationError.of(errors)
    name = " ".join(str(name or "").split())[:255] or " ".join(clean["text"].split())[:80] or kind
    if question is None:
        return add_question(bank, {**definition, "qtype": kind}, by=by, name=name, category=category, **meta), True
    question.name = name
    question.category_id = category.id if category else None
    for key, value in details.items():
        setattr(question, key, value)
    version = edit_question(question, {**definition, "qtype": kind}, by=by)
    db.session.flush()
    return question, version is not None


def _check_target(questions: list[Question], bank: QuestionBank, category: QuestionCategory | None) -> None:
    if not questions:
        raise ValidationError(_("Choose at least one question."), field="questions")
    if category is not None and category.bank_id != bank.id:
        raise ValidationError(_("Choose one of the options."), field="target")


def _owner_org(bank: QuestionBank) -> int:
    return bank.organization_id or bank.run.host_organization_id


def move_questions(questions: list[Question], bank: QuestionBank, category: QuestionCategory | None, *,
                   by: User | None) -> int:
    """Move questions (with every version) into ``bank`` and ``category`` (the top when None). Quizzes that
    use them keep them: a question keeps its identity. Who may is the caller's check (edit both banks)."""
    _check_target(questions, bank, category)
    sources = sorted({q.bank_id for q in questions})
    for question in questions:
        question.bank_id = bank.id
        question.category_id = category.id if category else None
    db.session.flush()
    audit.record("questions_moved", actor=by, organization=_owner_org(bank), obj=bank, count=len(questions),
                 from_banks=sources, questions=[q.id for q in questions])
    return len(questions)


def copy_questions(questions: list[Question], bank: QuestionBank, category: QuestionCategory | None, *,
                   by: User | None) -> list[Question]:
    """Copy questions into ``bank`` and ``category``: each copy is a new question whose first version is the
    original's current one, with its name and details. Who may is the caller's check (use the source bank,
    edit the target)."""
    from copy import deepcopy

    _check_target(questions, bank, category)
    originals = current_versions(questions)
    copies = []
    for question in questions:
        name = question.name if question.bank_id != bank.id else _("%(name)s (copy)", name=question.name)[:255]
        duplicate = Question(bank_id=bank.id, category_id=category.id if category else None, name=name,
                             qtype=question.qtype, subject=question.subject, grade=question.grade,
                             difficulty=question.difficulty, tags=list(question.tags or []), current_version=1,
                             created_by_id=getattr(by, "id", None))
        duplicate.versions.append(QuestionVersion(version=1, definition=deepcopy(originals[question.id].definition),
                                                  created_by_id=getattr(by, "id", None)))
        db.session.add(duplicate)
        copies.append(duplicate)
    db.session.flush()
    audit.record("questions_copied", actor=by, organization=_owner_org(bank), obj=bank, count=len(copies),
                 from_banks=sorted({q.bank_id for q in questions}), questions=[q.id for q in questions])
    return copies


def bank_org_ids(user) -> frozenset[int] | None:
    """Organizations whose banks ``user`` edits and in which they may create banks (as ``can_edit_bank``);
    None: every one (the global administrator)."""
    s = scope_of(user)
    if s.is_admin:
        return None
    return frozenset(s.managed_org_ids | {o for o, roles in s.roles_by_org.items() if roles & BANK_ROLES})


def banks_condition(user, *, editable: bool = False):
    """SQL condition: the banks ``user`` may use (or, with ``editable``, edit), as ``can_use_bank`` and
    ``can_edit_bank`` decide one bank; None: every bank (the global administrator)."""
    from sqlalchemy import or_, union

    from lms.courses.models import CourseRun, RunStaff, RunStaffRole

    s = scope_of(user)
    if s.is_admin:
        return None
    runs = union(select(CourseRun.id).where(CourseRun.host_organization_id.in_(sorted(s.managed_org_ids))),
                 select(RunStaff.run_id).where(RunStaff.user_id == user.id, RunStaff.role == RunStaffRole.TEACHER))
    conditions = [QuestionBank.organization_id.in_(sorted(bank_org_ids(user))), QuestionBank.run_id.in_(runs)]
    if not editable:
        conditions.append(QuestionBank.id.in_(select(BankShare.bank_id).where(
            BankShare.organization_id.in_(sorted(s.staff_org_ids)))))
    return or_(*conditions)


def may_list_banks(user) -> bool:
    """Who sees the list of banks: staff of an organization (they edit its banks or use those shared with it)
    and the teachers of runs (their runs' banks)."""
    from lms.courses.models import RunStaff, RunStaffRole

    s = scope_of(user)
    if s.is_admin or s.staff_org_ids:
        return True
    return db.session.scalar(select(RunStaff.id).where(RunStaff.user_id == user.id,
                                                       RunStaff.role == RunStaffRole.TEACHER).limit(1)) is not None
