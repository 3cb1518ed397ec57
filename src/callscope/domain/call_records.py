"""Call records as callscope keeps them: a validated Graph document plus the keys it is found by."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from callscope.domain.timestamps import to_microseconds

SESSIONS_PAGE_MAX = 60  # Graph's ceiling for one page of sessions


@dataclass(frozen=True)
class StoredRecord:
    """One version of a call record, ready to be written."""

    id: str
    version: int
    start_us: int
    end_us: int
    participant_ids: frozenset[str]
    document: bytes  # the document in the store's packed form


@dataclass(frozen=True)
class WritePlan:
    """What a batch does to the store: which records to write, and how many it skips."""

    writes: tuple[StoredRecord, ...]
    replaced: frozenset[str]
    ignored: int


def stored_record(record: Any, document: bytes) -> StoredRecord:
    """The index keys of a decoded callRecord (a Struct with Graph property names)."""
    participants = getattr(record, "participants_v2", None) or []
    return StoredRecord(
        id=record.id,
        version=record.version,
        start_us=to_microseconds(record.startDateTime),
        end_us=to_microseconds(record.endDateTime),
        participant_ids=frozenset(p.id for p in participants),
        document=document,
    )


def assembled_record(document: Mapping[str, Any], packed: bytes) -> StoredRecord:
    """The index keys of a callRecord callscope assembled itself (a plain document, valid as built)."""
    return StoredRecord(
        id=document["id"],
        version=document["version"],
        start_us=to_microseconds(document["startDateTime"]),
        end_us=to_microseconds(document["endDateTime"]),
        participant_ids=participant_ids(document),
        document=packed,
    )


def participant_ids(document: Mapping[str, Any]) -> frozenset[str]:
    """The ids of a plain callRecord document's `participants_v2`: what its participant links hold."""
    return frozenset(p["id"] for p in document.get("participants_v2") or ())


def plan_writes(incoming: Iterable[StoredRecord], existing: Mapping[str, int]) -> WritePlan:
    """Keep, per id, only a version higher than both the stored one and earlier lines'."""
    best: dict[str, StoredRecord] = {}
    ignored = 0
    for record in incoming:
        current = best.get(record.id)
        floor = current.version if current else existing.get(record.id)
        if floor is not None and record.version <= floor:
            ignored += 1
            continue
        if current is not None:
            ignored += 1
        best[record.id] = record
    replaced = frozenset(i for i in best if i in existing)
    return WritePlan(tuple(best.values()), replaced, ignored)


def find_by_id(items: list[dict[str, Any]] | None, item_id: str) -> dict[str, Any] | None:
    """The element of a contained collection with this id, or None."""
    return next((item for item in items or [] if item.get("id") == item_id), None)
