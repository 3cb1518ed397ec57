"""Graph endpoints for call records, their sessions, segments and participants."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from callscope.api.graph import query as q
from callscope.api.graph.context import GraphContext
from callscope.api.graph.paging import PageWindow, next_link
from callscope.api.graph.paths import Target
from callscope.api.graph.responses import collection, json_response, link, text_response
from callscope.api.graph.shaping import Shaper, project
from callscope.domain.call_records import SESSIONS_PAGE_MAX, find_by_id
from callscope.errors import InvalidRequest, NotFound
from callscope.services.call_records import CallRecords, RecordQuery
from callscope.services.offload import Offload

NS = "microsoft.graph.callRecords"
TYPES = {
    "record": f"{NS}.callRecord",
    "session": f"{NS}.session",
    "segment": f"{NS}.segment",
    "participant": f"{NS}.participant",
    "organizer": f"{NS}.organizer",
}
# Which navigation each collection is, and which navigations its items may expand.
COLLECTIONS = {"sessions": "session", "segments": "segment", "participants": "participant"}
# The kind of item each navigation property of the namespace holds.
NAVIGATIONS = {
    "sessions": "session",
    "segments": "segment",
    "participants_v2": "participant",
    "organizer_v2": "organizer",
}
EXPANDABLE = {"record": {"sessions", "participants_v2", "organizer_v2"}, "session": {"segments"}}
LIST_DEFAULT_PAGE = 100
ITEM_OPTIONS = frozenset({"$select", "$expand"})
LIST_OPTIONS = frozenset({"$select", "$expand", "$top", "$skiptoken", "$count"})
RECORDS_OPTIONS = frozenset({"$select", "$filter", "$top", "$skiptoken", "$count"})
COUNT_OPTIONS = frozenset({"$filter"})


class CallRecordsEndpoints:
    """Serves every GET under `/communications/callRecords` except the bound functions."""

    def __init__(self, records: CallRecords, shapers: dict[str, Shaper], offload: Offload) -> None:
        self._records = records
        self._offload = offload
        self._shapers = shapers

    async def get(self, ctx: GraphContext, target: Target) -> Response:
        """Answer a GET for a parsed target.

        An answer about one record depends only on that record's version and the request, so it
        leaves a validator for the hot cache (see `hot_cache.py`).
        """
        if target.kind == "records":
            return await self._list_records(ctx, target.count)
        record_id = str(target.record_id)
        version = await self._offload(self._records.get_version, ctx.tenant_id, record_id)
        response = await self._about_record(ctx, target)
        if ctx.cache_hint is not None:
            ctx.cache_hint.validator = (ctx.tenant_id, record_id, version)
        return response

    async def _about_record(self, ctx: GraphContext, target: Target) -> Response:
        options = ctx.options(COUNT_OPTIONS if target.count else _options_for(target.kind))
        raw = await self._offload(self._records.get, ctx.tenant_id, str(target.record_id))
        record = self._shapers[ctx.version].load(raw, include_unknown=ctx.include_unknown_enums)
        if target.kind == "record":
            return json_response(self._record(ctx, options, record))
        if target.kind == "organizer":
            return self._organizer(ctx, options, record)
        parent, items = _collection_of(record, target)
        if target.count:
            return text_response(str(len(items)))
        if target.kind in COLLECTIONS:
            return json_response(self._page(ctx, options, target, items))
        item = find_by_id(items, str(target.item_id or target.session_id))
        if item is None:
            raise NotFound(f"{target.kind} {target.item_id or target.session_id!r} was not found")
        return json_response(self._item(ctx, options, target.kind, item, parent))

    def _record(self, ctx: GraphContext, options: q.QueryOptions, record: dict[str, Any]) -> Any:
        body = {"@odata.context": ctx.context_url("communications/callRecords/$entity")}
        expansions = self._expansions(ctx, options, "record")
        body.update(self._item(ctx, options, "record", record, record, expansions))
        return body

    def _item(
        self,
        ctx: GraphContext,
        options: q.QueryOptions,
        kind: str,
        item: dict[str, Any],
        record: dict[str, Any],
        expansions: tuple[q.Expansion, ...] | None = None,
    ) -> dict[str, Any]:
        shaper = self._shapers[ctx.version]
        select = q.parse_select(options.get("$select"), shaper.model.properties(TYPES[kind]), TYPES[kind])
        if expansions is None:
            expansions = self._expansions(ctx, options, kind)
        return self._shape(ctx, kind, item, record, select, expansions)

    def _shape(
        self,
        ctx: GraphContext,
        kind: str,
        item: dict[str, Any],
        record: dict[str, Any],
        select: tuple[str, ...],
        expansions: tuple[q.Expansion, ...],
    ) -> dict[str, Any]:
        shaper = self._shapers[ctx.version]
        body = project(item, select, shaper.navigations(TYPES[kind]))
        if kind == "record" and (not select or "organizer_v2" in select) and "organizer_v2" in item:
            body["organizer_v2"] = item["organizer_v2"]  # auto-expanded (CSDL AutoExpand)
        for expansion in expansions:
            self._expand(ctx, kind, item, record, expansion, body)
        return body

    def _expand(
        self,
        ctx: GraphContext,
        kind: str,
        item: dict[str, Any],
        record: dict[str, Any],
        expansion: q.Expansion,
        body: dict[str, Any],
    ) -> None:
        name = expansion.name
        if name == "organizer_v2":
            body[name] = item.get(name)
            return
        child_kind = NAVIGATIONS[name]
        children = item.get(name) or []
        page = children
        if name == "sessions" and len(children) > SESSIONS_PAGE_MAX:
            page = children[:SESSIONS_PAGE_MAX]
            body[f"{name}@odata.nextLink"] = self._sessions_link(ctx, record, expansion, SESSIONS_PAGE_MAX)
        body[name] = [self._shape(ctx, child_kind, child, record, expansion.select, expansion.expand) for child in page]

    def _sessions_link(self, ctx: GraphContext, record: dict[str, Any], expansion: q.Expansion, offset: int) -> str:
        params = {"$skiptoken": q.encode_skiptoken([offset, -1])}
        if expansion.select:
            params["$select"] = ",".join(expansion.select)
        if expansion.expand:
            params["$expand"] = ",".join(e.to_text() for e in expansion.expand)
        path = f"/{ctx.version}/communications/callRecords/{record['id']}/sessions"
        return link(ctx.base_url, path, params)

    def _expansions(self, ctx: GraphContext, options: q.QueryOptions, kind: str) -> tuple[q.Expansion, ...]:
        expansions = q.parse_expand(options.get("$expand"))
        _check_expansions(kind, expansions, self._shapers[ctx.version])
        return expansions

    def _organizer(self, ctx: GraphContext, options: q.QueryOptions, record: dict[str, Any]) -> Response:
        organizer = record.get("organizer_v2")
        if not organizer:
            raise NotFound("the call record has no organizer")
        body = {"@odata.context": ctx.context_url(f"communications/callRecords('{record['id']}')/organizer_v2/$entity")}
        body.update(self._item(ctx, options, "organizer", organizer, record))
        return json_response(body)

    def _page(
        self, ctx: GraphContext, options: q.QueryOptions, target: Target, items: list[dict[str, Any]]
    ) -> dict[str, Any]:
        kind = COLLECTIONS[target.kind]
        state = q.decode_skiptoken(options.get("$skiptoken"), (int, int))
        offset = state[0] if state else 0
        ceiling = SESSIONS_PAGE_MAX if kind == "session" else 1000
        window = PageWindow.open(
            ctx.page_size(ceiling, ceiling), q.parse_top(options.get("$top")), state[1] if state else None
        )
        page = items[offset : offset + window.size]
        expansions = self._expansions(ctx, options, kind)
        shaper = self._shapers[ctx.version]
        select = q.parse_select(options.get("$select"), shaper.model.properties(TYPES[kind]), TYPES[kind])
        record = {"id": target.record_id}
        values = [self._shape(ctx, kind, item, record, select, expansions) for item in page]
        following = None
        if window.continues(len(page), offset + len(page) < len(items)):
            state = [offset + len(page), window.budget_after(len(page))]
            following = next_link(ctx, _path(ctx, target), options, state)
        count = len(items) if q.parse_count(options.get("$count")) else None
        context = ctx.context_url("communications/" + _path(ctx, target).split("/communications/", 1)[1])
        return collection(context, values, following, count)

    async def _list_records(self, ctx: GraphContext, count_only: bool) -> Response:
        if count_only:
            options = ctx.options(COUNT_OPTIONS)
            query = q.parse_record_filter(options.get("$filter"))
            total = await self._offload(self._records.count, ctx.tenant_id, query)
            return text_response(str(total))
        return json_response(await self._records_page(ctx, ctx.options(RECORDS_OPTIONS)))

    async def _records_page(self, ctx: GraphContext, options: q.QueryOptions) -> dict[str, Any]:
        shaper = self._shapers[ctx.version]
        record_type = TYPES["record"]
        select = q.parse_select(options.get("$select"), shaper.model.properties(record_type), record_type)
        query = q.parse_record_filter(options.get("$filter"))
        state = q.decode_skiptoken(options.get("$skiptoken"), (int, str, int))
        window = PageWindow.open(
            ctx.page_size(1000, LIST_DEFAULT_PAGE), q.parse_top(options.get("$top")), state[2] if state else None
        )
        if state:
            query = _after(query, (state[0], state[1]))
        rows = await self._offload(self._records.list_page, ctx.tenant_id, query, window.size + 1)
        page = rows[: window.size]
        values = []
        for _, _, raw in page:
            record = shaper.load(raw, include_unknown=ctx.include_unknown_enums)
            values.append(self._shape(ctx, "record", record, record, select, ()))
        following = None
        if window.continues(len(page), len(rows) > window.size):
            state = [page[-1][0], page[-1][1], window.budget_after(len(page))]
            following = next_link(ctx, f"/{ctx.version}/communications/callRecords", options, state)
        total = None
        if q.parse_count(options.get("$count")):
            total = await self._offload(self._records.count, ctx.tenant_id, _after(query, None))
        return collection(ctx.context_url("communications/callRecords"), values, following, total)


def _options_for(kind: str) -> frozenset[str]:
    return LIST_OPTIONS if kind in COLLECTIONS else ITEM_OPTIONS


def _after(query: RecordQuery, after: tuple[int, str] | None) -> RecordQuery:
    return RecordQuery(query.start_lower, query.start_upper, query.participant_ids, after)


def _collection_of(record: dict[str, Any], target: Target) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    if target.kind in ("participants", "participant"):
        return record, record.get("participants_v2") or []
    sessions: list[dict[str, Any]] = record.get("sessions") or []
    if target.kind in ("sessions", "session"):
        return record, sessions
    session = find_by_id(sessions, str(target.session_id))
    if session is None:
        raise NotFound(f"session {target.session_id!r} was not found")
    return session, session.get("segments") or []


def _path(ctx: GraphContext, target: Target) -> str:
    path = f"/{ctx.version}/communications/callRecords/{target.record_id}"
    if target.kind in ("sessions", "segments", "segment") or target.session_id:
        path += "/sessions"
    if target.session_id and target.kind != "session":
        path += f"/{target.session_id}/segments"
    if target.kind == "participants":
        path += "/participants_v2"
    return path


def _check_expansions(kind: str, expansions: tuple[q.Expansion, ...], shaper: Shaper) -> None:
    allowed = EXPANDABLE.get(kind, set())
    for expansion in expansions:
        if expansion.name not in allowed:
            raise InvalidRequest(
                f"Could not find a navigation property named '{expansion.name}' on type '{TYPES[kind]}' ($expand).",
                target="$expand",
            )
        child = NAVIGATIONS[expansion.name]
        type_name = TYPES[child]
        q.parse_select(",".join(expansion.select) or None, shaper.model.properties(type_name), type_name)
        _check_expansions(child, expansion.expand, shaper)
