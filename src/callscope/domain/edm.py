"""The entity data model of the call-records namespace, read from its CSDL (OData V4 CSDL XML)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property

from lxml import etree

EDM_NS = "{http://docs.oasis-open.org/odata/ns/edm}"
CALL_RECORDS = "microsoft.graph.callRecords"
UNKNOWN_FUTURE_VALUE = "unknownFutureValue"

# Hardened: CSDL never needs DTDs, entities or the network.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


@dataclass(frozen=True)
class Property:
    """One structural or navigation property of a type."""

    name: str
    type_name: str
    collection: bool
    nullable: bool
    navigation: bool = False


@dataclass(frozen=True)
class StructuredType:
    """An entity or complex type with only the properties it declares itself."""

    name: str
    kind: str  # "entity" or "complex"
    base: str | None
    abstract: bool
    open: bool
    own_properties: tuple[Property, ...]


@dataclass(frozen=True)
class EnumType:
    """An enumeration; members keep their declared order (it decides evolvability)."""

    name: str
    members: tuple[str, ...]

    @property
    def future_members(self) -> frozenset[str]:
        """Members declared after `unknownFutureValue`: hidden unless the client opts in."""
        if UNKNOWN_FUTURE_VALUE not in self.members:
            return frozenset()
        return frozenset(self.members[self.members.index(UNKNOWN_FUTURE_VALUE) + 1 :])


@dataclass(frozen=True)
class Function:
    """A bound function on the callRecords collection."""

    name: str
    return_type: str


@dataclass
class EdmModel:
    """All types of one API version, keyed by qualified name."""

    types: dict[str, StructuredType]
    enums: dict[str, EnumType]
    functions: dict[str, Function]
    auto_expand: frozenset[tuple[str, str]] = field(default_factory=frozenset)

    def properties(self, type_name: str) -> dict[str, Property]:
        """Every property of a type, inherited ones first, by name."""
        return self._all_properties[type_name]

    def derived(self, type_name: str) -> list[str]:
        """The type and every type deriving from it, the type itself first."""
        return [type_name, *self._subtypes.get(type_name, [])]

    def is_polymorphic(self, type_name: str) -> bool:
        """Whether values of this declared type may be of another, derived type."""
        return bool(self._subtypes.get(type_name))

    def future_members(self, enum_name: str) -> frozenset[str]:
        """Evolvable members past the sentinel for an enum, empty for other types."""
        enum = self.enums.get(enum_name)
        return enum.future_members if enum else frozenset()

    @cached_property
    def _all_properties(self) -> dict[str, dict[str, Property]]:
        return {name: {p.name: p for p in self._chain(name)} for name in self.types}

    @cached_property
    def _subtypes(self) -> dict[str, list[str]]:
        subtypes: dict[str, list[str]] = {}
        for type_ in self.types.values():
            base = type_.base
            while base is not None:
                subtypes.setdefault(base, []).append(type_.name)
                base = self.types[base].base
        return subtypes

    def _chain(self, type_name: str) -> Iterator[Property]:
        type_ = self.types[type_name]
        if type_.base is not None:
            yield from self._chain(type_.base)
        yield from type_.own_properties


def parse_csdl(xml: bytes) -> EdmModel:
    """Read the types, enums, functions and auto-expanded navigations from a CSDL document."""
    root = etree.fromstring(xml, parser=_PARSER)
    types: dict[str, StructuredType] = {}
    enums: dict[str, EnumType] = {}
    functions: dict[str, Function] = {}
    auto_expand: set[tuple[str, str]] = set()
    for schema in root.iter(f"{EDM_NS}Schema"):
        aliases = _aliases(root)
        namespace = schema.get("Namespace")
        for element in schema.iterchildren(tag=etree.Element):
            tag = etree.QName(element).localname
            name = f"{namespace}.{element.get('Name')}"
            if tag in ("EntityType", "ComplexType"):
                types[name] = _structured_type(element, name, tag, aliases)
            elif tag == "EnumType":
                members = tuple(m.get("Name") for m in element.iter(f"{EDM_NS}Member"))
                enums[name] = EnumType(name, members)
            elif tag == "Function":
                returns = element.find(f"{EDM_NS}ReturnType")
                assert returns is not None
                functions[element.get("Name")] = Function(
                    f"{namespace}.{element.get('Name')}", _resolve(returns.get("Type"), aliases)
                )
            elif tag == "Annotations":
                auto_expand.update(_auto_expanded(element, aliases))
    return EdmModel(types, enums, functions, frozenset(auto_expand))


def _aliases(root: etree._Element) -> dict[str, str]:
    return {s.get("Alias"): s.get("Namespace") for s in root.iter(f"{EDM_NS}Schema") if s.get("Alias")}


def _resolve(type_ref: str, aliases: dict[str, str]) -> str:
    prefix, _, rest = type_ref.partition(".")
    return f"{aliases[prefix]}.{rest}" if prefix in aliases else type_ref


def _structured_type(element: etree._Element, name: str, tag: str, aliases: dict[str, str]) -> StructuredType:
    properties = []
    for child in element.iterchildren(tag=etree.Element):
        child_tag = etree.QName(child).localname
        if child_tag not in ("Property", "NavigationProperty"):
            continue
        raw = child.get("Type")
        collection = raw.startswith("Collection(")
        inner = raw[len("Collection(") : -1] if collection else raw
        properties.append(
            Property(
                name=child.get("Name"),
                type_name=_resolve(inner, aliases),
                collection=collection,
                nullable=child.get("Nullable", "true") != "false",
                navigation=child_tag == "NavigationProperty",
            )
        )
    base = element.get("BaseType")
    return StructuredType(
        name=name,
        kind="entity" if tag == "EntityType" else "complex",
        base=_resolve(base, aliases) if base else None,
        abstract=element.get("Abstract") == "true",
        open=element.get("OpenType") == "true",
        own_properties=tuple(properties),
    )


def _auto_expanded(element: etree._Element, aliases: dict[str, str]) -> Iterator[tuple[str, str]]:
    target = element.get("Target", "")
    for annotation in element.iter(f"{EDM_NS}Annotation"):
        if annotation.get("Term") == "Org.OData.Core.V1.AutoExpand" and annotation.get("Bool") == "true":
            type_name, _, prop = target.rpartition("/")
            yield _resolve(type_name, aliases), prop
