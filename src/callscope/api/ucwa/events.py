"""The event channel resource: `GET …/events?ack=N` (the P-GET) in JSON or XML."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import msgspec
from lxml import etree
from starlette.responses import Response

from callscope.api.ucwa import views
from callscope.api.ucwa.formats import NAMESPACE, is_xml, resource_element, to_json
from callscope.api.ucwa.pipeline import UcwaRequest
from callscope.api.ucwa.resources import Resource
from callscope.domain.events import Event
from callscope.domain.integers import non_negative
from callscope.errors import InvalidRequest
from callscope.services.events import Delivery, EventChannels, parse_timing

_NS = f"{{{NAMESPACE}}}"


class EventEndpoint:
    """Serves P-GETs."""

    def __init__(self, channels: EventChannels, floor_seconds: int) -> None:
        self._channels = channels
        self._floor = floor_seconds

    async def get(self, ucwa: UcwaRequest) -> Response:
        """Wait for events (or the timeout) and answer with the batch."""
        # parse_qsl as Starlette's QueryParams does, without building its multi-dict: 5 P-GETs a call setup
        query = dict(parse_qsl(ucwa.request.scope["query_string"].decode("latin-1"), keep_blank_values=True))
        ack = _integer(query.get("ack", ""), "ack")
        priority = _integer(query.get("priority", "0"), "priority")
        given = parse_timing(query, self._floor)
        app_id = ucwa.request.path_params["app"]
        delivery = await self._channels.poll(ucwa.principal.tenant_id, ucwa.user_uri, app_id, ack, given, priority)
        body = _render(app_id, delivery, ucwa.media_type)
        return Response(body, media_type=ucwa.media_type)


def _integer(text: str, name: str) -> int:
    value = non_negative(text)
    if value is None:
        raise InvalidRequest(
            f"'{name}' must be a non-negative integer.",
            subcode="ParameterValidationFailure",
            parameters=[{"name": name, "reason": "Invalid"}],
        )
    return value


def _links(app_id: str, delivery: Delivery) -> dict[str, str]:
    base = views.href_of(app_id, "events", "")
    links = {"self": f"{base}?ack={delivery.batch}"}
    if delivery.resync is not None:
        links["resync"] = f"{base}?ack={delivery.resync}"
    else:
        links["next"] = f"{base}?ack={delivery.batch + 1}"
    return links


def _groups(events: list[Event]) -> list[tuple[Event, list[Event]]]:
    """Consecutive events of one sender form a group (a sender may appear again later)."""
    groups: list[tuple[Event, list[Event]]] = []
    for event in events:
        if groups and (groups[-1][0].sender, groups[-1][0].sender_key) == (event.sender, event.sender_key):
            groups[-1][1].append(event)
        else:
            groups.append((event, [event]))
    return groups


def _render(app_id: str, delivery: Delivery, media_type: str) -> bytes:
    if is_xml(media_type):
        return _xml(app_id, delivery)
    body = {
        "_links": {rel: {"href": href} for rel, href in _links(app_id, delivery).items()},
        "sender": [
            {
                "rel": first.sender,
                "href": views.href_of(app_id, first.sender, first.sender_key),
                "events": [_json_event(app_id, e) for e in members],
            }
            for first, members in _groups(delivery.events)
        ],
    }
    return msgspec.json.encode(body)


def _json_event(app_id: str, event: Event) -> dict[str, Any]:
    body: dict[str, Any] = {
        "link": {"rel": event.target, "href": views.href_of(app_id, event.target, event.target_key)},
        "type": str(event.type),
    }
    resource = _snapshot_resource(app_id, event)
    if resource is not None:
        body["_embedded"] = {event.target: to_json(resource)}
    if event.status is not None:
        body["status"] = event.status
    if event.reason is not None:
        body["reason"] = event.reason
    return body


def _snapshot_resource(app_id: str, event: Event) -> Resource | None:
    if event.snapshot is None:
        return None
    if event.target in views.CALL_VIEWS:
        return views.keyed(event.target, app_id, event.target_key, event.snapshot)
    if event.target in views.VIEWS:
        return views.VIEWS[event.target](app_id, event.snapshot)
    return None


def _xml(app_id: str, delivery: Delivery) -> bytes:
    links = _links(app_id, delivery)
    root = etree.Element(f"{_NS}events", href=links.pop("self"), nsmap={None: NAMESPACE})
    for rel, href in links.items():
        etree.SubElement(root, f"{_NS}link", rel=rel, href=href)
    for first, members in _groups(delivery.events):
        sender = etree.SubElement(
            root, f"{_NS}sender", rel=first.sender, href=views.href_of(app_id, first.sender, first.sender_key)
        )
        for event in members:
            element = etree.SubElement(
                sender,
                f"{_NS}{event.type}",
                rel=event.target,
                href=views.href_of(app_id, event.target, event.target_key),
            )
            if event.status is not None:
                element.set("status", event.status)
            resource = _snapshot_resource(app_id, event)
            if resource is not None:
                element.append(resource_element(resource))
            if event.reason is not None:
                reason = etree.SubElement(element, f"{_NS}reason")
                for name in ("code", "subcode", "message"):
                    if name in event.reason:
                        etree.SubElement(reason, f"{_NS}{name}").text = event.reason[name]
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))
