"""`$metadata` is the CSDL of the namespace and loads in an OData V4 client library."""

from __future__ import annotations

import httpx
import pytest
from lxml import etree

EDM = "{http://docs.oasis-open.org/odata/ns/edm}"


@pytest.mark.parametrize("version", ["v1.0", "beta"])
def test_metadata_loads_in_an_odata_v4_client(base_url: str, version: str) -> None:
    from odata import ODataService

    service = ODataService(f"{base_url}/{version}/", reflect_entities=True)
    assert "communications" in service.entities
    schemas, _sets, _actions, functions = service.metadata.parse_document(service.metadata.load_document())
    call_records = next(s for s in schemas if s["name"] == "microsoft.graph.callRecords")
    entity_names = {e["name"] for e in call_records["entities"]}
    assert {"callRecord", "session", "segment", "participant", "organizer"} <= entity_names
    assert "getPstnCalls" in {f["name"] for f in functions}


@pytest.mark.parametrize("version", ["v1.0", "beta"])
def test_metadata_declares_every_type_and_function_served(base_url: str, version: str) -> None:
    response = httpx.get(f"{base_url}/{version}/$metadata")
    assert response.headers["content-type"].startswith("application/xml")
    root = etree.fromstring(response.content)
    schema = next(s for s in root.iter(f"{EDM}Schema") if s.get("Namespace") == "microsoft.graph.callRecords")
    names = {e.get("Name") for e in schema}
    assert {"callRecord", "session", "segment", "media", "mediaStream", "pstnCallLogRow", "getPstnCalls"} <= names
    assert ("getSmsLog" in names) == (version == "beta")
