"""UCWA's two wire formats: JSON (`_links`/`_embedded`) and XML (namespace .../rtc/2012/03/ucwa).

Input may come as JSON, as XML `<input>`, as a form, or in the query string; names are matched
without regard to case, as real clients send PascalCase and the reference camelCase. XML input
is parsed with DTDs, entities and network access forbidden.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from lxml import etree

from callscope.api.ucwa.resources import Link, Resource
from callscope.errors import CallscopeError, InvalidRequest, NotAcceptable, UnsupportedMediaType

NAMESPACE = "http://schemas.microsoft.com/rtc/2012/03/ucwa"
JSON_TYPES = ("application/json", "application/vnd.microsoft.com.ucwa+json")
XML_TYPES = ("application/xml", "application/vnd.microsoft.com.ucwa+xml")
_NS = f"{{{NAMESPACE}}}"
# Hardened: no entity expansion, no DTD loading, no network; documents with a DOCTYPE are refused.
_XML_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
)


def negotiate(accept: str | None) -> str:
    """The media type to answer with: JSON unless the client prefers XML; 406 for neither."""
    if not accept or not accept.strip():
        return JSON_TYPES[0]
    offered = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    for media_type in offered:
        if media_type in JSON_TYPES or media_type in XML_TYPES:
            return media_type
        if media_type in ("*/*", "application/*"):
            return JSON_TYPES[0]
    raise NotAcceptable(f"None of '{accept}' can be produced; use application/json or application/xml.")


def is_xml(media_type: str) -> bool:
    """Whether a negotiated media type is one of the XML ones."""
    return media_type in XML_TYPES


def render(resource: Resource, media_type: str) -> bytes:
    """The resource in the chosen format."""
    if is_xml(media_type):
        return _xml_document(resource_element(resource))
    return msgspec.json.encode(to_json(resource))


def to_json(resource: Resource) -> dict[str, Any]:
    """The JSON object of a resource."""
    body: dict[str, Any] = {"rel": resource.rel, **resource.properties}
    links: dict[str, Any] = {"self": {"href": resource.href}}
    links.update({rel: _json_link(target) for rel, target in resource.links.items()})
    body["_links"] = links
    if resource.embedded:
        body["_embedded"] = {
            rel: [to_json(r) for r in item] if isinstance(item, list) else to_json(item)
            for rel, item in resource.embedded.items()
        }
    return body


def _json_link(target: Link | list[Link]) -> Any:
    if isinstance(target, list):
        return [_json_link(t) for t in target]
    link: dict[str, str] = {"href": target.href}
    if target.title is not None:
        link["title"] = target.title
    if target.revision is not None:
        link["revision"] = target.revision
    return link


def resource_element(resource: Resource) -> etree._Element:
    element = etree.Element(f"{_NS}resource", rel=resource.rel, href=resource.href, nsmap={None: NAMESPACE})
    for rel, target in resource.links.items():
        for link in target if isinstance(target, list) else [target]:
            attributes = {"rel": rel, "href": link.href}
            if link.title is not None:
                attributes["title"] = link.title
            if link.revision is not None:
                attributes["revision"] = link.revision
            etree.SubElement(element, f"{_NS}link", attributes)
    _properties(element, {"rel": resource.rel, **resource.properties})
    for _rel, item in resource.embedded.items():
        for embedded in item if isinstance(item, list) else [item]:
            element.append(resource_element(embedded))
    return element


def _properties(element: etree._Element, properties: Mapping[str, Any]) -> None:
    for name, value in properties.items():
        if isinstance(value, list):
            holder = etree.SubElement(element, f"{_NS}propertyList", name=name)
            for item in value:
                etree.SubElement(holder, f"{_NS}item").text = _xml_text(item)
        elif value is not None:
            etree.SubElement(element, f"{_NS}property", name=name).text = _xml_text(value)


def _xml_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _xml_document(element: etree._Element) -> bytes:
    return bytes(etree.tostring(element, xml_declaration=True, encoding="utf-8"))


def error_body(error: CallscopeError, media_type: str) -> bytes:
    """UCWA's error representation (`code`, `subcode`, `message`, `parameters`)."""
    code = _ucwa_code(error)
    if is_xml(media_type):
        reason = etree.Element(f"{_NS}reason", nsmap={None: NAMESPACE})
        etree.SubElement(reason, f"{_NS}code").text = code
        if error.subcode:
            etree.SubElement(reason, f"{_NS}subcode").text = error.subcode
        etree.SubElement(reason, f"{_NS}message").text = error.message
        if error.parameters:
            holder = etree.SubElement(reason, f"{_NS}parameters")
            for parameter in error.parameters:
                etree.SubElement(holder, f"{_NS}parameter", parameter)
        return _xml_document(reason)
    body: dict[str, Any] = {"code": code}
    if error.subcode:
        body["subcode"] = error.subcode
    body["message"] = error.message
    if error.parameters:
        body["parameters"] = error.parameters
    return msgspec.json.encode(body)


