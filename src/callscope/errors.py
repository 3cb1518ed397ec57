"""The one error tree of callscope; each API dialect maps it to its own wire shape once.

    CallscopeError                 code: a stable, dialect-neutral name
     ├── InvalidRequest            the request is malformed (names the option or field at fault)
     │    ├── InvalidDocument      an ingested document breaks the schema (line and JSON path)
     │    └── RangeTooLarge        a date range is longer than the service allows
     ├── Unauthenticated           no credentials, or credentials that are expired or forged
     ├── Forbidden                 authenticated, but the token lacks the scope
     ├── NotFound                  no such resource for this caller (also: another tenant's)
     ├── MethodNotAllowed          the resource exists but does not take this method
     ├── PayloadTooLarge           the request body is over the configured limit
     ├── Conflict                  the request clashes with the resource's current state
     └── Unavailable               a dependency (database, key store) cannot be reached

No HTTP status lives here: `api/` decides that, in one table per dialect.
"""

from __future__ import annotations


class CallscopeError(Exception):
    """Base of every error callscope raises on purpose."""

    code = "generalException"

    def __init__(self, message: str, *, target: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.target = target


class InvalidRequest(CallscopeError):
    code = "BadRequest"


class InvalidDocument(InvalidRequest):
    code = "InvalidDocument"

    def __init__(self, message: str, *, line: int | None = None, path: str | None = None) -> None:
        where = ", ".join(part for part in (f"line {line}" if line else "", f"at {path}" if path else "") if part)
        super().__init__(f"{message} ({where})" if where else message, target=path)
        self.line = line
        self.path = path


class RangeTooLarge(InvalidRequest):
    code = "NotAcceptable"


class Unauthenticated(CallscopeError):
    code = "InvalidAuthenticationToken"


class Forbidden(CallscopeError):
    code = "Forbidden"


class NotFound(CallscopeError):
    code = "NotFound"


class MethodNotAllowed(CallscopeError):
    code = "MethodNotAllowed"


class PayloadTooLarge(CallscopeError):
    code = "RequestEntityTooLarge"


class Conflict(CallscopeError):
    code = "Conflict"


class Unavailable(CallscopeError):
    code = "ServiceUnavailable"
