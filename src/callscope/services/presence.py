"""Becoming reachable: makeMeAvailable turns an application into one that is offered calls."""

from __future__ import annotations

from callscope.domain.applications import PUT_MARKER, communication_etag, put_token, supported_modalities
from callscope.domain.events import Event, EventType, Priority
from callscope.errors import Conflict, InvalidRequest, PreconditionFailed, PreconditionRequired
from callscope.services.applications import Applications
from callscope.services.events import EventChannels
from callscope.services.users import Users
from callscope.storage import applications as store
from callscope.storage.database import Database


class Presence:
    """The makeMeAvailable use case."""

    def __init__(self, database: Database, applications: Applications, channels: EventChannels, users: Users) -> None:
        self._database = database
        self._applications = applications
        self._channels = channels
        self._users = users

    def make_available(self, tenant_id: str, user_uri: str, application_id: str, modalities: object) -> None:
        """Record the modalities and tell the application (`me` and `communication` updated)."""
        chosen = supported_modalities(modalities)
        self._applications.get(tenant_id, user_uri, application_id)
        name = self._users.display_name(tenant_id, user_uri)
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
            _communication_updated(chosen),
        ]
        with self._database.begin() as conn:
            if not store.set_modalities(conn, tenant_id, application_id, chosen):
                raise Conflict("The application is already available.", subcode="AlreadyExists")
            key = self._channels.publish(conn, tenant_id, application_id, events)
        self._channels.notify([key])

    def put_communication(
        self, tenant_id: str, user_uri: str, application_id: str, if_match: str | None, values: dict[str, object]
    ) -> tuple[str, ...]:
        """PUT communication: the full resource, guarded by If-Match and the PUT token."""
        application = self._applications.get(tenant_id, user_uri, application_id)
        current = application.modalities or ()
        if not if_match:
            raise PreconditionRequired("PUT needs an If-Match header with the resource's ETag.")
        if if_match.strip('"') != communication_etag(current):
            raise PreconditionFailed("The resource changed since it was read; read it again.")
        if values.get(put_token(application_id).lower()) != PUT_MARKER:
            raise InvalidRequest(
                "PUT must send the whole resource, its PUT token included.",
                subcode="ParameterValidationFailure",
                parameters=[{"name": put_token(application_id), "reason": "Missing"}],
            )
        if application.modalities is None:
            raise Conflict("Call makeMeAvailable first.", subcode="MakeMeAvailableRequired")
        chosen = supported_modalities(values.get("supportedmodalities", list(current)))
        with self._database.begin() as conn:
            if not store.replace_modalities(conn, tenant_id, application_id, current, chosen):
                raise PreconditionFailed("The resource changed since it was read; read it again.")
            key = self._channels.publish(conn, tenant_id, application_id, [_communication_updated(chosen)])
        self._channels.notify([key])
        return chosen


def _communication_updated(modalities: tuple[str, ...]) -> Event:
    return Event(
        "communication",
        "",
        EventType.UPDATED,
        "communication",
        "",
        Priority.MEDIUM,
        {"supportedModalities": list(modalities)},
    )
