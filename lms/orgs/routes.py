from flask import Blueprint

bp = Blueprint("orgs", __name__)


@bp.route("/orgs")
def list_orgs():
    return ""


@bp.route("/orgs/<int:org_id>")
def view_org(org_id):
    return ""


@bp.route("/years")
def academic_years():
    return ""


@bp.route("/municipalities")
def municipalities():
    return ""
