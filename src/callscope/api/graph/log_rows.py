"""Graph endpoints for the bound functions: getPstnCalls, getDirectRoutingCalls and the beta logs."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from callscope.api.graph import query as q
from callscope.api.graph.context import GraphContext
from callscope.api.graph.paging import PageWindow, next_link
from callscope.api.graph.paths import Target
from callscope.api.graph.responses import collection, json_response
from callscope.api.graph.shaping import Shaper
from callscope.domain.log_rows import (
    DIALOUT_REPORT_FUNCTION,
    DIALOUT_REPORT_TYPE,
    KINDS_BY_FUNCTION,
    PAGE_SIZE,
)
from callscope.services.log_rows import LogRows
from callscope.services.offload import Offload

FUNCTION_OPTIONS = frozenset({"$top", "$skiptoken"})


class LogRowsEndpoints:
    """Serves the log-row functions bound to the callRecords collection."""

    def __init__(self, log_rows: LogRows, shapers: dict[str, Shaper], offload: Offload) -> None:
        self._log_rows = log_rows
        self._offload = offload
        self._shapers = shapers

    async def get(self, ctx: GraphContext, target: Target, raw_path: str) -> Response:
        """One page of the function's rows."""
        options = ctx.options(FUNCTION_OPTIONS)
        assert target.function is not None and target.between is not None
        if target.function == DIALOUT_REPORT_FUNCTION:
            report = await self._offload(self._log_rows.dialout_report, ctx.tenant_id, target.between)
            context = ctx.context_url(f"Collection({DIALOUT_REPORT_TYPE})")
            return json_response(collection(context, report, None))
        kind = KINDS_BY_FUNCTION[target.function]
        state = q.decode_skiptoken(options.get("$skiptoken"), (int, str, int))
        window = PageWindow.open(
            ctx.page_size(PAGE_SIZE, PAGE_SIZE), q.parse_top(options.get("$top")), state[2] if state else None
        )
        after = (state[0], state[1]) if state else None
        rows = await self._offload(
            self._log_rows.list_page, ctx.tenant_id, kind.name, target.between, after, window.size + 1
        )
        page = rows[: window.size]
        shaper = self._shapers[ctx.version]
        values: list[Any] = [
            shaper.restrict(shaper.load(raw, include_unknown=ctx.include_unknown_enums), kind.type_name)
            for _, _, raw in page
        ]
        following = None
        if window.continues(len(page), len(rows) > window.size):
            state = [page[-1][0], page[-1][1], window.budget_after(len(page))]
            following = next_link(ctx, raw_path, options, state)
        context = ctx.context_url(f"Collection({kind.type_name})")
        return json_response(collection(context, values, following))
