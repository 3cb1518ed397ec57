"""Contact groups of a user's contact list: list, create (at most 64), read, remove."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from callscope.domain.contact_groups import ContactGroup, checked_name, default_group, next_number
from callscope.errors import Conflict, Forbidden, NotFound
from callscope.storage import contact_groups as store
from callscope.storage.database import Database

_ATTEMPTS = 3  # a slot taken by a concurrent create is retried with the next free one


class ContactGroups:
    """Contact-group use cases; a user sees only their own groups."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def list(self, tenant_id: str, user_uri: str) -> list[ContactGroup]:
        """The default group, then the user's own groups by number."""
        with self._database.connect() as conn:
            return [default_group(tenant_id, user_uri), *store.find_all(conn, tenant_id, user_uri)]

    def get(self, tenant_id: str, user_uri: str, number: str) -> ContactGroup:
        """One group, or 404."""
        for group in self.list(tenant_id, user_uri):
            if str(group.number) == number:
                return group
        raise NotFound("There is no such group.", subcode="ResourceNotFound")

    def create(self, tenant_id: str, user_uri: str, name: object) -> ContactGroup:
        """A new group in the lowest free slot; 409 AlreadyExists or TooManyGroups."""
        text = checked_name(name)
        for _attempt in range(_ATTEMPTS):
            try:
                with self._database.begin() as conn:
                    number = next_number(store.find_all(conn, tenant_id, user_uri), text)
                    group = ContactGroup(tenant_id, user_uri, number, text)
                    store.add(conn, group)
                    return group
            except IntegrityError:  # a concurrent create took the slot or the name: look again
                continue
        raise Conflict(
            "Other groups were being created at the same time; try again.", subcode="AnotherOperationPending"
        )

    def remove(self, tenant_id: str, user_uri: str, number: str) -> None:
        """Remove one of the user's own groups; the default group stays (403)."""
        group = self.get(tenant_id, user_uri, number)
        if group.is_default:
            raise Forbidden("The default group cannot be removed.")
        with self._database.begin() as conn:
            store.remove(conn, tenant_id, user_uri, group.number)
