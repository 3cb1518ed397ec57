"""A bounded, least-recently-used cache of rendered Graph responses about one record.

Entries are keyed by everything a response depends on: tenant, record id, the record's stored
`version`, and the request's API version, path, query, preferences and base URL. A new version of
the record therefore never meets an old entry; the caller checks the stored version first.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable


class ResponseCache:
    """Rendered bodies by key, evicting the least recently used past `max_bytes`."""

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, bytes] = OrderedDict()
        self._size = 0

    def get(self, key: Hashable) -> bytes | None:
        """The cached body, marked as recently used, or None."""
        body = self._entries.get(key)
        if body is not None:
            self._entries.move_to_end(key)
        return body

    def put(self, key: Hashable, body: bytes) -> None:
        """Remember a body unless it alone is larger than the cache."""
        if len(body) > self._max_bytes // 4 or key in self._entries:
            return
        self._entries[key] = body
        self._size += len(body)
        while self._size > self._max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self._size -= len(evicted)
