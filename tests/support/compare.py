"""Compare what a Graph SDK deserialized with the document that was imported."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import msgspec
from kiota_serialization_json.json_serialization_writer import JsonSerializationWriter

_DURATION = re.compile(r"^-?P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")
_CLOCK = re.compile(r"^(?:(-?\d+) days?, )?(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$")  # str(timedelta)
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def sdk_json(model: Any) -> Any:
    """What the SDK holds, written back to JSON by the SDK's own serializer."""
    writer = JsonSerializationWriter()
    writer.write_object_value(None, model)
    return msgspec.json.decode(writer.get_serialized_content())


def assert_same(source: Any, received: Any, path: str = "$") -> None:
    """Every non-null value of `source` is in `received` with the same meaning."""
    if isinstance(source, dict):
        assert isinstance(received, dict), f"{path}: expected an object, got {received!r}"
        for key, value in source.items():
            if value is None or key.startswith("@odata.") or "@odata." in key:
                continue
            assert key in received, f"{path}.{key} is missing from what the SDK read"
            assert_same(value, received[key], f"{path}.{key}")
    elif isinstance(source, list):
        assert isinstance(received, list) and len(received) == len(source), f"{path}: lengths differ"
        for index, (a, b) in enumerate(zip(source, received, strict=True)):
            assert_same(a, b, f"{path}[{index}]")
    else:
        assert _normal(source) == _normal(received), f"{path}: {source!r} != {received!r}"


def _normal(value: Any) -> Any:
    if isinstance(value, str) and _DURATION.match(value) and value not in ("P", "-P"):
        return _duration(value)
    clock = _CLOCK.match(value) if isinstance(value, str) else None
    if clock:
        days, hours, minutes, seconds = (float(g) if g else 0.0 for g in clock.groups())
        return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    if isinstance(value, str) and _DATETIME.match(value):
        moment = datetime.fromisoformat(value)
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return round(float(value), 6)
    return value


def _duration(text: str) -> timedelta:
    match = _DURATION.match(text)
    assert match is not None
    days, hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
