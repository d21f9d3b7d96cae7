"""The one way a view states its permission check.

Each domain keeps its predicates in ``<domain>/permissions.py`` (``can_manage_org(user, org)``);
a view calls ``require(predicate(...))`` exactly once after loading its object.
"""

from __future__ import annotations

from flask import abort


def require(allowed: bool) -> None:
    """Answer 403 unless ``allowed``. Anonymous users never reach here: views are login-protected."""
    if not allowed:
        abort(403)
