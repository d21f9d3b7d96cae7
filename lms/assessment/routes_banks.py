"""The question-bank pages: the banks a person may edit or use, a bank's category tree and questions (filters,
pages), sharing with the network, import with a preview (nothing is written until the person confirms),
export, the question editor for every type (each saved edit a new version), moving and copying questions
between banks, and a preview as a learner sees the question.

Another organization's bank is not shown to exist (404); a bank shared for use is read and copied from, not
changed (403)."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from datetime import timedelta

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import String, and_, cast, func, select
from sqlalchemy.orm import selectinload
from wtforms.fields import Label, SelectChoice

from lms.accounts.models import User
from lms.assessment import banks as services
from lms.assessment import gift, moodle_xml, qtypes
from lms.assessment.forms_banks import (
    BLANK_ROWS,
    DIFFICULTY_LABELS,
    MAX_ROWS,
    MORE_LABELS,
    MORE_ROWS,
    QTYPE_HINTS,
    QTYPE_LABELS,
    ROW_LABELS,
    ROW_LISTS,
    TEXT_FORMAT_LABELS,
    TEXT_HINTS,
    BankForm,
    CategoryForm,
    ImportForm,
    fraction_choices,
    fraction_value,
    question_form,
)
from lms.assessment.models import DIFFICULTIES, Question, QuestionBank, QuestionCategory, QuestionVersion
from lms.core.db import utcnow
from lms.core.errors import DomainError, ValidationError
from lms.core.forms import form_status, select_choices
from lms.core.loading import MAX_ID, get_or_404, get_or_none
from lms.core.permissions import require
from lms.core.storage import ObjectNotFound, content_disposition, get_storage
from lms.core.templating import translated
from lms.courses import grading
from lms.extensions import db
from lms.orgs.models import Organization

bp = Blueprint("banks", __name__)

QUESTIONS_PER_PAGE = 50
BANKS_PER_PAGE = 50
#: Banks offered as targets for moving or copying questions.
MAX_TARGET_BANKS = 200
#: How long an import's checked file waits for the confirmation.
PREVIEW_TTL = timedelta(hours=2)
IMPORT_PREFIX = "question-imports"
EXTENSIONS = {"gift": "gift", "txt": "gift", "xml": "xml"}
MAX_BYTES = {"gift": gift.MAX_BYTES, "xml": moodle_xml.MAX_BYTES}
FORMAT_LABELS = {"gift": "GIFT", "xml": "Moodle XML"}
#: The preview lists at most this many questions (all errors are listed).
PREVIEW_LIST = 500


@bp.context_processor
def _labels():
    return {"qtype_labels": translated(QTYPE_LABELS), "difficulty_labels": translated(DIFFICULTY_LABELS),
            "text_format_labels": translated(TEXT_FORMAT_LABELS)}


# --- loading and who may ------------------------------------------------------------------------------

def _usable(bank_id: int) -> QuestionBank:
    """The bank, or 404 for one the person may not even use: another organization's bank is not shown to exist."""
    bank = get_or_404(QuestionBank, bank_id)
    if not services.can_use_bank(current_user, bank):
        abort(404)
    return bank


def _editable(bank_id: int) -> QuestionBank:
    bank = _usable(bank_id)
    require(services.can_edit_bank(current_user, bank))
    return bank


def _question(question_id: int) -> tuple[Question, QuestionBank]:
    question = get_or_404(Question, question_id)
    return question, _usable(question.bank_id)


def _bank_orgs(user) -> list[Organization]:
    """Active organizations in which ``user`` may create a bank."""
    ids = services.bank_org_ids(user)
    stmt = select(Organization).where(Organization.is_active.is_(True)).order_by(Organization.short_name)
    if ids is not None:
        stmt = stmt.where(Organization.id.in_(sorted(ids)))
    return list(db.session.scalars(stmt))


def _where(condition):
    return [] if condition is None else [condition]


# --- the list of banks and a new bank --------------------------------------------------------------------

@bp.route("/banks")
@login_required
def list_banks():
    require(services.may_list_banks(current_user))
    stmt = (select(QuestionBank).where(*_where(services.banks_condition(current_user)))
            .options(selectinload(QuestionBank.organization), selectinload(QuestionBank.run))
            .order_by(QuestionBank.name, QuestionBank.id))
    page = db.paginate(stmt, per_page=BANKS_PER_PAGE, error_out=False)
    ids = [b.id for b in page.items]
    counts = dict(db.session.execute(select(Question.bank_id, func.count()).where(Question.bank_id.in_(ids))
                                     .group_by(Question.bank_id)).all()) if ids else {}
    editable = set(db.session.scalars(select(QuestionBank.id).where(
        QuestionBank.id.in_(ids), *_where(services.banks_condition(current_user, editable=True))))) if ids else set()
    return render_template("banks/list.html", page=page, counts=counts, editable=editable,
                           can_create=bool(_bank_orgs(current_user)), args={})


