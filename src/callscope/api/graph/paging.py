"""Server-driven paging shared by Graph's collections: page sizes, the `$top` budget, nextLinks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from callscope.api.graph.context import GraphContext
from callscope.api.graph.query import QueryOptions, encode_skiptoken
from callscope.api.graph.responses import link


@dataclass(frozen=True)
class PageWindow:
    """How many results this page holds, and how many `$top` still allows (-1: no limit)."""

    size: int
    budget: int

    @classmethod
    def open(cls, page_size: int, top: int | None, carried_budget: int | None) -> PageWindow:
        """The window of a first page (`top`) or of a later one (the budget its token carried)."""
        budget = carried_budget if carried_budget is not None else (-1 if top is None else top)
        return cls(page_size if budget < 0 else min(page_size, budget), budget)

    def budget_after(self, returned: int) -> int:
        """What `$top` allows after this page."""
        return self.budget - returned if self.budget >= 0 else -1

    def continues(self, returned: int, more_exist: bool) -> bool:
        """Whether this page gets a nextLink."""
        return more_exist and returned > 0 and self.budget_after(returned) != 0


def next_link(ctx: GraphContext, path: str, options: QueryOptions, state: list[Any]) -> str:
    """An absolute nextLink: the request's own options with a fresh `$skiptoken` instead of `$top`."""
    params = {k: v for k, v in options.raw.items() if k not in ("$skiptoken", "$top")}
    params["$skiptoken"] = encode_skiptoken(state)
    return link(ctx.base_url, path, params)
