"""`GET /{version}/$metadata`: the CSDL of the namespace this version serves."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response


class MetadataEndpoint:
    """Serves each version's CSDL document as it is packaged."""

    def __init__(self, csdl: dict[str, bytes]) -> None:
        self._csdl = csdl

    async def get(self, request: Request) -> Response:
        """The CSDL XML of the version in the path."""
        version = request.url.path.strip("/").split("/")[0]
        return Response(self._csdl[version], media_type="application/xml")
