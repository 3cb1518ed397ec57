"""The outbox store: a message's id is never given to another, so deleting by id after delivery takes only it."""

from __future__ import annotations

from callscope.app import Services
from callscope.storage import outbox


def test_a_message_claimed_and_then_removed_leaves_its_id_to_no_other(services: Services) -> None:
    with services.engine.begin() as conn:
        outbox.add(conn, [outbox.Outgoing("t", "kept", "https://x/1", b"{}")], now_us=1)
        outbox.add(conn, [outbox.Outgoing("t", "gone", "https://x/2", b"{}")], now_us=1)
        claimed = outbox.claim(conn, now_us=2, lease_us=1_000_000, limit=10)
        outbox.remove_for(conn, "t", "gone")  # its subscription is deleted while it is being delivered
        outbox.add(conn, [outbox.Outgoing("t", "new", "https://x/3", b"{}")], now_us=3)
        gone = next(m for m in claimed if m.subscription_id == "gone")
        outbox.delivered(conn, gone.id)  # the delivery of the removed message ends
        assert outbox.pending(conn) == 2  # the newer message is still there
