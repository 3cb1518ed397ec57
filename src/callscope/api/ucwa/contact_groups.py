"""`people/myGroups` and one `group`: the user's contact groups (UCWA 2.0 contact management)."""

from __future__ import annotations

from starlette.responses import Response

from callscope.api.ucwa.pipeline import UcwaRequest
from callscope.api.ucwa.resources import Resource
from callscope.api.ucwa.views import application_href
from callscope.domain.contact_groups import ContactGroup
from callscope.services.applications import Applications
from callscope.services.contact_groups import ContactGroups
from callscope.services.offload import Offload

WRITE = frozenset({"Contacts.ReadWrite"})  # UCWA's scope for changing contacts and groups


class ContactGroupEndpoints:
    """List and create groups; read and remove one."""

    def __init__(self, applications: Applications, groups: ContactGroups, offload: Offload) -> None:
        self._offload = offload
        self._applications = applications
        self._groups = groups

    async def list(self, ucwa: UcwaRequest) -> Response:
        """GET myGroups: `defaultGroup` and one `group` link per own group."""
        app_id = await self._own(ucwa)
        groups = await self._offload(self._groups.list, ucwa.principal.tenant_id, ucwa.user_uri)
        return ucwa.respond(my_groups(app_id, groups))

    async def create(self, ucwa: UcwaRequest) -> Response:
        """POST myGroups with `name` → 201 + Location; 409 AlreadyExists / TooManyGroups."""
        ucwa.principal.require_any(WRITE)
        app_id = await self._own(ucwa)
        values = await ucwa.input()
        group = await self._offload(self._groups.create, ucwa.principal.tenant_id, ucwa.user_uri, values.get("name"))
        resource = group_view(app_id, group)
        return ucwa.respond(resource, 201, {"Location": resource.href})

    async def get(self, ucwa: UcwaRequest) -> Response:
        """GET one group."""
        app_id = await self._own(ucwa)
        number = ucwa.request.path_params["group"]
        group = await self._offload(self._groups.get, ucwa.principal.tenant_id, ucwa.user_uri, number)
        return ucwa.respond(group_view(app_id, group))

    async def delete(self, ucwa: UcwaRequest) -> Response:
        """DELETE one of the user's own groups → 204."""
        ucwa.principal.require_any(WRITE)
        await self._own(ucwa)
        number = ucwa.request.path_params["group"]
        await self._offload(self._groups.remove, ucwa.principal.tenant_id, ucwa.user_uri, number)
        return Response(status_code=204)

    async def _own(self, ucwa: UcwaRequest) -> str:
        app_id = str(ucwa.request.path_params["app"])
        await self._offload(self._applications.get, ucwa.principal.tenant_id, ucwa.user_uri, app_id)
        return app_id


def groups_href(application_id: str) -> str:
    """Where an application finds its user's groups."""
    return f"{application_href(application_id)}/people/groups"


def my_groups(application_id: str, groups: list[ContactGroup]) -> Resource:
    """`myGroups`: the default group's link, then each own group's."""
    resource = Resource("myGroups", groups_href(application_id))
    for group in groups:
        resource.link("defaultGroup" if group.is_default else "group", f"{resource.href}/{group.number}")
    return resource


def group_view(application_id: str, group: ContactGroup) -> Resource:
    """One group: its number (UCWA's `id`) and name."""
    rel = "defaultGroup" if group.is_default else "group"
    properties = {"id": str(group.number), "name": group.name}
    return Resource(rel, f"{groups_href(application_id)}/{group.number}", properties)
