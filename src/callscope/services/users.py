"""Users of the live-calls API: adding them, and signing them in by password."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from callscope.domain.users import User, default_name, sip_uri
from callscope.errors import Unauthenticated
from callscope.storage import users as store
from callscope.storage.database import Database

# Scopes a password sign-in grants: a user may start calls and receive them.
USER_SCOPES = ("Conversations.Initiate", "Conversations.Receive", "Contacts.ReadWrite")


class Users:
    """User use cases; passwords are hashed with Argon2id."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._hasher = PasswordHasher()

    def add(self, tenant_id: str, name: str, display_name: str | None, password: str | None) -> User:
        """Create (or update) a user; without a password the user signs in with tokens only."""
        uri = sip_uri(name)
        user = User(tenant_id, uri, display_name or default_name(uri))
        hashed = self._hasher.hash(password) if password else None
        with self._database.begin() as conn:
            store.save(conn, user, hashed)
        return user

    def authenticate(self, name: str, password: str) -> User:
        """The user whose name and password these are; Unauthenticated otherwise."""
        found = None
        if "\x00" not in name:  # no user's name holds one, and PostgreSQL refuses to compare text that does
            with self._database.connect() as conn:
                found = store.find_by_uri(conn, sip_uri(name))
        user, hashed = found if found is not None else (None, None)
        if user is None or hashed is None:
            self._hasher.hash(password)  # same work whether or not the user exists
            raise Unauthenticated("unknown user or wrong password")
        try:
            self._hasher.verify(hashed, password)
        except (VerificationError, InvalidHashError) as exc:
            raise Unauthenticated("unknown user or wrong password") from exc
        return user

    def display_name(self, tenant_id: str, uri: str) -> str:
        """The user's name, or a name made from the URI when callscope does not know them."""
        user = self.find(tenant_id, uri)
        return user.display_name if user else default_name(uri)

    def find(self, tenant_id: str, uri: str) -> User | None:
        """A user of a tenant, if callscope knows them."""
        with self._database.connect() as conn:
            return store.find(conn, tenant_id, uri)
