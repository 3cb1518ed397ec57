"""Graph-shaped test documents: one record with many sessions, unicode, every endpoint kind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from callscope.domain.timestamps import format_graph
from callscope.services.demo import DemoData

NS = "#microsoft.graph.callRecords"


def demo_records(count: int, seed: int = 7, tenant: str = "t") -> list[dict[str, Any]]:
    """`count` realistic records and their log rows."""
    return list(DemoData(seed, datetime(2026, 11, 20, tzinfo=UTC), tenant).documents(count))


def big_record(sessions: int, record_id: str = "big-record") -> dict[str, Any]:
    """A group call with `sessions` sessions, each with two segments, names in several scripts."""
    data = DemoData(3, datetime(2026, 11, 20, tzinfo=UTC), "t")
    record = data.call_record()
    template = record["sessions"][0]
    start = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    record.update(
        id=record_id,
        type="groupCall",
        startDateTime=format_graph(start),
        endDateTime=format_graph(start + timedelta(hours=2)),
    )
    record["sessions"] = [_session(template, i, start) for i in range(sessions)]
    return record


def _session(template: dict[str, Any], index: int, start: datetime) -> dict[str, Any]:
    session = msgspec.json.decode(msgspec.json.encode(template))
    session["id"] = f"session-{index:04d}"
    session["caller"]["name"] = f"Gerät №{index} — 会議室 ✓"
    segment = session["segments"][0]
    second = {**segment, "id": f"segment-{index:04d}-b"}
    segment["id"] = f"segment-{index:04d}-a"
    session["segments"] = [segment, second]
    session["startDateTime"] = format_graph(start + timedelta(seconds=index))
    return session


def jsonl(documents: list[dict[str, Any]]) -> bytes:
    """Documents as JSON Lines."""
    return b"".join(msgspec.json.encode(d) + b"\n" for d in documents)
