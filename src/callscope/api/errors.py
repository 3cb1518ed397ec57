"""The one mapping from callscope's error tree to HTTP statuses, walked along the MRO."""

from __future__ import annotations

from callscope import errors

STATUS: dict[type[errors.CallscopeError], int] = {
    errors.InvalidRequest: 400,
    errors.RangeTooLarge: 406,
    errors.Unauthenticated: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Gone: 410,
    errors.MethodNotAllowed: 405,
    errors.NotAcceptable: 406,
    errors.UnsupportedMediaType: 415,
    errors.Conflict: 409,
    errors.PreconditionRequired: 428,
    errors.PreconditionFailed: 412,
    errors.Throttled: 429,
    errors.PayloadTooLarge: 413,
    errors.Unavailable: 503,
    errors.Busy: 503,
    errors.CallscopeError: 500,
}


def status_of(error: errors.CallscopeError) -> int:
    """The HTTP status of the most specific class of the error that has one."""
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500
