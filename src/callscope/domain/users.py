"""People who sign in to the live-calls API; their identity is a SIP URI."""

from __future__ import annotations

from dataclasses import dataclass

from callscope.errors import InvalidRequest


@dataclass(frozen=True)
class User:
    """A user of one tenant."""

    tenant_id: str
    uri: str
    display_name: str


def default_name(uri: str) -> str:
    """What to call someone callscope knows only by URI: the part before the @."""
    return uri.removeprefix("sip:").split("@")[0]


def sip_uri(name: str) -> str:
    """`Alice@Example.com` or `sip:alice@example.com` as the SIP URI `sip:alice@example.com`."""
    bare = name[4:] if name.lower().startswith("sip:") else name
    local, at, domain = bare.partition("@")
    if not local or not at or not domain or any(c.isspace() for c in bare):
        raise InvalidRequest(f"'{name}' is not a user name of the form user@domain.", target="user")
    return f"sip:{local}@{domain}".lower()  # sign-in names match without regard to case
