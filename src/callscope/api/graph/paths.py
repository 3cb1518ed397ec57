"""Resource paths under `/communications/callRecords`, parsed into what they address.

Segment names are matched without regard to case, keys may be written as segments
(`callRecords/{id}`) or in parentheses (`callRecords('{id}')`), and bound functions may be
namespace-qualified or short. Function parameters are accepted with or without the comma
between them, because Microsoft's Python SDK drops it (see graph-callrecords.md, section 4.1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from callscope.domain.log_rows import MAX_RANGE_DAYS
from callscope.domain.timestamps import to_microseconds
from callscope.errors import InvalidRequest, NotFound, RangeTooLarge

NAMESPACE = "microsoft.graph.callrecords."
# Matched whole (`fullmatch`): `$` would also match before a final newline, and let `sessions('s1')%0A` name s1.
_KEY_IN_PARENS = re.compile(r"([A-Za-z_0-9]+)\('((?:[^']|'')*)'\)")
_FUNCTION = re.compile(r"([A-Za-z.]+)\((.*)\)", re.DOTALL)
_PARAMETERS = re.compile(
    r"^\s*(?P<k1>fromDateTime|toDateTime)\s*=\s*(?P<v1>.+?)\s*,?\s*"
    r"(?P<k2>fromDateTime|toDateTime)\s*=\s*(?P<v2>.+?)\s*$",
    re.IGNORECASE | re.DOTALL,
)


@dataclass(frozen=True)
class Target:
    """What a path addresses: a kind and the keys along the way."""

    kind: str  # records, record, sessions, session, segments, segment, participants, participant, organizer, function
    record_id: str | None = None
    session_id: str | None = None
    item_id: str | None = None
    count: bool = False
    function: str | None = None
    between: tuple[int, int] | None = None


_CHILD_KINDS = {
    ("record", "sessions"): "sessions",
    ("record", "participants_v2"): "participants",
    ("record", "organizer_v2"): "organizer",
    ("session", "segments"): "segments",
}
_ITEM_KINDS = {"sessions": "session", "segments": "segment", "participants": "participant"}


def parse_target(rest: str, functions: frozenset[str]) -> Target:
    """The target of the path after `callRecords` (`rest` starts with `/` or is empty)."""
    segments = _segments(rest)
    if not segments:
        return Target("records")
    first = segments[0]
    if first == "$count" and len(segments) == 1:
        return Target("records", count=True)
    function = _FUNCTION.fullmatch(first)
    name = _function_name(function.group(1), functions) if function else None
    if function and (name or "=" in function.group(2)):  # a function call, not a key
        if name is None or len(segments) > 1:
            raise NotFound(f"Resource not found for the segment '{function.group(1)}'.")
        return Target("function", function=name, between=parse_range(function.group(2)))
    return _walk(Target("record", record_id=first), segments[1:], rest)


def _walk(target: Target, segments: list[str], path: str) -> Target:
    for segment in segments:
        if segment == "$count" and target.kind in _ITEM_KINDS and not target.count:
            target = replace(target, count=True)
            continue
        if target.count:
            raise _unknown(path)
        child = _CHILD_KINDS.get((target.kind, segment.lower()))
        if child is not None:
            target = replace(target, kind=child)
        elif target.kind in _ITEM_KINDS:
            target = _item(target, segment)
        else:
            raise _unknown(path)
    return target


def _item(target: Target, key: str) -> Target:
    kind = _ITEM_KINDS[target.kind]
    if kind == "session":
        return replace(target, kind=kind, session_id=key)
    return replace(target, kind=kind, item_id=key)


def _segments(rest: str) -> list[str]:
    parts: list[str] = []
    for raw in rest.strip("/").split("/"):
        if not raw:
            continue
        keyed = _KEY_IN_PARENS.fullmatch(raw)
        if keyed and keyed.group(1).lower() in ("callrecords", "sessions", "segments", "participants_v2"):
            parts.extend([keyed.group(1), keyed.group(2).replace("''", "'")])
        elif parts == [] and raw.startswith("('") and raw.endswith("')"):
            parts.append(raw[2:-2].replace("''", "'"))
        else:
            parts.append(raw)
    return parts


def _function_name(written: str, functions: frozenset[str]) -> str | None:
    lowered = written.lower()
    short = lowered[len(NAMESPACE) :] if lowered.startswith(NAMESPACE) else lowered
    return next((f for f in functions if f.lower() == short), None)


def _unknown(path: str) -> NotFound:
    return NotFound(f"Resource not found for the segment in '{path}'.")


def parse_range(text: str) -> tuple[int, int]:
    """`fromDateTime` and `toDateTime` (inclusive) in microseconds, at most 90 days apart."""
    match = _PARAMETERS.match(text)
    if not match or match.group("k1").lower() == match.group("k2").lower():
        raise InvalidRequest(
            f"Expected fromDateTime=...,toDateTime=... in the function parameters, got '{text}'.",
            target="fromDateTime",
        )
    values = {
        match.group("k1").lower(): _parameter_time(match.group("v1")),
        match.group("k2").lower(): _parameter_time(match.group("v2")),
    }
    start, end = values["fromdatetime"], values["todatetime"]
    if end < start:
        raise InvalidRequest("toDateTime must not be earlier than fromDateTime.", target="toDateTime")
    if end - start > timedelta(days=MAX_RANGE_DAYS):
        raise RangeTooLarge(
            f"The range from fromDateTime to toDateTime is longer than {MAX_RANGE_DAYS} days.",
            target="toDateTime",
        )
    return to_microseconds(start), to_microseconds(end)


def _parameter_time(raw: str) -> datetime:
    value = raw.strip().strip("'")
    try:
        moment = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError as exc:
        raise InvalidRequest(f"'{raw}' is not a date or a timestamp (ISO 8601).", target="fromDateTime") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
