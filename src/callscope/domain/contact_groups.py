"""A user's contact groups: a fixed default group and up to 63 named groups of their own.

Skype for Business keeps at most 64 contact groups per user, the default one included, and
numbers them 1 to 64; callscope does the same. A group's number is its slot, so two requests
racing for the last slot cannot both win: the store's key on the slot decides.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from callscope.errors import Conflict, InvalidRequest

MAX_GROUPS = 64
DEFAULT_GROUP = 1
DEFAULT_GROUP_NAME = "Other Contacts"
NAME_MAX = 256


@dataclass(frozen=True)
class ContactGroup:
    """One group of a user's contact list."""

    tenant_id: str
    user_uri: str
    number: int
    name: str

    @property
    def is_default(self) -> bool:
        """The system's group, which every user has and nobody removes."""
        return self.number == DEFAULT_GROUP


def default_group(tenant_id: str, user_uri: str) -> ContactGroup:
    """The default group of a user."""
    return ContactGroup(tenant_id, user_uri, DEFAULT_GROUP, DEFAULT_GROUP_NAME)


def checked_name(name: object) -> str:
    """A group name: 1 to 256 characters after trimming; 400 otherwise."""
    text = name.strip() if isinstance(name, str) else ""
    if not text or len(text) > NAME_MAX:
        raise InvalidRequest(
            f"A group needs a name of 1 to {NAME_MAX} characters.",
            subcode="ParameterValidationFailure",
            parameters=[{"name": "name", "reason": "Invalid"}],
        )
    return text


def next_number(groups: Iterable[ContactGroup], name: str) -> int:
    """The lowest free slot for a new group called `name`; 409 if the name is taken or no slot is left."""
    taken = {DEFAULT_GROUP}
    for group in groups:
        if group.name.casefold() == name.casefold():
            raise Conflict(f"There is already a group called {group.name!r}.", subcode="AlreadyExists")
        taken.add(group.number)
    if DEFAULT_GROUP_NAME.casefold() == name.casefold():
        raise Conflict(f"There is already a group called {DEFAULT_GROUP_NAME!r}.", subcode="AlreadyExists")
    free = next((n for n in range(1, MAX_GROUPS + 1) if n not in taken), None)
    if free is None:
        raise Conflict(f"A contact list holds at most {MAX_GROUPS} groups.", subcode="TooManyGroups")
    return free
