"""The one error tree of callscope; each API dialect maps it to its own wire shape once.

    CallscopeError                 code: a stable, dialect-neutral name
     ├── InvalidRequest            the request is malformed (names the option or field at fault)
     │    ├── InvalidDocument      an ingested document breaks the schema (line and JSON path)
     │    └── RangeTooLarge        a date range is longer than the service allows
     ├── Unauthenticated           no credentials, or credentials that are expired or forged
     ├── Forbidden                 authenticated, but the token lacks the scope
     ├── NotFound                  no such resource for this caller (also: another tenant's)
     ├── Gone                      the resource existed and has expired
     ├── MethodNotAllowed          the resource exists but does not take this method
     ├── NotAcceptable             no representation the client accepts
     ├── UnsupportedMediaType      a request body in a format the resource does not read
     ├── PayloadTooLarge           the request body is over the configured limit
     ├── Conflict                  the request clashes with the resource's current state
     ├── PreconditionRequired      a conditional request was needed (PUT without If-Match)
     ├── PreconditionFailed        the condition did not hold (stale ETag)
     ├── Throttled                 too many requests; try again later
     ├── Unavailable               a dependency (database, key store) cannot be reached
     ├── Busy                      the database stayed locked by other writes; try again shortly
     └── UnsupportedStoreVersion   the database was migrated by a newer callscope

Every error may carry a `subcode` (UCWA's finer reason, e.g. ApplicationNotFound) and, for
invalid input, the `parameters` at fault. No HTTP status lives here: `api/` decides that, in
one table per dialect.
"""

from __future__ import annotations


class CallscopeError(Exception):
    """Base of every error callscope raises on purpose."""

    code = "generalException"

    def __init__(
        self,
        message: str,
        *,
        target: str | None = None,
        subcode: str | None = None,
        parameters: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.target = target
        self.subcode = subcode
        self.parameters = parameters


class InvalidRequest(CallscopeError):
    code = "BadRequest"


class InvalidDocument(InvalidRequest):
    code = "InvalidDocument"

    def __init__(self, message: str, *, line: int | None = None, path: str | None = None) -> None:
        where = ", ".join(part for part in (f"line {line}" if line else "", f"at {path}" if path else "") if part)
        super().__init__(f"{message} ({where})" if where else message, target=path)
        self.detail = message  # what is wrong, without where
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


class Gone(CallscopeError):
    code = "Gone"


class MethodNotAllowed(CallscopeError):
    code = "MethodNotAllowed"


class NotAcceptable(CallscopeError):
    code = "NotAcceptable"


class UnsupportedMediaType(CallscopeError):
    code = "UnsupportedMediaType"


class PayloadTooLarge(CallscopeError):
    code = "RequestEntityTooLarge"


class Conflict(CallscopeError):
    code = "Conflict"


class PreconditionRequired(CallscopeError):
    code = "PreconditionRequired"


class PreconditionFailed(CallscopeError):
    code = "PreconditionFailed"


class Throttled(CallscopeError):
    code = "TooManyRequests"


class Unavailable(CallscopeError):
    code = "ServiceUnavailable"


class Busy(CallscopeError):
    """A write waited for the database's lock (SQLite's one writer, a PostgreSQL lock) and gave up."""

    code = "serviceNotAvailable"


class UnsupportedStoreVersion(CallscopeError):
    """The database has been migrated to a schema this process does not know."""
