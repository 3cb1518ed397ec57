"""Name-derived GUIDs are exactly the standard library's version 5 GUIDs."""

from __future__ import annotations

import uuid

import pytest

from callscope.domain.guids import name_guid


@pytest.mark.parametrize("name", ["", "sip:alice@example.com", "callscope:tenant-1:c0ffee", "Zoë 日本 " * 30])
def test_a_name_gives_the_uuid5_of_the_url_namespace(name: str) -> None:
    assert name_guid(name) == str(uuid.uuid5(uuid.NAMESPACE_URL, name))
