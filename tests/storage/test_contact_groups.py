"""The store keeps group slots and names unique per user, whatever races the service loses."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from callscope.app import Services
from callscope.domain.contact_groups import ContactGroup
from callscope.storage import contact_groups as store


@pytest.mark.parametrize(("number", "name"), [(3, "team"), (2, "Other")])
def test_a_second_group_with_the_same_name_or_slot_is_refused(services: Services, number: int, name: str) -> None:
    with services.engine.begin() as conn:
        store.add(conn, ContactGroup("t", "sip:a@x", 2, "Team"))
    with pytest.raises(IntegrityError), services.engine.begin() as conn:
        store.add(conn, ContactGroup("t", "sip:a@x", number, name))
    with services.engine.begin() as conn:
        store.add(conn, ContactGroup("t", "sip:b@x", 2, "Team"))  # another user's list is another list
        assert [g.name for g in store.find_all(conn, "t", "sip:a@x")] == ["Team"]
