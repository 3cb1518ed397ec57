"""`applications`, one application, its embedded resources, and `me/makeMeAvailable`."""

from __future__ import annotations

from starlette.responses import Response

from callscope.api.ucwa import views
from callscope.api.ucwa.pipeline import UcwaRequest
from callscope.domain.applications import Application
from callscope.errors import Conflict, NotFound
from callscope.services.applications import Applications
from callscope.services.calls import Calls
from callscope.services.offload import Offload
from callscope.services.presence import Presence
from callscope.services.users import Users

# UCWA operations under `communication` that callscope knows but does not offer: 409 Conflict
# with no subcode, UCWA's "unsupported service/resource/API" answer (by the factory's URL).
UNSUPPORTED_OPERATIONS = {
    "messagingInvitations": "startMessaging",
    "phoneAudioInvitations": "startPhoneAudio",
    "onlineMeetingInvitations": "startOnlineMeeting and joinOnlineMeeting",
    "participantInvitations": "addParticipant",
    "startAudio": "startAudio",
    "startVideo": "startVideo",
}
INPUT_NAMES = {"useragent": "userAgent", "endpointid": "endpointId", "culture": "culture", "instanceid": "instanceId"}


class ApplicationEndpoints:
    """Create, read and end applications; read their embedded resources; become available."""

    def __init__(
        self, applications: Applications, users: Users, presence: Presence, calls: Calls, offload: Offload
    ) -> None:
        self._offload = offload
        self._applications = applications
        self._users = users
        self._presence = presence
        self._calls = calls

    async def create(self, ucwa: UcwaRequest) -> Response:
        """POST applications → 201 with the application (200 with the device's running one)."""
        values = await ucwa.input()
        inputs = {name: _text(values.get(key)) for key, name in INPUT_NAMES.items()}
        application, created = await self._offload(
            self._applications.create, ucwa.principal.tenant_id, ucwa.user_uri, inputs
        )
        resource = views.application(application, self._name(application))
        return ucwa.respond(resource, 201 if created else 200, {"Location": resource.href})

    async def get(self, ucwa: UcwaRequest) -> Response:
        """GET one application."""
        application = await self._own(ucwa)
        return ucwa.respond(views.application(application, self._name(application)))

    async def delete(self, ucwa: UcwaRequest) -> Response:
        """DELETE one application → 204; its calls end first, seen by the other side."""
        app_id = ucwa.request.path_params["app"]
        await self._own(ucwa)
        await self._offload(self._calls.end_for_application, ucwa.principal.tenant_id, ucwa.user_uri, app_id)
        await self._offload(self._applications.delete, ucwa.principal.tenant_id, ucwa.user_uri, app_id)
        return Response(status_code=204)

    async def embedded(self, ucwa: UcwaRequest) -> Response:
        """GET `me`, `people`, `onlineMeetings` or `communication` of an application."""
        application = await self._own(ucwa)
        part = ucwa.request.url.path.rstrip("/").rsplit("/", 1)[1]
        if part not in views.VIEWS:
            raise NotFound(f"The application has no resource '{part}'.", subcode="ResourceNotFound")
        snapshot = views.snapshots(application, self._name(application))[part]
        resource = views.VIEWS[part](application.id, snapshot)
        etag = resource.properties.get("etag")
        return ucwa.respond(resource, headers={"ETag": f'"{etag}"'} if etag else None)

    async def unsupported(self, ucwa: UcwaRequest) -> Response:
        """Any request to a UCWA operation callscope does not offer → 409 Conflict, no subcode."""
        await self._own(ucwa)
        operation = ucwa.request.path_params["operation"]
        if operation not in UNSUPPORTED_OPERATIONS:
            raise NotFound("There is no such resource.", subcode="ResourceNotFound")
        raise Conflict(
            f"callscope does not offer {UNSUPPORTED_OPERATIONS[operation]}; calls start with startAudioVideo,"
            " whose SDP offer says whether they carry audio, video or both."
        )

    async def put_communication(self, ucwa: UcwaRequest) -> Response:
        """PUT communication (If-Match, whole resource) → 200 with the new representation."""
        values = await ucwa.input()
        app_id = ucwa.request.path_params["app"]
        modalities = await self._offload(
            self._presence.put_communication,
            ucwa.principal.tenant_id,
            ucwa.user_uri,
            app_id,
            ucwa.request.headers.get("if-match"),
            values,
        )
        resource = views.communication(app_id, {"supportedModalities": list(modalities)})
        return ucwa.respond(resource, headers={"ETag": f'"{resource.properties["etag"]}"'})

    async def make_me_available(self, ucwa: UcwaRequest) -> Response:
        """POST me/makeMeAvailable → 204; a second time → 409 AlreadyExists."""
        values = await ucwa.input()
        app_id = ucwa.request.path_params["app"]
        await self._offload(
            self._presence.make_available,
            ucwa.principal.tenant_id,
            ucwa.user_uri,
            app_id,
            values.get("supportedmodalities", ["Audio", "Video"]),
        )
        return Response(status_code=204)

    async def _own(self, ucwa: UcwaRequest) -> Application:
        app_id = ucwa.request.path_params["app"]
        return await self._offload(self._applications.get, ucwa.principal.tenant_id, ucwa.user_uri, app_id)

    def _name(self, application: Application) -> str:
        return self._users.display_name(application.tenant_id, application.user_uri)


def _text(value: object) -> str | None:
    return None if value is None else str(value)
