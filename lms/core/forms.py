"""Putting a service's DomainError next to the form field it names."""

from __future__ import annotations

from lms.core.errors import DomainError


def attach_error(form, exc: DomainError, default: str, aliases: dict[str, str] | None = None) -> None:
    """Show each message under the field the service named (mapped through ``aliases``), or under
    ``default`` when the form has no such field."""
    for field, message in (exc.errors or {None: exc.message}).items():
        name = (aliases or {}).get(field or "", field)
        target = getattr(form, name, None) if name else None
        if target is None or not hasattr(target, "errors"):
            target = getattr(form, default)
        if not isinstance(target.errors, list):
            target.errors = list(target.errors)
        target.errors.append(message)