@bp.route("/banks/new", methods=["GET", "POST"])
@login_required
def new_bank():
    orgs = _bank_orgs(current_user)
    require(bool(orgs))
    form = BankForm()
    form.organization.choices = select_choices([("", _("Choose…"))] + [(str(o.id), o.short_name)
                                                                     for o in orgs])
    if request.method == "GET" and len(orgs) == 1:
        form.organization.data = str(orgs[0].id)
    if form.validate_on_submit():
        chosen = form.organization.data or ""
        org = None
        if chosen:
            org = next((o for o in orgs if str(o.id) == chosen), None)
            require(org is not None)  # an organization not offered: not theirs
        try:
            bank = services.create_bank(name=form.name.data, description=form.description.data or "",
                                        organization=org, by=current_user)
        except DomainError as exc:
            db.session.rollback()
            _attach(form, exc.errors or {"name": exc.message})
        else:
            db.session.commit()
            flash(_("The bank is created."), "success")
            return redirect(url_for("banks.view_bank", bank_id=bank.id))
    return render_template("banks/new.html", form=form), form_status(form)


# --- a bank: categories, questions, sharing ------------------------------------------------------------

def _categories_of(bank_ids) -> list[QuestionCategory]:
    """The categories of these banks, in one statement."""
    ids = sorted(set(bank_ids))
    return list(db.session.scalars(select(QuestionCategory).where(QuestionCategory.bank_id.in_(ids)))) if ids else []


def _tree(rows: list[QuestionCategory], counts: dict[int | None, int]) -> list[dict]:
    """The category tree from a bank's categories and its questions per category: [{"category", "count"
    (questions in it), "children": [...]}], siblings by name."""
    children: dict[int | None, list[QuestionCategory]] = {}
    known = {c.id for c in rows}
    for c in rows:
        children.setdefault(c.parent_id if c.parent_id in known else None, []).append(c)
    seen: set[int] = set()

    def nodes(parent_id) -> list[dict]:
        out = []
        for c in sorted(children.get(parent_id, []), key=lambda c: (c.name.casefold(), c.id)):
            if c.id not in seen:
                seen.add(c.id)
                out.append({"category": c, "count": counts.get(c.id, 0), "children": nodes(c.id)})
        return out

    return nodes(None)


def _choices_of(paths: dict[int, str], top: str, *, exclude: set[int] | None = None) -> list[SelectChoice]:
    items = sorted(((str(i), p) for i, p in paths.items() if not exclude or i not in exclude),
                   key=lambda ip: ip[1].casefold())
    return select_choices([("", top)] + items)


def _category_choices(bank: QuestionBank, top: str, *, exclude: set[int] | None = None) -> list[SelectChoice]:
    return _choices_of(services.category_paths(bank), top, exclude=exclude)


class Filters:
    """The question list's filters from the query string (unknown values are ignored)."""

    def __init__(self, args, paths: dict[int, str]):
        category = args.get("category", "")
        self.category = category if category == "none" or (category.isdecimal() and int(category) in paths) else ""
        qtype = args.get("qtype", "")
        self.qtype = qtype if qtype in qtypes.REGISTRY else ""
        self.tag = " ".join((args.get("tag") or "").split())[:50]
        self.subject = (args.get("subject") or "").strip()[:120]
        grade = args.get("grade", "")
        self.grade = grade if grade.isdecimal() and 1 <= int(grade) <= 11 else ""
        difficulty = args.get("difficulty", "")
        self.difficulty = difficulty if difficulty in DIFFICULTIES else ""
        self.q = (args.get("q") or "").strip()[:200]

    def args(self) -> dict[str, str]:
        return {k: v for k, v in vars(self).items() if v}


def _questions_stmt(bank: QuestionBank, flt: Filters, categories: list[QuestionCategory]):
    """The filtered questions; ``categories`` are the bank's (a category's filter takes its subcategories too)."""
    stmt = select(Question).where(Question.bank_id == bank.id)
    if flt.category == "none":
        stmt = stmt.where(Question.category_id.is_(None))
    elif flt.category:
        below = services.descendants_of([(c.id, c.parent_id) for c in categories], int(flt.category))
        stmt = stmt.where(Question.category_id.in_(sorted(below)))
    if flt.qtype:
        stmt = stmt.where(Question.qtype == flt.qtype)
    if flt.tag:
        # Tags are a JSON list: the tag, quoted as JSON writes it, inside the list's text.
        stmt = stmt.where(cast(Question.tags, String).contains(json.dumps(flt.tag), autoescape=True))
    if flt.subject:
        stmt = stmt.where(Question.subject == flt.subject)
    if flt.grade:
        stmt = stmt.where(Question.grade == int(flt.grade))
    if flt.difficulty:
        stmt = stmt.where(Question.difficulty == flt.difficulty)
    if flt.q:
        needle = flt.q.lower()
        stmt = stmt.join(QuestionVersion, and_(QuestionVersion.question_id == Question.id,
                                               QuestionVersion.version == Question.current_version))
        stmt = stmt.where(func.lower(Question.name).contains(needle, autoescape=True)
                          | func.lower(QuestionVersion.definition["text"].as_string()).contains(needle,
                                                                                              autoescape=True))
    return stmt.order_by(Question.name, Question.id)


def _share_candidates(bank: QuestionBank) -> list[Organization]:
    """The other active organizations of the owner's municipality."""
    if bank.organization_id is None:
        return []
    return list(db.session.scalars(select(Organization).where(
        Organization.municipality_id == bank.organization.municipality_id, Organization.id != bank.organization_id,
        Organization.is_active.is_(True)).order_by(Organization.short_name)))


