"""Rendered pages and page parts kept in the process under exact versions.

A cached entry is only ever looked up under the whole key it was stored with, and every key carries the
versions of the data the entry shows (read from the database on each request, so a change made by any
process is seen at once). Nothing is invalidated by hand: a change makes a new version, and the old
entries age out of the LRU. Entries may also carry a moment after which they are no longer right (an
activity that opens at 9:00), and a budget in characters keeps the memory bounded.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import session

from lms.core.db import utcnow
from lms.core.i18n import select_locale, select_timezone
from lms.core.templating import layout_key

_registry: list[VersionedCache] = []


class VersionedCache:
    """A small thread-safe LRU map bounded by entry count and, for text, by total characters."""

    def __init__(self, size: int = 2000, max_chars: int | None = None):
        self._items: OrderedDict = OrderedDict()
        self._size = size
        self._max_chars = max_chars
        self._chars = 0
        self._lock = threading.Lock()
        _registry.append(self)

    @staticmethod
    def _weight(value) -> int:
        if isinstance(value, str):
            return len(value)
        if isinstance(value, tuple):
            return sum(VersionedCache._weight(v) for v in value)
        return 0

    def get(self, key):
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._chars -= self._weight(old)
            self._items[key] = value
            self._chars += self._weight(value)
            while self._items and (len(self._items) > self._size
                                   or (self._max_chars is not None and self._chars > self._max_chars)):
                _key, dropped = self._items.popitem(last=False)
                self._chars -= self._weight(dropped)

    def discard(self, key) -> None:
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._chars -= self._weight(old)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._chars = 0

    def __len__(self) -> int:
        return len(self._items)


def clear_all() -> None:
    """Empty every cache (tests roll back, and rolled-back ids come again with other data)."""
    for cache in _registry:
        cache.clear()


def request_key() -> tuple:
    """What every cached page part depends on besides its data: the browser session (forms carry its CSRF
    token), the language and the time zone (the selectors' strings: a cache hit never parses them)."""
    return session.get("sid"), session.get("csrf_token"), select_locale(), select_timezone()


def page_key(*parts) -> tuple | None:
    """The key of a whole page: the request's (``request_key``), the layout's (``layout_key``: the person's
    name, menu and display settings, the address) and the page's own ``parts`` — the versions of its data.
    None when there are messages to show: such a page is rendered afresh (and they are shown once)."""
    if session.get("_flashes"):
        return None
    return (*request_key(), layout_key(), *parts)


def cached(cache: VersionedCache, key: tuple | None, render: Callable[[], Any]) -> Any:
    """``render()``'s value, kept under ``key`` (None: never cached)."""
    if key is None:
        return render()
    value = cache.get(key)
    if value is None:
        value = render()
        cache.put(key, value)
    return value


def cached_until(cache: VersionedCache, key: tuple | None,
                 render: Callable[[], tuple[Any, datetime | None]]) -> Any:
    """Like ``cached``, for a value that is right only until a moment: ``render()`` returns the value and
    that moment (None: as long as the key holds)."""
    if key is None:
        return render()[0]
    entry = cache.get(key)
    if entry is not None and (entry[1] is None or utcnow() < entry[1]):
        return entry[0]
    value, until = render()
    cache.put(key, (value, until))
    return value
