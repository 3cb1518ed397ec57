"""Format-neutral UCWA resources: a rel, properties, links and embedded resources.

A link whose rel may occur more than once is always rendered as a list, even with one member
(list-ness is fixed per rel, not per response). `conversation` is a single link on the resources
callscope serves (as in the audioVideoSession sample); only the `conversations` collection, not
served yet, lists it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

LIST_RELS = frozenset({"participant", "acceptedByParticipant", "contact", "group"})


class Link(NamedTuple):
    """A link: where, and optionally a title and a revision (a tuple: made a dozen times per response)."""

    href: str
    title: str | None = None
    revision: str | None = None


@dataclass
class Resource:
    """A resource as UCWA represents it, before choosing JSON or XML."""

    rel: str
    href: str
    properties: dict[str, Any] = field(default_factory=dict)
    links: dict[str, Link | list[Link]] = field(default_factory=dict)
    embedded: dict[str, Resource | list[Resource]] = field(default_factory=dict)

    def link(self, rel: str, href: str, title: str | None = None, revision: str | None = None) -> Resource:
        """Add a link (chainable)."""
        target = Link(href, title, revision)
        if rel in LIST_RELS:
            existing = self.links.setdefault(rel, [])
            assert isinstance(existing, list)
            existing.append(target)
        else:
            self.links[rel] = target
        return self
