"""`applications` and one application with its embedded `me`, `people`, `onlineMeetings`, `communication`."""

from __future__ import annotations

from starlette.responses import Response

from callscope.api.ucwa.pipeline import UcwaRequest
from callscope.api.ucwa.resources import Resource
from callscope.domain.applications import Application
from callscope.errors import NotFound
from callscope.services.applications import Applications
from callscope.services.users import Users

APPLICATIONS = "/ucwa/oauth/v1/applications"
INPUT_NAMES = {"useragent": "userAgent", "endpointid": "endpointId", "culture": "culture", "instanceid": "instanceId"}
EMBEDDED = ("me", "people", "onlineMeetings", "communication")


class ApplicationEndpoints:
    """Create, read and end applications; read their embedded resources."""

    def __init__(self, applications: Applications, users: Users) -> None:
        self._applications = applications
        self._users = users

    async def create(self, ucwa: UcwaRequest) -> Response:
        """POST applications → 201 with the application (or the device's running one)."""
        values = await ucwa.input()
        inputs = {name: _text(values.get(key)) for key, name in INPUT_NAMES.items()}
        application, created = self._applications.create(ucwa.principal.tenant_id, ucwa.user_uri, inputs)
        resource = self._application(ucwa, application)
        return ucwa.respond(resource, 201 if created else 200, {"Location": resource.href})

    async def get(self, ucwa: UcwaRequest) -> Response:
        """GET one application."""
        return ucwa.respond(self._application(ucwa, self._own(ucwa)))

    async def delete(self, ucwa: UcwaRequest) -> Response:
        """DELETE one application → 204."""
        self._applications.delete(ucwa.principal.tenant_id, ucwa.user_uri, ucwa.request.path_params["app"])
        return Response(status_code=204)

    async def embedded(self, ucwa: UcwaRequest) -> Response:
        """GET `me`, `people`, `onlineMeetings` or `communication` of an application."""
        application = self._own(ucwa)
        part = ucwa.request.path_params["part"]
        if part not in EMBEDDED:
            raise NotFound(f"The application has no resource '{part}'.", subcode="ResourceNotFound")
        return ucwa.respond(self._part(ucwa, application, part))

    def _own(self, ucwa: UcwaRequest) -> Application:
        return self._applications.get(ucwa.principal.tenant_id, ucwa.user_uri, ucwa.request.path_params["app"])

    def _application(self, ucwa: UcwaRequest, application: Application) -> Resource:
        base = f"{APPLICATIONS}/{application.id}"
        properties = {
            "culture": application.culture,
            "userAgent": application.user_agent,
            "endpointId": application.endpoint_id,
            "instanceId": application.instance_id,
            "id": application.id,
            "type": "Browser",
        }
        resource = Resource("application", base, {k: v for k, v in properties.items() if v is not None})
        resource.embedded = {part: self._part(ucwa, application, part) for part in EMBEDDED}
        return resource

    def _part(self, ucwa: UcwaRequest, application: Application, part: str) -> Resource:
        href = f"{APPLICATIONS}/{application.id}/{part}"
        if part != "me":
            return Resource(part, href)
        user = self._users.find(application.tenant_id, application.user_uri)
        name = user.display_name if user else application.user_uri.removeprefix("sip:").split("@")[0]
        return Resource("me", href, {"name": name, "uri": application.user_uri})


def _text(value: object) -> str | None:
    return None if value is None else str(value)
