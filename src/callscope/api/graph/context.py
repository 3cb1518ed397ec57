"""What every Graph handler needs to know about its request."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from callscope.api.graph.hot_cache import CacheHint
from callscope.api.graph.query import QueryOptions
from callscope.domain.integers import non_negative
from callscope.errors import InvalidRequest

MAX_PAGE = 1000


@dataclass(frozen=True)
class GraphContext:
    """Version, tenant, base URL, query options and `Prefer` preferences of a request."""

    version: str
    tenant_id: str
    base_url: str  # scheme://host[:port], no trailing slash
    params: Mapping[str, str]
    include_unknown_enums: bool
    max_page_size: int | None
    cache_hint: CacheHint | None = field(default=None, compare=False)

    @property
    def root(self) -> str:
        """The service root of this version."""
        return f"{self.base_url}/{self.version}"

    def context_url(self, fragment: str) -> str:
        """An `@odata.context` URL."""
        return f"{self.root}/$metadata#{fragment}"

    def options(self, supported: frozenset[str]) -> QueryOptions:
        """This request's `$` options, checked against what the endpoint supports."""
        return QueryOptions.from_params(self.params, supported)

    def page_size(self, ceiling: int, default: int) -> int:
        """The page size: the client's `odata.maxpagesize` up to the endpoint's ceiling."""
        return min(self.max_page_size or default, ceiling)


def parse_prefer(values: list[str]) -> tuple[bool, int | None]:
    """(include-unknown-enum-members, odata.maxpagesize) from `Prefer` headers."""
    include_unknown = False
    max_page: int | None = None
    for header in values:
        for preference in header.split(","):
            name, _, value = preference.strip().partition("=")
            name = name.strip().lower()
            if name == "include-unknown-enum-members":
                include_unknown = True
            elif name == "odata.maxpagesize":
                max_page = _page_size(value.strip().strip('"'))
    return include_unknown, max_page


def _page_size(text: str) -> int:
    size = non_negative(text)
    if size is None or not 1 <= size <= MAX_PAGE * 1000:
        raise InvalidRequest(f"Invalid odata.maxpagesize '{text}': expected a positive integer.", target="Prefer")
    return size
