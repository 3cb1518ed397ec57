"""Validate response bodies against the official OpenAPI descriptions in shared/spec."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from openapi_schema_validator import OAS30Validator

SHARED_SPEC = Path(__file__).resolve().parents[3] / "shared" / "spec"


@cache
def spec(version: str) -> dict[str, Any]:
    """The official description of a version (shared/spec, else the packaged copy of it)."""
    shared = SHARED_SPEC / f"graph-callrecords-{version}.openapi.yaml"
    if shared.exists():
        text = shared.read_text()
    else:
        text = resources.files("callscope.schemas").joinpath(f"{version}.openapi.yaml").read_text()
    document: dict[str, Any] = yaml.safe_load(text)
    return document


def _pattern(template: str) -> re.Pattern[str]:
    head, paren, _ = template.partition("(")
    regex = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(head))
    return re.compile("^" + regex + (r"\(.*\)" if paren else "") + "$")


def response_schema(version: str, path: str, status: int) -> dict[str, Any]:
    """A schema, relative to the document root, for the GET response of a concrete path."""
    document = spec(version)
    matches = [t for t in document["paths"] if _pattern(t).match(path)]
    assert matches, f"{path} is not described in the {version} OpenAPI document"
    template = max(matches, key=lambda t: (-t.count("{"), len(t)))
    responses = document["paths"][template]["get"]["responses"]
    response = responses.get("2XX" if status < 300 else "4XX")
    if "$ref" in response:
        response = _resolve(document, response["$ref"])
    content = response["content"]
    media = content.get("application/json") or content.get("text/plain")
    return dict(media["schema"])


def component(version: str, name: str) -> dict[str, Any]:
    """A reference to a component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


def _resolve(document: dict[str, Any], ref: str) -> dict[str, Any]:
    node: Any = document
    for part in ref.lstrip("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return dict(node)


def validate(version: str, schema: dict[str, Any], body: Any) -> None:
    """Raise if the body breaks the schema; `$ref`s resolve inside the version's document."""
    root = {**spec(version), **schema}
    OAS30Validator(root).validate(body)
