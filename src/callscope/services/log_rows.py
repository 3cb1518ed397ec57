"""Reading log rows for the bound functions (getPstnCalls and friends)."""

from __future__ import annotations

from typing import Any

import msgspec

from callscope.domain.log_rows import dialout_report
from callscope.storage import log_rows as store
from callscope.storage.database import Database


class LogRows:
    """Read use cases over the log-rows store."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._decode = msgspec.json.Decoder().decode

    def list_page(
        self,
        tenant_id: str,
        kind: str,
        between: tuple[int, int],
        after: tuple[int, str] | None,
        limit: int,
    ) -> list[tuple[int, str, bytes]]:
        """Up to `limit` rows of a kind in time order as (start_us, key, JSON document)."""
        with self._database.connect() as conn:
            return store.list_documents(conn, tenant_id, kind, between, after, limit)

    def dialout_report(self, tenant_id: str, between: tuple[int, int]) -> list[dict[str, Any]]:
        """The meeting dial-out report over PSTN rows in the range."""
        with self._database.connect() as conn:
            rows = store.list_documents(conn, tenant_id, "pstnCalls", between, None, None)
        return dialout_report(self._decode(doc) for _, _, doc in rows)
