"""Becoming reachable: makeMeAvailable turns an application into one that is offered calls."""

from __future__ import annotations

from sqlalchemy import Engine

from callscope.domain.applications import supported_modalities
from callscope.domain.events import Event, EventType, Priority
from callscope.errors import Conflict
from callscope.services.applications import Applications
from callscope.services.events import EventChannels
from callscope.services.users import Users
from callscope.storage import applications as store


class Presence:
    """The makeMeAvailable use case."""

    def __init__(self, engine: Engine, applications: Applications, channels: EventChannels, users: Users) -> None:
        self._engine = engine
        self._applications = applications
        self._channels = channels
        self._users = users

    def make_available(self, tenant_id: str, user_uri: str, application_id: str, modalities: object) -> None:
        """Record the modalities and tell the application (`me` and `communication` updated)."""
        chosen = supported_modalities(modalities)
        self._applications.get(tenant_id, user_uri, application_id)
        user = self._users.find(tenant_id, user_uri)
        name = user.display_name if user else user_uri.removeprefix("sip:").split("@")[0]
        events = [
            Event(
                "me",
                "",
                EventType.UPDATED,
                "me",
                "",
                Priority.MEDIUM,
                {"name": name, "uri": user_uri, "available": True},
            ),
            Event(
                "communication",
                "",
                EventType.UPDATED,
                "communication",
                "",
                Priority.MEDIUM,
                {"supportedModalities": list(chosen)},
            ),
        ]
        with self._engine.begin() as conn:
            if not store.set_modalities(conn, tenant_id, application_id, chosen):
                raise Conflict("The application is already available.", subcode="AlreadyExists")
            key = self._channels.publish(conn, tenant_id, application_id, events)
        self._channels.notify([key])
