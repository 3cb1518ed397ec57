"""A UCWA application: one device of one user, alive while it keeps polling its event channel."""

from __future__ import annotations

from dataclasses import dataclass

from callscope.errors import InvalidRequest

MAX_INPUT = 100
IDLE_LIMIT_US = 5 * 60 * 1_000_000  # an application that parks no P-GET this long expires


@dataclass(frozen=True)
class Application:
    """What an application was created with and when it was last heard from."""

    tenant_id: str
    id: str
    user_uri: str
    user_agent: str
    endpoint_id: str
    culture: str
    instance_id: str | None
    created_us: int
    last_seen_us: int

    def expired(self, now_us: int) -> bool:
        """Whether it has been idle for longer than applications may be."""
        return now_us - self.last_seen_us > IDLE_LIMIT_US


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