def _target_banks() -> list[QuestionBank]:
    """Banks the person may edit: the targets of a move or a copy."""
    return list(db.session.scalars(select(QuestionBank).where(
        *_where(services.banks_condition(current_user, editable=True)))
        .order_by(QuestionBank.name, QuestionBank.id).limit(MAX_TARGET_BANKS)))


def _targets(banks_: list[QuestionBank],
             rows: list[QuestionCategory]) -> list[tuple[QuestionBank, list[tuple[int, str]]]]:
    """Each target bank with its categories' paths (``rows``: their categories, read already)."""
    by_bank: dict[int, list[QuestionCategory]] = {}
    for c in rows:
        by_bank.setdefault(c.bank_id, []).append(c)
    return [(b, sorted(services.paths_of(by_bank.get(b.id, [])).items(), key=lambda ip: ip[1].casefold()))
            for b in banks_]


def _bank_page(bank: QuestionBank, *, category_form: CategoryForm | None = None, errors: dict | None = None,
               chosen: list[int] | None = None, status: int = 200):
    editing = services.can_edit_bank(current_user, bank)
    target_banks = _target_banks()
    # One read of the categories: this bank's (tree, filter, choices) and the targets' (move and copy).
    rows = _categories_of([bank.id] + [b.id for b in target_banks])
    own = [c for c in rows if c.bank_id == bank.id]
    paths = services.paths_of(own)
    flt = Filters(request.args, paths)
    page = db.paginate(_questions_stmt(bank, flt, own), per_page=QUESTIONS_PER_PAGE, error_out=False)
    if category_form is None:
        category_form = CategoryForm(formdata=None, prefix="cat")
    category_form.parent.choices = _choices_of(paths, _("— the top of the bank —"))
    # Every question's category, subject and tags: the counts (per category, in all, outside any) and the facets.
    facets = db.session.execute(select(Question.category_id, Question.subject, Question.tags)
                                .where(Question.bank_id == bank.id)).all()
    counts = Counter(category_id for category_id, _s, _t in facets)
    subjects = sorted({s for _c, s, _t in facets if s}, key=str.casefold)
    tags = sorted({t for _c, _s, ts in facets for t in (ts or [])}, key=str.casefold)
    shared = {s.organization_id for s in bank.shares}
    return render_template(
        "banks/view.html", bank=bank, editing=editing, tree=_tree(own, counts), paths=paths, flt=flt, page=page,
        args=flt.args(), subjects=subjects, tags=tags, category_form=category_form,
        candidates=_share_candidates(bank) if editing else [], shared=shared, targets=_targets(target_banks, rows),
        total=sum(counts.values()), uncategorised=counts.get(None, 0),
        errors=errors or {}, chosen=set(chosen or [])), status


@bp.route("/banks/<int:bank_id>")
@login_required
def view_bank(bank_id: int):
    return _bank_page(_usable(bank_id))


@bp.route("/banks/<int:bank_id>/categories", methods=["POST"])
@login_required
def add_category(bank_id: int):
    bank = _editable(bank_id)
    form = CategoryForm(prefix="cat")
    form.parent.choices = _category_choices(bank, "")
    if form.validate_on_submit():
        try:
            services.add_category(bank, form.name.data, parent=_category_of(bank, form.parent.data))
        except DomainError as exc:
            db.session.rollback()
            _attach(form, exc.errors or {"name": exc.message})
            return _bank_page(bank, category_form=form, status=422)
        db.session.commit()
        flash(_("Category added."), "success")
    return redirect(url_for("banks.view_bank", bank_id=bank.id, _anchor="categories-h"))


def _category_of(bank: QuestionBank, value: str | None) -> QuestionCategory | None:
    """The category a form names, of this bank; None for the top; 422 naming the field for anything else."""
    value = (value or "").strip()
    if not value:
        return None
    category = get_or_none(QuestionCategory, int(value)) if value.isdecimal() else None
    if category is None or category.bank_id != bank.id:
        raise ValidationError(_("Choose one of the options."), field="parent")
    return category


@bp.route("/categories/<int:category_id>/edit", methods=["GET", "POST"])
@login_required
def edit_category(category_id: int):
    category = get_or_404(QuestionCategory, category_id)
    bank = _editable(category.bank_id)
    form = CategoryForm() if request.method == "POST" else CategoryForm(formdata=None)
    below = services.descendant_ids(bank, category.id)
    form.parent.choices = _category_choices(bank, _("— the top of the bank —"), exclude=below)
    if request.method == "GET":
        form.name.data, form.parent.data = category.name, str(category.parent_id or "")
    if form.validate_on_submit():
        try:
            services.update_category(category, name=form.name.data, parent=_category_of(bank, form.parent.data))
        except DomainError as exc:
            db.session.rollback()
            _attach(form, exc.errors or {"name": exc.message})
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("banks.view_bank", bank_id=bank.id, _anchor="categories-h"))
    return _category_page(category, bank, form, form_status(form))


