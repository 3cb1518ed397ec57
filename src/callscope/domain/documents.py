"""Typed decoders for Graph-shaped documents, generated from the EDM model.

Every structured type of the namespace becomes a msgspec Struct whose field names are the Graph
property names. Decoding a document through them checks every property's type, enum member,
nullability and timestamp/duration syntax in C, and names the JSON path of the first fault.
Values of polymorphic types must carry `@odata.type` (as Graph always writes them).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from callscope.domain.edm import EdmModel, Property

# RFC 3339 / ISO 8601 timestamps with an offset, as Edm.DateTimeOffset allows them, and only real
# moments: ASCII digits (`\d` would let other scripts' digits through), months 01-12, each month's own
# number of days (29 February in leap years only), hours 00-23, minutes and seconds 00-59, offsets
# under 24 hours, no year 0. What it matches, Python's datetime reads (tests/domain/test_documents.py).
_YEAR = r"(?!0000)[0-9]{4}"
_LEAP_YEAR = r"(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
_DATE = (
    rf"(?:{_YEAR}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    rf"|02-(?:0[1-9]|1[0-9]|2[0-8]))|{_LEAP_YEAR}-02-29)"
)
_TIME = r"(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,7})?)?"
_OFFSET = r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
DATE_TIME_PATTERN = rf"^{_DATE}T{_TIME}{_OFFSET}\Z"  # \Z: `$` would allow a final line break
# ISO 8601 durations (xs:dayTimeDuration, which is what Edm.Duration is), in ASCII digits.
DURATION_PATTERN = r"^-?P(?=[0-9]|T[0-9])([0-9]+D)?(T(?=[0-9])([0-9]+H)?([0-9]+M)?([0-9]+(\.[0-9]+)?S)?)?\Z"

_INT32 = Annotated[int, Meta(ge=-(2**31), le=2**31 - 1)]
_INT64 = Annotated[int, Meta(ge=-(2**63), le=2**63 - 1)]  # a record's version is stored in a 64-bit column
_PRIMITIVES: dict[str, Any] = {
    "Edm.String": str,
    "Edm.Boolean": bool,
    "Edm.Int32": _INT32,
    "Edm.Int64": _INT64,
    "Edm.Single": float,
    "Edm.Double": float,
    "Edm.Decimal": float,
    "Edm.DateTimeOffset": Annotated[str, Meta(pattern=DATE_TIME_PATTERN)],
    "Edm.Duration": Annotated[str, Meta(pattern=DURATION_PATTERN)],
}
# Control information a Graph response carries that a stored document must not keep.
_ANNOTATIONS = ("@odata.context", "@odata.id", "@odata.etag", "@odata.editLink")
_NAV_ANNOTATIONS = ("@odata.context", "@odata.nextLink", "@odata.count", "@odata.navigationLink")


def odata_type(type_name: str) -> str:
    """The `@odata.type` value Graph writes for a type."""
    return f"#{type_name}"


class DocumentTypes:
    """The msgspec types of one EDM model, built once and reused."""

    def __init__(self, model: EdmModel) -> None:
        self.model = model
        self._structs: dict[str, Any] = {}
        self.annotation_fields: dict[str, tuple[str, ...]] = {}
        self._open_paths: dict[str, tuple[Property, ...]] = {}
        for name in model.types:
            self.struct(name)
        # What fill_open_types visits: per Struct class, and per `@odata.type` a plain object may declare.
        self._plans = {self._structs[name]: self._plan(name) for name in model.types}
        self._object_plans = {odata_type(name): self._plan(name) for name in model.types}

    def fill_open_types(self, value: Any, type_name: str) -> None:
        """Give values of open types (kept as plain objects) the `@odata.type` Graph always writes.

        Only properties from which an open type can be reached are visited, so media and streams
        (most of a record) are skipped; the plans, per Struct class and per `@odata.type`, are computed once.
        """
        kind = type(value)
        if kind is list:
            for item in value:
                self.fill_open_types(item, type_name)
        elif kind is dict:
            tag = odata_type(type_name)
            declared = value.setdefault("@odata.type", tag)
            plan = self._object_plans.get(declared) if type(declared) is str else None
            if plan is None:  # an @odata.type outside the model: the property's own type tells what to visit
                plan = self._object_plans[tag]
            for name, child_type in plan:
                item = value.get(name)
                if item is not None:
                    self.fill_open_types(item, child_type)
        else:
            for name, child_type in self._plans.get(kind, ()):
                item = getattr(value, name)
                if item is not None and item is not UNSET:
                    self.fill_open_types(item, child_type)

    def _plan(self, type_name: str) -> tuple[tuple[str, str], ...]:
        return tuple((p.name, p.type_name) for p in self.open_paths(type_name))

    def open_paths(self, type_name: str) -> tuple[Property, ...]:
        """Properties of a type through which a value of an open type can be reached."""
        if type_name not in self._open_paths:
            self._open_paths[type_name] = tuple(
                p for p in self.model.properties(type_name).values() if self._reaches_open(p.type_name, set())
            )
        return self._open_paths[type_name]

    def _reaches_open(self, type_name: str, seen: set[str]) -> bool:
        if type_name not in self.model.types or type_name in seen:
            return False
        seen.add(type_name)
        for candidate in self.model.derived(type_name):
            if self.model.types[candidate].open:
                return True
            if any(self._reaches_open(p.type_name, seen) for p in self.model.properties(candidate).values()):
                return True
        return False

    def struct(self, type_name: str) -> Any:
        """The Struct class for exactly this type (not its subtypes)."""
        if type_name not in self._structs:
            self._structs[type_name] = self._build(type_name)
        return self._structs[type_name]

    def value_type(self, type_name: str) -> Any:
        """What a property declared with this type accepts, subtypes included."""
        if type_name in _PRIMITIVES:
            return _PRIMITIVES[type_name]
        if type_name in self.model.enums:
            return Literal[self.model.enums[type_name].members]
        type_ = self.model.types[type_name]
        if type_.open:
            return dict[str, Any]
        concrete = [t for t in self.model.derived(type_name) if not self.model.types[t].abstract]
        if len(concrete) == 1 and not self.model.is_polymorphic(type_name):
            return self.struct(concrete[0])
        return _union([self.struct(t) for t in concrete])

    def _build(self, type_name: str) -> Any:
        self._structs[type_name] = Any  # breaks cycles while the fields are built
        fields: list[tuple[str, Any, Any] | tuple[str, Any]] = []
        properties = self.model.properties(type_name)
        is_entity = self.model.types[type_name].kind == "entity"
        for prop in properties.values():
            fields.append(self._field(prop, required=is_entity and not prop.nullable))
        annotations = _annotation_names(properties.values()) if is_entity else ()
        rename = {f"annotation_{i}": name for i, name in enumerate(annotations)}
        fields.extend((attr, Any, UNSET) for attr in rename)
        self.annotation_fields[type_name] = tuple(rename)
        fields.sort(key=lambda f: len(f) == 3)  # required fields first, as msgspec wants
        return msgspec.defstruct(
            type_name.rsplit(".", 1)[1],
            fields,
            rename=rename or None,
            tag_field="@odata.type",
            tag=odata_type(type_name),
            forbid_unknown_fields=True,
            omit_defaults=True,
        )

    def _field(self, prop: Property, *, required: bool) -> tuple[str, Any, Any] | tuple[str, Any]:
        value: Any = self.value_type(prop.type_name)
        if prop.collection:
            value = list[value]
        if required:
            return (prop.name, value)
        if prop.nullable:
            value = value | None
        return (prop.name, value | UnsetType, UNSET)


def _union(members: list[Any]) -> Any:
    result = members[0]
    for member in members[1:]:
        result = result | member
    return result


def _annotation_names(properties: Any) -> tuple[str, ...]:
    navigations = [p.name for p in properties if p.navigation]
    return _ANNOTATIONS + tuple(f"{n}{a}" for n in navigations for a in _NAV_ANNOTATIONS)


def strip_annotations(value: Any, types: DocumentTypes) -> None:
    """Drop response-only control information (`@odata.context`, nextLinks ...) in place."""
    if isinstance(value, list):
        for item in value:
            strip_annotations(item, types)
        return
    if not isinstance(value, msgspec.Struct):
        return
    type_name = type(value).__struct_config__.tag[1:]  # type: ignore[index]
    for name in types.annotation_fields.get(type_name, ()):
        setattr(value, name, UNSET)
    for prop in types.model.properties(type_name).values():
        if prop.navigation:
            strip_annotations(getattr(value, prop.name), types)
