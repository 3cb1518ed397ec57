"""Slots and names of contact groups."""

from __future__ import annotations

import pytest

from callscope.domain.contact_groups import MAX_GROUPS, ContactGroup, checked_name, next_number
from callscope.errors import Conflict, InvalidRequest


def _groups(*numbers: int) -> list[ContactGroup]:
    return [ContactGroup("t", "sip:a@x", n, f"g{n}") for n in numbers]


def test_the_lowest_free_slot_after_the_default_group_is_used() -> None:
    assert next_number([], "new") == 2
    assert next_number(_groups(2, 3, 5), "new") == 4


def test_names_clash_without_regard_to_case_including_the_default_group() -> None:
    with pytest.raises(Conflict) as clash:
        next_number(_groups(2), "G2")
    assert clash.value.subcode == "AlreadyExists"
    with pytest.raises(Conflict):
        next_number([], "other contacts")


def test_no_slot_left_is_too_many_groups() -> None:
    with pytest.raises(Conflict) as full:
        next_number(_groups(*range(2, MAX_GROUPS + 1)), "new")
    assert full.value.subcode == "TooManyGroups"


@pytest.mark.parametrize("name", [None, "", "   ", "x" * 257, 3])
def test_names_must_be_1_to_256_characters(name: object) -> None:
    with pytest.raises(InvalidRequest):
        checked_name(name)
    assert checked_name("  Team ") == "Team"
