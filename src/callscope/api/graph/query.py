"""OData system query options as Graph's call-records endpoints accept them.

`$filter` is parsed by odata-query's grammar; `$select` and `$expand` follow OData 4.0 part 2
(section 5.1.2 and 5.1.3), restricted to the nested `$select` and `$expand` Graph documents here.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec
from odata_query import ast
from odata_query.exceptions import ODataException
from odata_query.grammar import ODataLexer, ODataParser

from callscope.domain.integers import non_negative
from callscope.domain.timestamps import to_microseconds
from callscope.errors import InvalidRequest
from callscope.services.call_records import RecordQuery

KNOWN_OPTIONS = frozenset(
    {
        "$select",
        "$expand",
        "$filter",
        "$top",
        "$skip",
        "$skiptoken",
        "$count",
        "$orderby",
        "$search",
        "$format",
        "$apply",
        "$compute",
        "$levels",
        "$index",
        "$schemaversion",
    }
)
MAX_TOP = 1_000_000
MAX_EXPAND_LEVELS = 4  # sessions($expand=segments) is the deepest that means anything here; this bounds the parser
_LEXER = ODataLexer()
_PARSER = ODataParser()


@dataclass(frozen=True)
class Expansion:
    """One `$expand` item with its nested options."""

    name: str
    select: tuple[str, ...] = ()
    expand: tuple[Expansion, ...] = ()

    def nested(self, name: str) -> Expansion | None:
        """The nested expansion of a navigation, if asked for."""
        return next((e for e in self.expand if e.name == name), None)

    def to_text(self) -> str:
        """The item written back as `$expand` syntax (for nextLinks)."""
        options = []
        if self.select:
            options.append("$select=" + ",".join(self.select))
        if self.expand:
            options.append("$expand=" + ",".join(e.to_text() for e in self.expand))
        return self.name + (f"({';'.join(options)})" if options else "")


@dataclass(frozen=True)
class QueryOptions:
    """The system query options of one request, checked against what its endpoint supports."""

    raw: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_params(cls, params: Mapping[str, str], supported: frozenset[str]) -> QueryOptions:
        """Reject unknown or unsupported `$` options, naming them."""
        for name in params:
            if not name.startswith("$"):
                continue
            if name not in KNOWN_OPTIONS:
                raise InvalidRequest(f"Query option '{name}' is not a known OData option.", target=name)
            if name not in supported:
                raise InvalidRequest(f"Query option '{name}' is not supported on this resource.", target=name)
        return cls({k: v for k, v in params.items() if k.startswith("$")})

    def get(self, name: str) -> str | None:
        """The raw text of an option."""
        return self.raw.get(name)


def parse_top(text: str | None) -> int | None:
    """A non-negative `$top`, or None when absent."""
    if text is None:
        return None
    top = non_negative(text)
    if top is None or top > MAX_TOP:
        raise InvalidRequest(
            f"Invalid value '{text}' for $top: expected an integer from 0 to {MAX_TOP}.",
            target="$top",
        )
    return top


def parse_count(text: str | None) -> bool:
    """`$count=true|false`."""
    if text is None:
        return False
    if text.lower() not in ("true", "false"):
        raise InvalidRequest(f"Invalid value '{text}' for $count: expected true or false.", target="$count")
    return text.lower() == "true"


def parse_select(text: str | None, allowed: Mapping[str, Any], type_name: str) -> tuple[str, ...]:
    """Property names of `$select`; `*` or absence selects everything."""
    if text is None:
        return ()
    names = tuple(part.strip() for part in text.split(","))
    if "*" in names:
        return ()
    for name in names:
        if name not in allowed:
            raise InvalidRequest(
                f"Could not find a property named '{name}' on type '{type_name}' ($select).",
                target="$select",
            )
    return names


def parse_expand(text: str | None, level: int = 1) -> tuple[Expansion, ...]:
    """The items of `$expand`, syntax only (names are checked by the endpoint)."""
    if text is None:
        return ()
    if not text.strip():
        raise InvalidRequest("$expand must not be empty.", target="$expand")
    if level > MAX_EXPAND_LEVELS:
        raise InvalidRequest(f"$expand nests more than {MAX_EXPAND_LEVELS} levels.", target="$expand")
    return tuple(_expansion(item.strip(), level) for item in _split(text, ","))


def _expansion(item: str, level: int) -> Expansion:
    name, paren, rest = item.partition("(")
    name = name.strip()
    if not name or not _is_identifier(name) or (paren and not rest.endswith(")")):
        raise InvalidRequest(f"Malformed $expand item '{item}'.", target="$expand")
    if not paren:
        return Expansion(name)
    select: tuple[str, ...] = ()
    expand: tuple[Expansion, ...] = ()
    for option in _split(rest[:-1], ";"):
        key, equals, value = option.strip().partition("=")
        if key == "$select" and equals:
            select = tuple(p.strip() for p in value.split(","))
        elif key == "$expand" and equals:
            expand = parse_expand(value, level + 1)
        else:
            raise InvalidRequest(f"Unsupported option '{key}' inside $expand of '{name}'.", target="$expand")
    return Expansion(name, select, expand)


def _is_identifier(name: str) -> bool:
    return name == "*" or name.replace("_", "a").replace(".", "a").isalnum()


def _split(text: str, separator: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            raise InvalidRequest("Unbalanced parentheses in $expand.", target="$expand")
        if char == separator and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if depth != 0:
        raise InvalidRequest("Unbalanced parentheses in $expand.", target="$expand")
    parts.append("".join(current))
    return parts


_FILTER_HELP = (
    "Only startDateTime compared with lt, le, gt or ge, and "
    "participants_v2/any(p:p/id eq '...'), joined by 'and', are supported in $filter."
)


def parse_record_filter(text: str | None) -> RecordQuery:
    """Translate a list-callRecords `$filter` into a store query."""
    if text is None:
        return RecordQuery()
    try:
        tree = _PARSER.parse(_LEXER.tokenize(text))
    except (ODataException, ValueError) as exc:
        raise InvalidRequest(f"Invalid $filter expression: {exc}", target="$filter") from exc
    query: dict[str, Any] = {"start_lower": None, "start_upper": None, "participant_ids": ()}
    for clause in _conjuncts(tree):
        _apply_clause(clause, query)
    return RecordQuery(**query)


def _conjuncts(tree: ast._Node) -> list[ast._Node]:
    """The clauses joined by `and`, in order (without recursion: a chain of thousands is one deep tree)."""
    clauses: list[ast._Node] = []
    waiting = [tree]
    while waiting:
        node = waiting.pop()
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
            waiting += [node.right, node.left]
        else:
            clauses.append(node)
    return clauses


_BOUNDS = {
    ast.Gt: ("start_lower", False),
    ast.GtE: ("start_lower", True),
    ast.Lt: ("start_upper", False),
    ast.LtE: ("start_upper", True),
}


def _apply_clause(clause: ast._Node, query: dict[str, Any]) -> None:
    if isinstance(clause, ast.CollectionLambda):
        if query["participant_ids"]:
            raise InvalidRequest(_FILTER_HELP, target="$filter")
        query["participant_ids"] = _participant_ids(clause)
        return
    if not (
        isinstance(clause, ast.Compare)
        and isinstance(clause.left, ast.Identifier)
        and clause.left.name == "startDateTime"
        and type(clause.comparator) in _BOUNDS
        and isinstance(clause.right, ast.DateTime | ast.Date)
    ):
        raise InvalidRequest(_FILTER_HELP, target="$filter")
    slot, inclusive = _BOUNDS[type(clause.comparator)]
    bound = _literal_microseconds(clause.right)
    current = query[slot]
    tighter = current is None or (bound > current[0] if slot == "start_lower" else bound < current[0])
    if tighter or (bound == current[0] and not inclusive):
        query[slot] = (bound, inclusive)


def _literal_microseconds(literal: ast.DateTime | ast.Date) -> int:
    text = literal.val if isinstance(literal, ast.DateTime) else f"{literal.val}T00:00:00Z"
    try:
        return to_microseconds(text)
    except ValueError as exc:
        raise InvalidRequest(f"Invalid timestamp '{literal.val}' in $filter.", target="$filter") from exc


def _participant_ids(node: ast.CollectionLambda) -> tuple[str, ...]:
    owner = node.owner
    if not (
        isinstance(owner, ast.Identifier)
        and owner.name in ("participants_v2", "participants")
        and isinstance(node.operator, ast.Any)
        and node.lambda_ is not None
    ):
        raise InvalidRequest(_FILTER_HELP, target="$filter")
    variable = node.lambda_.identifier.name
    return tuple(_id_equalities(node.lambda_.expression, variable))


def _id_equalities(node: ast._Node, variable: str) -> list[str]:
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
        return _id_equalities(node.left, variable) + _id_equalities(node.right, variable)
    if (
        isinstance(node, ast.Compare)
        and isinstance(node.comparator, ast.Eq)
        and isinstance(node.left, ast.Attribute)
        and isinstance(node.left.owner, ast.Identifier)
        and node.left.owner.name == variable
        and node.left.attr == "id"
        and isinstance(node.right, ast.String)
    ):
        return [node.right.val]
    raise InvalidRequest(_FILTER_HELP, target="$filter")


def encode_skiptoken(state: list[Any]) -> str:
    """An opaque continuation token."""
    return base64.urlsafe_b64encode(msgspec.json.encode(state)).decode().rstrip("=")


def decode_skiptoken(token: str | None, shape: tuple[type, ...]) -> list[Any] | None:
    """The state inside a token made by `encode_skiptoken`, checked against its shape."""
    if token is None:
        return None
    try:
        state = msgspec.json.decode(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, msgspec.DecodeError, RecursionError):  # msgspec: too deep is a RecursionError
        state = None
    if not (
        isinstance(state, list)
        and len(state) == len(shape)
        and all(isinstance(v, t) and not isinstance(v, bool) for v, t in zip(state, shape, strict=True))
    ):
        raise InvalidRequest("The $skiptoken is not valid for this request.", target="$skiptoken")
    return state
