"""Application liveness: requests and long parked P-GETs keep an application active."""

from __future__ import annotations

from msgspec.structs import replace

from callscope.domain.applications import IDLE_LIMIT_US, Application

APP = Application("t", "a1", "sip:a@x", "agent", "device", "en-US", None, created_us=0, last_seen_us=0)
MINUTE = 60_000_000


def test_an_application_expires_after_the_idle_limit_without_requests() -> None:
    assert not APP.expired(IDLE_LIMIT_US)
    assert APP.expired(IDLE_LIMIT_US + 1)


def test_a_p_get_parked_for_thirty_minutes_keeps_it_alive_until_it_ends() -> None:
    assert not APP.outlived_by(3 * MINUTE)  # UCWA's default 180 s fits in the idle limit
    assert APP.outlived_by(30 * MINUTE)
    parked = replace(APP, parked_until_us=30 * MINUTE)
    assert not parked.expired(30 * MINUTE + IDLE_LIMIT_US)
    assert parked.expired(30 * MINUTE + IDLE_LIMIT_US + 1)
    assert not parked.outlived_by(30 * MINUTE)  # already noted: no second write