def _category_page(category, bank, form, status, delete_error: str | None = None):
    questions = db.session.scalar(select(func.count()).select_from(Question).where(Question.category_id == category.id))
    children = db.session.scalar(select(func.count()).select_from(QuestionCategory)
                                 .where(QuestionCategory.parent_id == category.id))
    return render_template("banks/category.html", category=category, bank=bank, form=form,
                           path=services.category_paths(bank).get(category.id, category.name),
                           questions=questions, children=children, delete_error=delete_error), status


@bp.route("/categories/<int:category_id>/delete", methods=["POST"])
@login_required
def delete_category(category_id: int):
    category = get_or_404(QuestionCategory, category_id)
    bank = _editable(category.bank_id)
    try:
        services.delete_category(category)
    except DomainError as exc:
        db.session.rollback()
        form = CategoryForm(formdata=None)
        form.parent.choices = _category_choices(bank, _("— the top of the bank —"),
                                                exclude=services.descendant_ids(bank, category.id))
        form.name.data, form.parent.data = category.name, str(category.parent_id or "")
        return _category_page(category, bank, form, 422, delete_error=exc.message)
    db.session.commit()
    flash(_("Category deleted."), "success")
    return redirect(url_for("banks.view_bank", bank_id=bank.id, _anchor="categories-h"))


@bp.route("/banks/<int:bank_id>/share", methods=["POST"])
@login_required
def share_bank(bank_id: int):
    bank = _editable(bank_id)
    allowed = {o.id for o in _share_candidates(bank)}
    values = request.form.getlist("organizations")
    chosen = [int(v) for v in values if v.isdecimal() and int(v) <= MAX_ID]
    if bank.run_id is not None:
        return _bank_page(bank, errors={"organizations": _("A course run's bank is not shared; copy its questions "
                                                           "instead.")}, status=422)
    if len(chosen) != len(values) or not set(chosen) <= allowed:
        return _bank_page(bank, errors={"organizations": _("Choose organizations from the list.")}, status=422)
    services.share(bank, chosen, by=current_user)
    db.session.commit()
    flash(_("Sharing saved: %(n)d organizations may use the bank.", n=len(set(chosen))), "success")
    return redirect(url_for("banks.view_bank", bank_id=bank.id, _anchor="share-h"))


# --- moving and copying ---------------------------------------------------------------------------------

@bp.route("/banks/<int:bank_id>/questions/transfer", methods=["POST"])
@login_required
def transfer(bank_id: int):
    """Move (from a bank the person edits) or copy (from one they may use) the chosen questions into a bank
    they edit."""
    bank = _usable(bank_id)
    action = request.form.get("action", "")
    if action not in ("move", "copy"):
        return _bank_page(bank, errors={"target": _("Choose to move or to copy.")}, status=422)
    require(action == "copy" or services.can_edit_bank(current_user, bank))
    values = request.form.getlist("questions")
    ids = sorted({int(v) for v in values if v.isdecimal() and 0 < int(v) <= MAX_ID})
    questions = list(db.session.scalars(select(Question).where(Question.id.in_(ids), Question.bank_id == bank.id)
                                        .order_by(Question.id))) if ids else []
    errors = {}
    if not values:
        errors["questions"] = _("Choose at least one question.")
    elif len(questions) != len(set(values)):
        errors["questions"] = _("Some of the chosen questions are not in this bank any more. Reload the page.")
    target_bank, category = _target(request.form.get("target", ""), errors)
    if errors:
        return _bank_page(bank, errors=errors, chosen=ids, status=422)
    require(target_bank is not None and services.can_edit_bank(current_user, target_bank))
    if category is not None and category.bank_id != target_bank.id:
        return _bank_page(bank, errors={"target": _("Choose one of the options.")}, chosen=ids, status=422)
    mover = services.move_questions if action == "move" else services.copy_questions
    try:
        mover(questions, target_bank, category, by=current_user)
    except DomainError as exc:
        db.session.rollback()
        return _bank_page(bank, errors={"target": exc.message}, chosen=ids, status=422)
    db.session.commit()
    if action == "move":
        flash(_("Moved questions: %(n)d, to «%(bank)s».", n=len(questions), bank=target_bank.name), "success")
    else:
        flash(_("Copied questions: %(n)d, to «%(bank)s».", n=len(questions), bank=target_bank.name), "success")
    return redirect(url_for("banks.view_bank", bank_id=bank.id))


def _target(value: str, errors: dict) -> tuple[QuestionBank | None, QuestionCategory | None]:
    """«bank-category» (category 0: the top of the bank) from the form."""
    match = re.fullmatch(r"(\d{1,10})-(\d{1,10})", value or "")
    if not match:
        errors["target"] = _("Choose the bank and category to put the questions in.")
        return None, None
    bank = get_or_none(QuestionBank, int(match.group(1)))
    category_id = int(match.group(2))
    category = get_or_none(QuestionCategory, category_id) if category_id else None
    if category_id and category is None:
        errors["target"] = _("Choose one of the options.")
    return bank, category


# --- import and export -----------------------------------------------------------------------------------

def _import_key(bank: QuestionBank, digest: str, fmt: str) -> str:
    """Where the checked file waits: under the bank and the person, so nobody else can confirm it."""
    return f"{IMPORT_PREFIX}/{bank.id}/{current_user.id}/{digest}.{fmt}"


