"""An ASGI layer that answers repeated GETs about one call record from memory.

Reading a record is the hot path (dashboards and SDK clients re-read the same records). A GET whose
answer depends only on one record and on the request leaves a validator behind (tenant, record id,
the stored `version` it was built from); the bytes sent are kept under the request's identity
(path, query, token, `Prefer`, host). A repeated request is answered from memory once two checks
pass: the token has not expired, and the stored version of the record is still the one the answer
was built from. The second check reads the store only when records may have changed since the
entry was last checked (`RecordChanges`): at once after this process writes a record, within
50 ms after another process does (SQLite), on every request where no watcher can tell
(PostgreSQL). Only 200 answers are kept; the memory is bounded and least-recently-used entries go
first.
"""

from __future__ import annotations

import random
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from callscope.services.call_records import CallRecords
from callscope.services.offload import Offload

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

HINT = "callscope.cache_hint"
GRAPH_PATHS = ("/v1.0/", "/beta/")  # only the Graph dialect answers about one record
_KEY_HEADERS = (b"authorization", b"prefer", b"host")
_PER_REQUEST = (b"request-id", b"client-request-id", b"content-length")


@dataclass
class CacheHint:
    """Filled in while a request is handled: what its answer was built from, until when it may be reused."""

    validator: tuple[str, str, int] | None = None
    token_expires: float = 0.0


@dataclass
class _Entry:
    validator: tuple[str, str, int]
    token_expires: float
    headers: list[tuple[bytes, bytes]]
    body: bytes
    checked: int  # the RecordChanges mark when the validator was last known to match the store


class RecordResponseCache:
    """The middleware; wraps the whole application."""

    def __init__(self, app: ASGIApp, records: CallRecords, offload: Offload, max_bytes: int) -> None:
        self._app = app
        self._records = records
        self._offload = offload
        self._max_bytes = max_bytes
        self._entries: OrderedDict[tuple[bytes, ...], _Entry] = OrderedDict()
        self._size = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not scope["path"].startswith(GRAPH_PATHS):
            await self._app(scope, receive, send)
            return
        key = _key(scope)
        entry = self._entries.get(key)
        if entry is not None and await self._still_valid(entry):
            self._entries.move_to_end(key)
            await _replay(entry, scope, send)
            return
        await self._fill(key, scope, receive, send)

    async def _still_valid(self, entry: _Entry) -> bool:
        if entry.token_expires <= time.time():
            return False
        changes = self._records.changes
        mark = changes.mark  # read before the store: a write committed after this read moves the mark again
        if changes.watched and entry.checked == mark:
            return True
        tenant_id, record_id, version = entry.validator
        if await self._offload(self._records.find_version, tenant_id, record_id) != version:
            return False
        entry.checked = mark
        return True

    async def _fill(self, key: tuple[bytes, ...], scope: Scope, receive: Receive, send: Send) -> None:
        mark = self._records.changes.mark  # before the answer reads the record
        hint = CacheHint()
        scope[HINT] = hint
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        await self._app(scope, receive, capture)
        if hint.validator is not None and start.get("status") == 200:
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() not in _PER_REQUEST]
            self._put(key, _Entry(hint.validator, hint.token_expires, headers, b"".join(chunks), mark))

    def _put(self, key: tuple[bytes, ...], entry: _Entry) -> None:
        if len(entry.body) > self._max_bytes // 4:
            return
        previous = self._entries.pop(key, None)
        if previous is not None:
            self._size -= len(previous.body)
        self._entries[key] = entry
        self._size += len(entry.body)
        while self._size > self._max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self._size -= len(evicted.body)


def _key(scope: Scope) -> tuple[bytes, ...]:
    headers = dict(scope["headers"])
    return (scope["raw_path"], scope["query_string"], *(headers.get(name, b"") for name in _KEY_HEADERS))


async def _replay(entry: _Entry, scope: Scope, send: Send) -> None:
    request_id = str(uuid.UUID(int=random.getrandbits(128), version=4)).encode()
    headers = [*entry.headers, (b"content-length", str(len(entry.body)).encode()), (b"request-id", request_id)]
    client_request_id = dict(scope["headers"]).get(b"client-request-id")
    if client_request_id:
        headers.append((b"client-request-id", client_request_id))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": entry.body})
