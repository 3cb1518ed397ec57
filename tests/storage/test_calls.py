"""Which applications of a callee ring: available ones that were heard from lately or hold a long P-GET."""

from __future__ import annotations

from callscope.app import Services
from callscope.domain.applications import Application
from callscope.storage import applications as store
from callscope.storage.calls import available_applications


def test_a_long_parked_p_get_keeps_an_application_ringing(services: Services) -> None:
    with services.engine.begin() as conn:
        for app_id, seen in (("stale", 10), ("parked", 10), ("fresh", 1_000)):
            store.insert_one(conn, Application("t", app_id, "sip:b@x", "ua", app_id, "en", None, 0, seen))
            store.set_modalities(conn, "t", app_id, ("Audio",))
        store.park_until(conn, "t", "parked", 5_000)
        assert available_applications(conn, "t", "sip:b@x", seen_since_us=500) == ["fresh", "parked"]
