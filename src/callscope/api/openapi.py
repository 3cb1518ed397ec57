"""`GET /openapi.json`: an OpenAPI 3.0 description of exactly what callscope serves.

It is assembled from Microsoft's official description of the namespace (one per version): only
the GET operations are kept (the write operations the converter generates are not real Graph
capabilities) except on `/subscriptions`, which callscope serves in full; paths get their version
prefix, and beta's components are renamed `beta.*` so both versions live in one document.
callscope's own ingestion endpoint is added.
"""

from __future__ import annotations

import copy
from functools import cached_property
from importlib import resources
from typing import Any

import yaml
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from callscope.services.schemas import VERSIONS

_REF_PREFIX = "#/components/"
# Change-notification subscriptions are served with their write methods (not `reauthorize`).
SUBSCRIPTION_PATHS = frozenset({"/subscriptions", "/subscriptions/{subscription-id}"})


class OpenApiEndpoint:
    """Serves the merged description, built on first use."""

    async def get(self, _request: Request) -> Response:
        """The document."""
        return JSONResponse(self.document)

    @cached_property
    def document(self) -> dict[str, Any]:
        """The merged OpenAPI document."""
        merged: dict[str, Any] = {
            "openapi": "3.0.4",
            "info": {"title": "callscope", "version": "1.0", "description": _DESCRIPTION},
            "servers": [{"url": "/"}],
            "paths": {},
            "components": {"securitySchemes": _SECURITY_SCHEMES},
            "security": [{"bearer": []}],
        }
        for version in VERSIONS:
            _merge(merged, _load(version), version)
        merged["paths"]["/callscope/ingest"] = _INGEST_PATH
        return merged


def _load(version: str) -> dict[str, Any]:
    text = resources.files("callscope.schemas").joinpath(f"{version}.openapi.yaml").read_text()
    document: dict[str, Any] = yaml.safe_load(text)
    return document


def _merge(merged: dict[str, Any], document: dict[str, Any], version: str) -> None:
    prefix = "beta." if version == "beta" else ""
    if prefix:
        document = _rename_refs(copy.deepcopy(document), prefix)
    for path, item in document["paths"].items():
        if path in SUBSCRIPTION_PATHS:
            kept = {
                k: v for k, v in item.items() if k in ("get", "post", "patch", "delete", "parameters", "description")
            }
        elif path.startswith("/subscriptions") or "get" not in item:
            continue
        else:
            kept = {k: v for k, v in item.items() if k in ("get", "parameters", "description")}
        merged["paths"][f"/{version}{path}"] = kept
    for section, entries in document.get("components", {}).items():
        if section == "securitySchemes":
            continue
        target = merged["components"].setdefault(section, {})
        target.update({f"{prefix}{name}": value for name, value in entries.items()})


def _rename_refs(value: Any, prefix: str) -> Any:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("$ref", "mapping") and isinstance(item, str) and item.startswith(_REF_PREFIX):
                section, _, name = item[len(_REF_PREFIX) :].partition("/")
                value[key] = f"{_REF_PREFIX}{section}/{prefix}{name}"
            elif key == "mapping" and isinstance(item, dict):
                value[key] = {k: _renamed(v, prefix) for k, v in item.items()}
            else:
                _rename_refs(item, prefix)
    elif isinstance(value, list):
        for item in value:
            _rename_refs(item, prefix)
    return value


def _renamed(ref: str, prefix: str) -> str:
    section, _, name = ref[len(_REF_PREFIX) :].partition("/")
    return f"{_REF_PREFIX}{section}/{prefix}{name}"


_DESCRIPTION = (
    "Microsoft Graph-compatible call records (v1.0 and beta) served by callscope, "
    "plus callscope's own ingestion endpoint."
)
_SECURITY_SCHEMES = {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
_INGEST_PATH = {
    "post": {
        "summary": "Import Graph-shaped call records and log rows (JSON Lines), all or nothing.",
        "operationId": "ingest",
        "requestBody": {
            "required": True,
            "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
        },
        "responses": {
            "200": {
                "description": "Counts of what was written.",
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            "4XX": {"$ref": "#/components/responses/error"},
        },
    }
}
