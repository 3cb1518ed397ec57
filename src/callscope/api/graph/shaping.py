"""Turning stored documents into what one Graph request asked for: projection, versions, enums."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

from callscope.domain.edm import UNKNOWN_FUTURE_VALUE, EdmModel

_decode = msgspec.json.Decoder().decode


class Shaper:
    """Knows one API version's types; shapes documents for it."""

    def __init__(self, model: EdmModel) -> None:
        self.model = model
        self._future = {
            (type_name, prop.name): model.future_members(prop.type_name)
            for type_name in model.types
            for prop in model.properties(type_name).values()
            if model.future_members(prop.type_name)
        }
        self._future_markers = tuple(f'"{member}"'.encode() for members in self._future.values() for member in members)

    def load(self, raw: bytes, *, include_unknown: bool) -> Any:
        """Decode a stored document, hiding evolvable enum members the client did not opt into."""
        value = _decode(raw)
        if not include_unknown and any(m in raw for m in self._future_markers):
            self._mask(value)
        return value

    def _mask(self, value: Any) -> None:
        if isinstance(value, list):
            for item in value:
                self._mask(item)
            return
        if not isinstance(value, dict):
            return
        type_name = str(value.get("@odata.type", ""))[1:]
        for key, item in value.items():
            hidden = self._future.get((type_name, key))
            if hidden and isinstance(item, str) and item in hidden:
                value[key] = UNKNOWN_FUTURE_VALUE
            elif hidden and isinstance(item, list):
                value[key] = [UNKNOWN_FUTURE_VALUE if v in hidden else v for v in item]
            elif isinstance(item, dict | list):
                self._mask(item)

    def restrict(self, row: dict[str, Any], type_name: str) -> dict[str, Any]:
        """Only the properties this version's type declares (beta adds log-row fields)."""
        known = self.model.properties(type_name)
        return {k: v for k, v in row.items() if k in known or k.startswith("@odata.")}

    def navigations(self, type_name: str) -> frozenset[str]:
        """Names of a type's navigation properties."""
        return frozenset(p.name for p in self.model.properties(type_name).values() if p.navigation)


def project(item: dict[str, Any], select: Iterable[str], navigations: frozenset[str]) -> dict[str, Any]:
    """The item's structural properties (all, or those selected), without navigations."""
    chosen = tuple(select)
    if chosen:
        result: dict[str, Any] = {k: item[k] for k in ("@odata.type", "id") if k in item}
        result.update({k: item[k] for k in chosen if k in item and k not in navigations})
        return result
    return {k: v for k, v in item.items() if k not in navigations}
