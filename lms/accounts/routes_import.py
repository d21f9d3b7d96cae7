from flask import Blueprint

bp = Blueprint("imports", __name__)


@bp.route("/people/import")
def start():
    return ""


@bp.route("/people/import/<int:job_id>")
def status(job_id):
    return ""
