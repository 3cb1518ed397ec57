"""How each UCWA resource looks: its href, properties and the links its state allows.

Views are built from domain objects or from the snapshots events carry, so a resource looks the
same whether it is fetched or delivered in an event.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from callscope.api.ucwa.resources import Resource
from callscope.domain.applications import Application

APPLICATIONS = "/ucwa/oauth/v1/applications"


def application_href(application_id: str) -> str:
    """Where an application lives."""
    return f"{APPLICATIONS}/{application_id}"


def href_of(application_id: str, rel: str, key: str) -> str:
    """The href of a resource an application sees, by rel and key."""
    base = application_href(application_id)
    return {
        "application": base,
        "me": f"{base}/me",
        "people": f"{base}/people",
        "onlineMeetings": f"{base}/onlineMeetings",
        "communication": f"{base}/communication",
        "events": f"{base}/events",
    }.get(rel, f"{base}/{rel}/{key}")


def me(application_id: str, snapshot: dict[str, Any]) -> Resource:
    """`me`: name and URI; `makeMeAvailable` until the application is available."""
    resource = Resource("me", href_of(application_id, "me", ""), {"name": snapshot["name"], "uri": snapshot["uri"]})
    if not snapshot.get("available"):
        resource.link("makeMeAvailable", f"{resource.href}/makeMeAvailable")
    return resource


def communication(application_id: str, snapshot: dict[str, Any]) -> Resource:
    """`communication`: the modalities the application accepts."""
    properties = {"supportedModalities": list(snapshot.get("supportedModalities", []))}
    return Resource("communication", href_of(application_id, "communication", ""), properties)


def plain(rel: str) -> Callable[[str, dict[str, Any]], Resource]:
    """A resource with no properties of its own yet."""
    return lambda application_id, _snapshot: Resource(rel, href_of(application_id, rel, ""))


VIEWS: dict[str, Callable[[str, dict[str, Any]], Resource]] = {
    "me": me,
    "communication": communication,
    "people": plain("people"),
    "onlineMeetings": plain("onlineMeetings"),
}


def snapshots(application: Application, name: str) -> dict[str, dict[str, Any]]:
    """The current state of an application's embedded resources, as snapshots."""
    return {
        "me": {"name": name, "uri": application.user_uri, "available": application.available},
        "communication": {"supportedModalities": list(application.modalities or ())},
        "people": {},
        "onlineMeetings": {},
    }


def application(application_: Application, name: str) -> Resource:
    """The application with its embedded resources."""
    properties = {
        "culture": application_.culture,
        "userAgent": application_.user_agent,
        "endpointId": application_.endpoint_id,
        "instanceId": application_.instance_id,
        "id": application_.id,
        "type": "Browser",
    }
    resource = Resource(
        "application", application_href(application_.id), {k: v for k, v in properties.items() if v is not None}
    )
    resource.link("events", f"{href_of(application_.id, 'events', '')}?ack={application_.channel.batch + 1}")
    resource.embedded = {rel: VIEWS[rel](application_.id, snap) for rel, snap in snapshots(application_, name).items()}
    return resource
