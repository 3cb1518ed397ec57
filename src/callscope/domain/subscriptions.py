"""Graph change-notification subscriptions to call records, and the notifications they are sent.

A subscription names `/communications/callRecords` (optionally narrowed to records with one
participant), the change types it wants, where to deliver, and when it expires: at most 4,230
minutes ahead; an expiry less than 45 minutes ahead is raised to 45, as Graph does. A record's
first version is a `created` change, every later version an `updated` one; a subscription that
asked only for `updated` gets the first version as `updated` too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from callscope.domain.timestamps import format_graph, from_microseconds, to_microseconds
from callscope.errors import InvalidRequest

MAX_LIFETIME_US = 4230 * 60_000_000
MIN_LIFETIME_US = 45 * 60_000_000
CLIENT_STATE_MAX = 128
CHANGE_TYPES = ("created", "updated")
RESOURCE = "communications/callRecords"
_FILTER = re.compile(
    r"^communications/callRecords\?\$filter=participants(?:_v2)?/any\((\w+):\1/id eq '([^']{1,128})'\)$", re.IGNORECASE
)


@dataclass(frozen=True)
class Subscription:
    """One tenant's subscription."""

    tenant_id: str
    id: str
    resource: str
    change_types: tuple[str, ...]
    notification_url: str
    lifecycle_url: str | None
    client_state: str | None
    expires_us: int
    participant_id: str | None  # only records with this participant, when set
    creator_id: str
    created_us: int

    def wants(self, version: int, participant_ids: frozenset[str], now_us: int) -> str | None:
        """The change type to notify for this version of a record, or None when it is not wanted."""
        if now_us >= self.expires_us:
            return None
        if self.participant_id is not None and self.participant_id not in participant_ids:
            return None
        if version == 1 and "created" in self.change_types:
            return "created"
        return "updated" if "updated" in self.change_types else None


def requested(body: Any, tenant_id: str, subscription_id: str, creator_id: str, now_us: int) -> Subscription:
    """A new subscription from a POST body; 400 naming the property at fault."""
    if not isinstance(body, dict):
        raise _invalid("The body must be a JSON object.", "body")
    values = {str(k).lower(): v for k, v in body.items() if not str(k).startswith("@odata.")}
    resource, participant = _resource(values.get("resource"))
    return Subscription(
        tenant_id=tenant_id,
        id=subscription_id,
        resource=resource,
        change_types=_change_types(values.get("changetype")),
        notification_url=_url(values.get("notificationurl"), "notificationUrl"),
        lifecycle_url=None
        if values.get("lifecyclenotificationurl") is None
        else _url(values["lifecyclenotificationurl"], "lifecycleNotificationUrl"),
        client_state=_client_state(values.get("clientstate")),
        expires_us=expiry(values.get("expirationdatetime"), now_us),
        participant_id=participant,
        creator_id=creator_id,
        created_us=now_us,
    )


def renewed(subscription: Subscription, body: Any, now_us: int) -> Subscription:
    """PATCH: only `expirationDateTime` may change."""
    if not isinstance(body, dict) or not body:
        raise _invalid("The body must be a JSON object with expirationDateTime.", "expirationDateTime")
    other = [k for k in body if str(k).lower() != "expirationdatetime" and not str(k).startswith("@odata.")]
    if other:
        raise _invalid(f"Only expirationDateTime can be changed, not {other[0]}.", str(other[0]))
    key = next(k for k in body if str(k).lower() == "expirationdatetime")
    return replace(subscription, expires_us=expiry(body[key], now_us))


def expiry(value: Any, now_us: int) -> int:
    """`expirationDateTime` in microseconds: in the future, at most 4,230 minutes ahead, at least 45."""
    if not isinstance(value, str):
        raise _invalid("expirationDateTime is required (an ISO 8601 date and time).", "expirationDateTime")
    try:
        moment = to_microseconds(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise _invalid(f"expirationDateTime {value!r} is not an ISO 8601 date and time.", "expirationDateTime") from exc
    if moment <= now_us:
        raise _invalid("expirationDateTime must be in the future.", "expirationDateTime")
    if moment - now_us > MAX_LIFETIME_US:
        raise _invalid(
            "Subscription expiration can only be 4230 minutes in the future for call records.", "expirationDateTime"
        )
    return max(moment, now_us + MIN_LIFETIME_US)


def as_graph(subscription: Subscription) -> dict[str, Any]:
    """The subscription as Graph represents it."""
    return {
        "@odata.type": "#microsoft.graph.subscription",
        "id": subscription.id,
        "resource": subscription.resource,
        "applicationId": None,
        "changeType": ",".join(subscription.change_types),
        "clientState": subscription.client_state,
        "notificationUrl": subscription.notification_url,
        "lifecycleNotificationUrl": subscription.lifecycle_url,
        "expirationDateTime": format_graph(from_microseconds(subscription.expires_us)),
        "creatorId": subscription.creator_id,
        "includeResourceData": False,
        "latestSupportedTlsVersion": "v1_2",
        "encryptionCertificate": None,
        "encryptionCertificateId": None,
        "notificationQueryOptions": None,
        "notificationUrlAppId": None,
    }


def notification(subscription: Subscription, change_type: str, record_id: str) -> dict[str, Any]:
    """One item of a `changeNotificationCollection` about a record."""
    resource = f"{RESOURCE}/{record_id}"
    return {
        "subscriptionId": subscription.id,
        "clientState": subscription.client_state,
        "changeType": change_type,
        "resource": resource,
        "subscriptionExpirationDateTime": format_graph(from_microseconds(subscription.expires_us)),
        "resourceData": {"@odata.type": "#Microsoft.Graph.callrecord", "@odata.id": resource, "id": record_id},
        "tenantId": subscription.tenant_id,
    }


def lifecycle(subscription: Subscription, event: str) -> dict[str, Any]:
    """One item of a lifecycle notification (`subscriptionRemoved`, `missed`, `reauthorizationRequired`)."""
    return {
        "subscriptionId": subscription.id,
        "subscriptionExpirationDateTime": format_graph(from_microseconds(subscription.expires_us)),
        "tenantId": subscription.tenant_id,
        "clientState": subscription.client_state,
        "lifecycleEvent": event,
    }


def _resource(value: Any) -> tuple[str, str | None]:
    text = value.strip().lstrip("/") if isinstance(value, str) else ""
    if text.lower() == RESOURCE.lower():
        return f"/{RESOURCE}", None
    match = _FILTER.match(text)
    if match is None:
        raise _invalid(
            "resource must be /communications/callRecords, optionally with"
            " ?$filter=participants/any(p:p/id eq '{id}').",
            "resource",
        )
    return f"/{text}", match.group(2)


def _change_types(value: Any) -> tuple[str, ...]:
    parts = [p.strip() for p in value.split(",")] if isinstance(value, str) else []
    if not parts or any(p not in CHANGE_TYPES for p in parts):
        raise _invalid("changeType must be created, updated, or both separated by a comma.", "changeType")
    return tuple(t for t in CHANGE_TYPES if t in parts)


def _url(value: Any, name: str) -> str:
    text = value if isinstance(value, str) else ""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(text) > 2048:
        raise _invalid(f"{name} must be an absolute http or https URL.", name)
    return text


def _client_state(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > CLIENT_STATE_MAX or "\x00" in value:
        raise _invalid(
            f"clientState must be a string of at most {CLIENT_STATE_MAX} characters, none of them NUL.", "clientState"
        )
    return value


def _invalid(message: str, target: str) -> InvalidRequest:
    return InvalidRequest(message, target=target)