_CODES = {
    "BadRequest": "BadRequest",
    "InvalidDocument": "BadRequest",
    "InvalidAuthenticationToken": "Unauthorized",
    "RequestEntityTooLarge": "EntityTooLarge",
    "generalException": "ServiceFailure",
    "InternalServerError": "ServiceFailure",
    "serviceNotAvailable": "ServiceUnavailable",
}


def _ucwa_code(error: CallscopeError) -> str:
    return _CODES.get(error.code, error.code)


def parse_input(body: bytes, content_type: str | None, query: Mapping[str, str]) -> dict[str, Any]:
    """The input values of a POST, keyed by lower-cased name; the body wins over the query."""
    values: dict[str, Any] = {k.lower(): v for k, v in query.items()}
    media_type = (content_type or "").split(";")[0].strip().lower()
    if not body.strip():
        return values
    if media_type in JSON_TYPES:
        values.update(_json_input(body))
    elif media_type in XML_TYPES:
        values.update(_xml_input(body))
    elif media_type == "application/x-www-form-urlencoded":
        from urllib.parse import parse_qsl

        values.update({k.lower(): v for k, v in parse_qsl(body.decode("utf-8", "replace"))})
    else:
        raise UnsupportedMediaType(f"The content type '{media_type or 'none'}' is not supported here.")
    return without_nul(values)


def without_nul(values: dict[str, Any]) -> dict[str, Any]:
    """The inputs, once none holds a NUL character: PostgreSQL's text cannot store one, and a call's
    subject or context carrying one would reach its Graph record (400 naming the input otherwise)."""
    for name, value in values.items():
        if _holds_nul(value):
            raise InvalidRequest(
                f"'{name}' holds a NUL character.",
                subcode="ParameterValidationFailure",
                parameters=[{"name": name, "reason": "Invalid"}],
            )
    return values


def _holds_nul(value: Any) -> bool:
    """Whether any string in a decoded JSON value holds NUL (a walk, not recursion: bodies nest deep)."""
    waiting = [value]
    while waiting:
        item = waiting.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, list):
            waiting += item
        elif isinstance(item, dict):
            waiting += [*item.keys(), *item.values()]
    return False


def _json_input(body: bytes) -> dict[str, Any]:
    try:
        decoded = msgspec.json.decode(body)
    except (msgspec.DecodeError, RecursionError) as exc:  # msgspec raises RecursionError past ~1,000 levels
        raise InvalidRequest(f"The body is not valid JSON: {exc}", subcode="DeserializationFailure") from exc
    if not isinstance(decoded, dict):
        raise InvalidRequest("The body must be a JSON object.", subcode="DeserializationFailure")
    return {str(k).lower(): v for k, v in decoded.items()}


def _xml_input(body: bytes) -> dict[str, Any]:
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise InvalidRequest("XML with a DTD or entities is not accepted.", subcode="DeserializationFailure")
    try:
        root = etree.fromstring(body, parser=_XML_PARSER)
    except etree.XMLSyntaxError as exc:
        raise InvalidRequest(f"The body is not valid XML: {exc}", subcode="DeserializationFailure") from exc
    if root.getroottree().docinfo.doctype:
        raise InvalidRequest("XML with a DTD or entities is not accepted.", subcode="DeserializationFailure")
    values: dict[str, Any] = {}
    for prop in root.iter(f"{_NS}property", "property"):
        values[str(prop.get("name", "")).lower()] = prop.text or ""
    for plist in root.iter(f"{_NS}propertyList", "propertyList"):
        values[str(plist.get("name", "")).lower()] = [item.text or "" for item in plist]
    return values
