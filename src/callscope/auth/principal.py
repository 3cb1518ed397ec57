"""Who is calling: tenant, subject and the scopes their token grants."""

from __future__ import annotations

from dataclasses import dataclass

from callscope.errors import Forbidden


@dataclass(frozen=True)
class Principal:
    """The verified identity behind a request."""

    tenant_id: str
    subject: str
    scopes: frozenset[str]
    expires_at: float = 0.0

    def require_any(self, scopes: frozenset[str]) -> None:
        """Raise Forbidden unless the token grants at least one of these scopes."""
        if scopes and not scopes & self.scopes:
            wanted = " or ".join(sorted(scopes))
            raise Forbidden(f"the token lacks the permission this needs: {wanted}")
