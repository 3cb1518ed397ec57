"""PSTN, direct routing, SMS and blocked-user log rows, and the dial-out report built from them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from hashlib import blake2b
from typing import Any

from callscope.domain.timestamps import to_microseconds

MAX_RANGE_DAYS = 90
PAGE_SIZE = 1000


@dataclass(frozen=True)
class LogKind:
    """One kind of log row: its type, the function that lists it, and its time field."""

    name: str
    type_name: str
    function: str
    time_fields: tuple[str, ...]
    beta_only: bool = False


_NS = "microsoft.graph.callRecords"
KINDS = (
    LogKind("pstnCalls", f"{_NS}.pstnCallLogRow", "getPstnCalls", ("startDateTime",)),
    LogKind(
        "directRoutingCalls",
        f"{_NS}.directRoutingLogRow",
        "getDirectRoutingCalls",
        ("startDateTime", "inviteDateTime", "failureDateTime"),
    ),
    LogKind("smsLog", f"{_NS}.smsLogRow", "getSmsLog", ("sentDateTime",), beta_only=True),
    LogKind(
        "pstnBlockedUsersLog",
        f"{_NS}.pstnBlockedUsersLogRow",
        "getPstnBlockedUsersLog",
        ("blockDateTime",),
        beta_only=True,
    ),
)
KINDS_BY_TYPE = {kind.type_name: kind for kind in KINDS}
KINDS_BY_FUNCTION = {kind.function: kind for kind in KINDS}
DIALOUT_REPORT_FUNCTION = "getPstnOnlineMeetingDialoutReport"
DIALOUT_REPORT_TYPE = f"{_NS}.pstnOnlineMeetingDialoutReport"


@dataclass(frozen=True)
class StoredLogRow:
    """A log row ready to be written: its kind, key, time and document."""

    kind: str
    row_key: str
    start_us: int
    document: bytes


def stored_log_row(kind: LogKind, row: Any, document: bytes) -> StoredLogRow | None:
    """Index keys of a decoded row; None when the row has no time to be found by."""
    moment = next((getattr(row, f) for f in kind.time_fields if getattr(row, f, None)), None)
    if moment is None:
        return None
    row_id = getattr(row, "id", None) or getattr(row, "remediationId", None)
    key = row_id or blake2b(document, digest_size=16).hexdigest()
    return StoredLogRow(kind.name, key, to_microseconds(moment), document)


_REPORT_KEYS = (
    "userId",
    "userPrincipalName",
    "userDisplayName",
    "usageCountryCode",
    "destinationContext",
    "currency",
)


def dialout_report(pstn_rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Aggregate conference dial-out calls per user, location, destination context and currency.

    Dial-out from a meeting is the PSTN call type `conf_out` (and its variants such as
    `conf_out_to_user`); the cost of a call is its charge plus its connection charge.
    """
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in pstn_rows:
        if not str(row.get("callType") or "").startswith("conf_out"):
            continue
        key = tuple(row.get(f) for f in _REPORT_KEYS)
        total = groups.setdefault(key, _empty_report(row))
        total["totalCalls"] += 1
        total["totalCallSeconds"] += row.get("duration") or 0
        cost = (row.get("charge") or 0) + (row.get("connectionCharge") or 0)
        total["totalCallCharge"] = round(total["totalCallCharge"] + cost, 6)
    return list(groups.values())


def _empty_report(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "@odata.type": f"#{DIALOUT_REPORT_TYPE}",
        "userId": row.get("userId"),
        "userPrincipalName": row.get("userPrincipalName"),
        "userDisplayName": row.get("userDisplayName"),
        "usageLocation": row.get("usageCountryCode"),
        "destinationContext": row.get("destinationContext"),
        "currency": row.get("currency"),
        "totalCalls": 0,
        "totalCallSeconds": 0,
        "totalCallCharge": 0.0,
    }