def _import_page(bank, form, status=200, *, report=None, listed=None, fmt=None, digest=None, filename=""):
    return render_template("banks/import.html", bank=bank, form=form, report=report, listed=listed or [], fmt=fmt,
                           format_label=FORMAT_LABELS.get(fmt or "", ""), digest=digest, filename=filename,
                           max_gift=gift.MAX_BYTES // 2**20, max_xml=moodle_xml.MAX_BYTES // 2**20,
                           preview_list=PREVIEW_LIST, ttl_hours=int(PREVIEW_TTL.total_seconds() // 3600)), status


def _upload(form: ImportForm) -> tuple[bytes, str, str] | None:
    """The uploaded file's bytes, format and name, or None with the reason on the file field."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        form.file.errors = [_("Choose a file.")]
        return None
    filename = upload.filename
    fmt = EXTENSIONS.get(filename.rsplit(".", 1)[-1].lower() if "." in filename else "")
    if fmt is None:
        form.file.errors = [_("Only GIFT (.gift, .txt) or Moodle XML (.xml) files are read.")]
        return None
    data = upload.stream.read(MAX_BYTES[fmt] + 1)
    if len(data) > MAX_BYTES[fmt]:
        form.file.errors = [_("The file is larger than %(n)d MB.", n=MAX_BYTES[fmt] // 2**20)]
        return None
    if not data.strip():
        form.file.errors = [_("The file is empty.")]
        return None
    return data, fmt, filename


@bp.route("/banks/<int:bank_id>/import", methods=["GET", "POST"])
@login_required
def import_questions(bank_id: int):
    """Upload → a preview: how many questions, which categories, every bad question with its line or number.
    Nothing is written here; a clean file waits in the storage for the confirmation."""
    bank = _editable(bank_id)
    form = ImportForm()
    if not form.validate_on_submit():
        return _import_page(bank, form, form_status(form))
    upload = _upload(form)
    if upload is None:
        return _import_page(bank, form, 422)
    data, fmt, filename = upload
    parsed = services.read(data, fmt)  # read once: the report and the list come from it
    report = services.import_parsed(bank, parsed, fmt, by=current_user, dry_run=True)
    db.session.rollback()  # a preview writes nothing (nor should anything be pending)
    whole_file = [reason for line, reason in report.errors if not line]  # too large, not UTF-8, not XML…
    if whole_file or not (report.questions or report.errors):
        form.file.errors = whole_file or [_("The file has no questions.")]
        return _import_page(bank, form, 422)
    listed = parsed.questions[:PREVIEW_LIST]
    if report.errors:
        return _import_page(bank, form, 422, report=report, listed=listed, fmt=fmt, filename=filename)
    digest = hashlib.sha256(data).hexdigest()
    storage = get_storage()
    now = utcnow()
    for old in list(storage.list(f"{IMPORT_PREFIX}/{bank.id}/")):  # this person's earlier check, and abandoned ones
        if old.key.startswith(f"{IMPORT_PREFIX}/{bank.id}/{current_user.id}/") or (
                old.modified is not None and now - old.modified > PREVIEW_TTL):
            storage.delete(old.key)
    storage.put_bytes(_import_key(bank, digest, fmt), data, content_type="application/octet-stream")
    return _import_page(bank, ImportForm(formdata=None), report=report, listed=listed, fmt=fmt, digest=digest,
                        filename=filename)


@bp.route("/banks/<int:bank_id>/import/confirm", methods=["POST"])
@login_required
def confirm_import(bank_id: int):
    bank = _editable(bank_id)
    digest, fmt = request.form.get("digest", ""), request.form.get("format", "")
    data = _checked_file(bank, digest, fmt)
    if data is None:
        form = ImportForm(formdata=None)
        form.file.errors = [_("The checked file is no longer kept (more than %(n)d hours passed, or it was "
                              "imported already). Upload it again.", n=int(PREVIEW_TTL.total_seconds() // 3600))]
        return _import_page(bank, form, 422)
    parsed = services.read(data, fmt)
    try:
        report = services.import_parsed(bank, parsed, fmt, by=current_user, dry_run=False)
    except DomainError as exc:
        db.session.rollback()
        form = ImportForm(formdata=None)
        form.file.errors = [exc.message]
        return _import_page(bank, form, 422)
    if not report.written:
        db.session.rollback()
        return _import_page(bank, ImportForm(formdata=None), 422, report=report,
                            listed=parsed.questions[:PREVIEW_LIST], fmt=fmt)
    db.session.commit()
    get_storage().delete(_import_key(bank, digest, fmt))
    flash(_("Imported questions: %(n)d.", n=report.questions), "success")
    return redirect(url_for("banks.view_bank", bank_id=bank.id))


def _checked_file(bank: QuestionBank, digest: str, fmt: str) -> bytes | None:
    """The file the person checked for this bank, while it is kept and unchanged."""
    if not re.fullmatch(r"[0-9a-f]{64}", digest or "") or fmt not in services.FORMATS:
        return None
    storage, key = get_storage(), _import_key(bank, digest, fmt)
    try:
        stored = storage.stat(key)
        if stored.modified is not None and utcnow() - stored.modified > PREVIEW_TTL:
            storage.delete(key)
            return None
        data = storage.get_bytes(key)
    except ObjectNotFound:
        return None
    return data if hashlib.sha256(data).hexdigest() == digest else None


@bp.route("/banks/<int:bank_id>/export")
@login_required
def export_bank(bank_id: int):
    bank = _usable(bank_id)
    fmt = request.args.get("format", "gift")
    if fmt not in services.FORMATS:
        raise ValidationError(_("Choose GIFT or Moodle XML."), field="format")
    data = services.export_questions(bank, fmt)
    extension, mimetype = ("gift", "text/plain; charset=utf-8") if fmt == "gift" else ("xml", "application/xml")
    name = re.sub(r"[\\/:*?\"<>|\s]+", "_", bank.name).strip("_")[:100] or "questions"
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = content_disposition(f"{name}.{extension}")
    return response


# --- the question editor -------------------------------------------------------------------------------

def _number_text(value) -> str:
    if value == "*" or value is None:
        return str(value or "")
    number = float(value)
    if number == int(number) and abs(number) < 1e15:
        return str(int(number))
    return repr(number)


def _form_data(question: Question, definition: dict) -> dict:
    """The editor's fields from a question and one of its versions."""
    d = definition
    data = {"name": question.name, "category": str(question.category_id or ""), "subject": question.subject or "",
            "grade": str(question.grade or ""), "difficulty": question.difficulty or "",
            "tags": ", ".join(question.tags or []), "format": d.get("format", "moodle"), "text": d.get("text", ""),
            "general_feedback": d.get("general_feedback", "")}
    kind = d["qtype"]

    def credit(a):
        return {"fraction": fraction_value(a.get("fraction", 0)), "feedback": a.get("feedback", "")}

    if kind == "truefalse":
        data.update(answer="true" if d.get("answer") else "false", feedback_true=d.get("feedback_true", ""),
                    feedback_false=d.get("feedback_false", ""))
    elif kind == "multichoice":
        data.update(single="1" if d.get("single", True) else "0", shuffle=d.get("shuffle", True),
                    answers=[{"text": a["text"], **credit(a)} for a in d.get("answers", [])])
    elif kind == "shortanswer":
        data.update(case_sensitive=d.get("case_sensitive", False),
                    answers=[{"text": a["text"], **credit(a)} for a in d.get("answers", [])])
    elif kind == "numerical":
        data.update(answers=[{"value": _number_text(a["value"]), "tolerance": _number_text(a.get("tolerance", 0)),
                              **credit(a)} for a in d.get("answers", [])],
                    tolerance_type=d.get("tolerance_type", "absolute"),
                    units=[{"unit": u["unit"], "multiplier": _number_text(u["multiplier"])} for u in d.get("units", [])],
                    unit_required=d.get("unit_required", False),
                    unit_penalty=_number_text(d.get("unit_penalty", 0.1)))
    elif kind == "matching":
        data.update(pairs=[{"stem": p["stem"], "answer": p["answer"]} for p in d.get("pairs", [])],
                    shuffle=d.get("shuffle", True))
    elif kind == "ordering":
        data.update(items=list(d.get("items", [])), all_or_nothing=d.get("all_or_nothing", False))
    elif kind == "essay":
        data.update({k: str(d.get(k, 0)) for k in ("min_words", "max_words", "attachments")},
                    grader_info=d.get("grader_info", ""), rubric=grading.rubric_text(d.get("rubric") or []))
    elif kind == "gapselect":
        data.update(options=[{"text": o["text"], "group": str(o["group"])} for o in d.get("options", [])],
                    shuffle=d.get("shuffle", True))
    return data


def _blank(form, name: str, count: int, *, first_right: bool = False) -> None:
    """Add up to ``count`` blank rows (a new question's first answer worth 100 %, the others 0 %)."""
    rows = getattr(form, name)
    for _i in range(max(0, min(count, MAX_ROWS - len(rows.entries)))):
        entry = rows.append_entry()
        if hasattr(entry, "form") and "fraction" in entry.form._fields:
            entry.form.fraction.data = "1" if first_right and len(rows.entries) == 1 else "0"
        if hasattr(entry, "form") and "group" in entry.form._fields:
            entry.form.group.data = entry.form.group.data or "1"


def _editor_form(bank: QuestionBank, qtype: str, question: Question | None, definition: dict | None):
    cls = question_form(qtype)
    if request.method == "POST":
        form = cls()
    elif question is not None:
        form = cls(formdata=None, data=_form_data(question, definition))
        for name in ROW_LISTS.get(qtype, ()):
            _blank(form, name, 2)
    else:
        form = cls(formdata=None, category=request.args.get("category", ""))
        for name in ROW_LISTS.get(qtype, ()):
            _blank(form, name, BLANK_ROWS[name], first_right=name == "answers")
    if request.method == "POST" and request.form.get("add_rows") in ROW_LISTS.get(qtype, ()):
        _blank(form, request.form["add_rows"], MORE_ROWS)
    form.category.choices = _category_choices(bank, _("— the top of the bank —"))
    _decorate(form, qtype)
    return form


def _decorate(form, qtype: str) -> None:
    """Each row's grade choices (keeping an imported value), and the items' numbered labels."""
    low = -1.0 if qtype == "multichoice" else 0.0
    if "answers" in form._fields:
        for entry in form.answers:
            entry.form.fraction.choices = fraction_choices(low, entry.form.fraction.data)
    if "items" in form._fields:
        for n, entry in enumerate(form["items"].entries):
            entry.label = Label(entry.id, str(ROW_LABELS["items"]) % {"n": n + 1})


#: A row counts as filled when one of these has something in it; blank rows are left out.
_FILLED = {"answers": ("text", "value", "feedback"), "units": ("unit",), "pairs": ("stem", "answer"),
           "options": ("text",)}


def _collect(form, name: str, *, keep_inner_blanks: bool = False) -> tuple[list, dict[int, int]]:
    """The filled rows of a list, and where each came from (its row on the page), for the errors."""
    rows, where = [], {}
    entries = getattr(form, name).entries
    filled = []
    for n, entry in enumerate(entries):
        if hasattr(entry, "form"):
            value = {k: (v.strip() if isinstance(v, str) else v) for k, v in entry.form.data.items()}
            has = any(str(value.get(k) or "").strip() for k in _FILLED[name]) or \
                str(value.get("fraction", "0")) not in ("0", "")
        else:
            value = (entry.data or "").strip()
            has = bool(value)
        filled.append((n, value, has))
    last = max((n for n, _v, has in filled if has), default=-1)
    for n, value, has in filled:
        if has or (keep_inner_blanks and n < last):
            where[len(rows)] = n
            rows.append(value)
    return rows, where


def _definition(qtype: str, form, question: Question | None, current_definition: dict | None):
    """The definition the form describes, and the row maps (definition index → row on the page)."""
    d: dict = {"qtype": qtype, "format": form.format.data or "moodle", "text": form.text.data or "",
               "general_feedback": form.general_feedback.data or ""}
    if current_definition and current_definition.get("files"):
        d["files"] = current_definition["files"]  # images imported with the question stay with it
    maps: dict[str, dict[int, int]] = {}
    f = form._fields
    if qtype == "truefalse":
        d.update(answer={"true": True, "false": False}.get(f["answer"].data),
                 feedback_true=f["feedback_true"].data or "", feedback_false=f["feedback_false"].data or "")
    if "single" in f:
        d["single"] = f["single"].data != "0"
    for key in ("shuffle", "case_sensitive", "unit_required", "all_or_nothing"):
        if key in f:
            d[key] = bool(f[key].data)
    for key in ("tolerance_type", "unit_penalty", "min_words", "max_words", "attachments", "grader_info"):
        if key in f:
            d[key] = f[key].data if f[key].data is not None else ""
    if "rubric" in f:
        d["rubric"] = (f["rubric"].data or "").strip()  # only blank lines: no rubric
    for name in ROW_LISTS.get(qtype, ()):
        rows, maps[name] = _collect(form, name, keep_inner_blanks=name == "options")
        d[name] = rows
    return d, maps


_ROW_KEY = re.compile(r"^(answers|units|pairs|items|options)-(\d+)(-.+)?$")


def _attach(form, errors: dict[str, str], maps: dict[str, dict[int, int]] | None = None) -> dict[str, str]:
    """Put each message next to the input it names (rows renumbered to their place on the page); return the
    ones about a whole list or the whole question, shown at its group and in the summary."""
    fields = _fields_by_name(form)
    leftover: dict[str, str] = {}
    for key, message in errors.items():
        match = _ROW_KEY.match(key)
        if match and maps and match.group(1) in maps:
            row = maps[match.group(1)].get(int(match.group(2)), int(match.group(2)))
            key = f"{match.group(1)}-{row}{match.group(3) or ''}"
        if key.startswith("parts-"):  # an embedded answer's problem is in the text
            key = "text"
        target = fields.get(key)
        if target is None:
            leftover[key] = message
            continue
        if not isinstance(target.errors, list):
            target.errors = list(target.errors)
        target.errors.append(message)
    return leftover


def _fields_by_name(form) -> dict:
    out = {}
    for f in form:
        if f.type == "FieldList":
            for entry in f.entries:
                if entry.type == "FormField":
                    out.update({sub.name: sub for sub in entry.form})
                else:
                    out[entry.name] = entry
        else:
            out[f.name] = out[f.short_name] = f
    return out


def _summary(form, leftover: dict[str, str]) -> list[tuple[str, str]]:
    """(the input's id, «label: message») of every error, in the page's order, for the error summary."""
    out = []
    for f in form:
        if f.type == "CSRFTokenField":
            continue
        if f.type == "FieldList":
            for n, entry in enumerate(f.entries):
                subs = list(entry.form) if entry.type == "FormField" else [entry]
                for sub in subs:
                    if sub.errors and isinstance(sub.errors, list):
                        row = str(ROW_LABELS[f.name]) % {"n": n + 1}
                        label = row if sub is entry else f"{row}, {sub.label.text}"
                        out.append((sub.id, f"{label}: {' '.join(sub.errors)}"))
            if f.name in leftover:
                out.append((f.name, leftover[f.name]))
        elif f.errors and isinstance(f.errors, list):
            out.append((f.id, f"{f.label.text}: {' '.join(f.errors)}"))
    for key, message in leftover.items():
        if key not in form._fields:
            out.append(("question-form", message))
    return out


def _editor(bank: QuestionBank, qtype: str, question: Question | None = None):
    current_definition = services.current(question).definition if question is not None else None
    form = _editor_form(bank, qtype, question, current_definition)
    leftover: dict[str, str] = {}
    status = 200
    if request.method == "POST" and "add_rows" not in request.form and form.validate_on_submit():
        definition, maps = _definition(qtype, form, question, current_definition)
        tags = [t for t in re.split(r"[,;]", form.tags.data or "") if t.strip()]
        try:
            category = _category_of(bank, form.category.data)
            saved, changed = services.save_question(
                bank, definition, by=current_user, question=question, name=form.name.data or "", category=category,
                subject=form.subject.data or "", grade=form.grade.data or "", difficulty=form.difficulty.data or None,
                tags=tags)
        except DomainError as exc:
            db.session.rollback()
            errors = exc.errors or {exc.field or "text": exc.message}
            if "parent" in errors:
                errors["category"] = errors.pop("parent")
            leftover = _attach(form, errors, maps)
            _decorate(form, qtype)
            status = 422
        else:
            db.session.commit()
            if question is None:
                flash(_("The question is added."), "success")
            elif changed:
                flash(_("Saved as version %(n)d.", n=saved.current_version), "success")
            else:
                flash(_("Saved. The text and answers did not change, so there is no new version."), "success")
            return redirect(url_for("banks.view_question", question_id=saved.id))
    return render_template("banks/editor.html", bank=bank, form=form, qtype=qtype, question=question,
                           summary=_summary(form, leftover), leftover=leftover, rows=ROW_LISTS.get(qtype, ()),
                           row_labels=translated(ROW_LABELS), more_labels=translated(MORE_LABELS),
                           text_hint=TEXT_HINTS.get(qtype), files=(current_definition or {}).get("files") or [],
                           max_rows=MAX_ROWS, action=request.full_path.rstrip("?")), status


@bp.route("/banks/<int:bank_id>/questions/new", methods=["GET", "POST"])
@login_required
def new_question(bank_id: int):
    bank = _editable(bank_id)
    qtype = request.args.get("qtype", "")
    if not qtype:
        return render_template("banks/choose_type.html", bank=bank, hints=translated(QTYPE_HINTS),
                               category=request.args.get("category", ""))
    if qtype not in qtypes.REGISTRY:
        abort(404)
    return _editor(bank, qtype)


@bp.route("/questions/<int:question_id>/edit", methods=["GET", "POST"])
@login_required
def edit_question(question_id: int):
    question, bank = _question(question_id)
    require(services.can_edit_bank(current_user, bank))
    return _editor(bank, question.qtype, question)


@bp.route("/questions/<int:question_id>")
@login_required
def view_question(question_id: int):
    question, bank = _question(question_id)
    versions = question.versions
    shown = request.args.get("version", type=int) or question.current_version
    version = next((v for v in versions if v.version == shown), None)
    if version is None:
        abort(404)
    authors = {u.id: u for u in db.session.scalars(select(User).where(
        User.id.in_({v.created_by_id for v in versions if v.created_by_id})))}
    from lms.assessment.render import text_html

    return render_template("banks/question.html", question=question, bank=bank, version=version, versions=versions,
                           authors=authors, definition=version.definition, text_html=text_html,
                           path=services.category_paths(bank).get(question.category_id, ""),
                           editing=services.can_edit_bank(current_user, bank), fraction_label=_percent)


def _percent(value) -> str:
    try:
        return f"{float(value) * 100:.5g}".replace(".", ",") + " %"
    except (TypeError, ValueError):
        return str(value)


# --- preview as a learner --------------------------------------------------------------------------------

PREVIEW_PREFIX = "q"
STATE_LABELS = {
    qtypes.CORRECT: _l("Right"), qtypes.PARTIAL: _l("Partly right"), qtypes.WRONG: _l("Wrong"),
    qtypes.UNANSWERED: _l("No answer given"), qtypes.MANUAL: _l("A teacher grades this answer"),
    qtypes.UNGRADED: _l("This question is not graded"),
}


@bp.route("/questions/<int:question_id>/preview", methods=["GET", "POST"])
@login_required
def preview_question(question_id: int):
    """The current version as a learner sees it (in the bank's order); an answer sent is graded and shown with
    its feedback and the right answer. Nothing is recorded."""
    from lms.assessment import render

    question, bank = _question(question_id)
    definition = services.current(question).definition
    values = outcome = note = None
    if request.method == "POST":
        response = render.response_from_form(definition, None, request.form, PREVIEW_PREFIX)
        outcome = qtypes.grade(definition, response)
        values = render.form_values(definition, None, response, PREVIEW_PREFIX)
        if question.qtype == "essay":
            note = qtypes.REGISTRY["essay"].check(definition, str(response or ""))
    right = render.right_answer(definition)
    return render_template("banks/preview.html", question=question, bank=bank, view=render.view(definition),
                           prefix=PREVIEW_PREFIX, values=values, outcome=outcome, note=note, right=right,
                           definition=definition, state_labels=translated(STATE_LABELS),
                           percent=_percent(outcome.fraction) if outcome and outcome.fraction is not None else None)
