"""A UCWA application: one device of one user, alive while it keeps polling its event channel."""

from __future__ import annotations

import functools
import zlib

import msgspec

from callscope.domain.events import Channel
from callscope.domain.guids import name_guid
from callscope.errors import InvalidRequest

MAX_INPUT = 100
IDLE_LIMIT_US = 5 * 60 * 1_000_000  # an application that parks no P-GET this long expires


class Application(msgspec.Struct, frozen=True):
    """What an application was created with and when it was last heard from (a Struct: every request of a live
    call reads its application, and reading one from its row took 3.8 µs as a frozen dataclass, 1.8 as a Struct)."""

    tenant_id: str
    id: str
    user_uri: str
    user_agent: str
    endpoint_id: str
    culture: str
    instance_id: str | None
    created_us: int
    last_seen_us: int
    parked_until_us: int | None = None  # a P-GET parked with a long timeout counts as activity until then
    pget_timing: dict[str, int] = msgspec.field(default_factory=dict)  # timeout/medium/low last given: sticky
    modalities: tuple[str, ...] | None = None  # None until makeMeAvailable
    channel: Channel = msgspec.field(default_factory=Channel)

    @property
    def available(self) -> bool:
        """Whether incoming invitations are offered to it (after makeMeAvailable)."""
        return self.modalities is not None

    def expired(self, now_us: int) -> bool:
        """Whether it has been idle for longer than applications may be."""
        return now_us - self.active_until_us > IDLE_LIMIT_US

    @property
    def active_until_us(self) -> int:
        """The last moment the application is known to be active: its last request, or its parked P-GET's end."""
        return max(self.last_seen_us, self.parked_until_us or 0)

    def outlived_by(self, parked_until_us: int) -> bool:
        """Whether a P-GET parked until then would outlast the application's idle limit (and must be noted)."""
        return parked_until_us > self.active_until_us + IDLE_LIMIT_US - 60_000_000  # a minute to spare


def check_inputs(values: dict[str, str | None]) -> None:
    """UserAgent, EndpointId and Culture are required, each at most 100 characters."""
    faults = [
        {"name": name, "reason": "Missing" if not values.get(name) else "TooLong"}
        for name in ("userAgent", "endpointId", "culture")
        if not values.get(name) or len(str(values[name])) > MAX_INPUT
    ]
    instance = values.get("instanceId")
    if instance and len(instance) > MAX_INPUT:
        faults.append({"name": "instanceId", "reason": "TooLong"})
    if faults:
        raise InvalidRequest(
            "Some input parameters are missing or invalid.",
            subcode="ParameterValidationFailure",
            parameters=faults,
        )


MODALITY_TYPES = (
    "Audio",
    "Video",
    "Messaging",
    "PanoramicVideo",
    "PhoneAudio",
    "ApplicationSharing",
    "DataCollaboration",
)


def supported_modalities(values: object) -> tuple[str, ...]:
    """makeMeAvailable's `SupportedModalities`, spelled as UCWA spells them; unknown names are refused."""
    items = values if isinstance(values, list) else [v for v in str(values or "").split(",") if v]
    by_lower = {m.lower(): m for m in MODALITY_TYPES}
    unknown = [str(v) for v in items if str(v).strip().lower() not in by_lower]
    if unknown:
        raise InvalidRequest(
            f"Unknown modalities: {', '.join(unknown)}.",
            subcode="ParameterValidationFailure",
            parameters=[{"name": "supportedModalities", "reason": "Invalid"}],
        )
    return tuple(dict.fromkeys(by_lower[str(v).strip().lower()] for v in items))


PUT_MARKER = "please pass this in a PUT request"


@functools.lru_cache(maxsize=4096)  # rendered with every communication resource and event of it
def put_token(application_id: str) -> str:
    """The per-resource GUID a client must echo in a PUT (UCWA's guard against partial updates)."""
    return name_guid(f"callscope:communication:{application_id}")


def communication_etag(modalities: tuple[str, ...] | list[str]) -> str:
    """The entity tag of an application's `communication` resource: changes with its settings."""
    return str(zlib.crc32(",".join(modalities).encode()))
