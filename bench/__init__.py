"""Benchmarks: ``python -m bench.dashboard`` (``make bench``). Measurements, never timed tests."""

from __future__ import annotations

from html.parser import HTMLParser


class _CsrfFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.token: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name") == "csrf_token" and self.token is None:
            self.token = a.get("value")


def csrf_token(html: str) -> str:
    """The first ``csrf_token`` hidden field of a page (the login form's, on /login)."""
    finder = _CsrfFinder()
    finder.feed(html)
    if not finder.token:
        raise RuntimeError("no csrf_token field in the page")
    return finder.token
