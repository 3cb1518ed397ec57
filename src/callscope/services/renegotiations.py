"""Operations on an established call: renegotiations (new media, hold, resume), feedback, quality reports."""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection

from callscope.domain import call_events, media_quality
from callscope.domain import calls as domain
from callscope.domain.call_history import FactKind
from callscope.domain.calls import Call, Renegotiation
from callscope.domain.events import EventType
from callscope.domain.negotiation import summarize
from callscope.errors import Conflict, InvalidRequest, NotFound
from callscope.services.calls import Calls
from callscope.services.events import Key


class Renegotiations:
    """Offers on an established call (new media, hold, resume), their answers, and feedback."""

    def __init__(self, calls: Calls) -> None:
        self._calls = calls

    def offer(
        self, tenant_id: str, user_uri: str, app_id: str, call_id: str, sdp: str, operation_id: str | None, resume: bool
    ) -> tuple[Call, Renegotiation]:
        """renegotiations / resumeAudio / resumeAudioVideo: 409 AlreadyExists while one is pending."""
        self._calls.check_application(tenant_id, user_uri, app_id)
        summary = summarize(sdp)
        pending = Renegotiation(secrets.token_hex(6), app_id, sdp, operation_id, summary.held, summary.modalities)
        if resume and summary.held:
            raise InvalidRequest(
                "A resume offer must send and receive media.",
                subcode="ParameterValidationFailure",
                parameters=[{"name": "sdp", "reason": "Invalid"}],
            )

        def change(conn: Connection, call: Call) -> tuple[Call, list[Key]]:
            after = domain.offer(call, app_id, pending, resume)
            events = call_events.renegotiation_events(after, pending, EventType.STARTED)
            return after, [self._calls.publish(conn, after, side, items) for side, items in events.items()]

        return self._calls.change(tenant_id, call_id, app_id, change), pending

    def settle(
        self, tenant_id: str, user_uri: str, app_id: str, call_id: str, renegotiation_id: str, answer_sdp: str | None
    ) -> Call:
        """answer (with SDP) or dismiss (None) the other side's offer."""
        self._calls.check_application(tenant_id, user_uri, app_id)
        if answer_sdp is not None:
            summarize(answer_sdp)

        def change(conn: Connection, call: Call) -> tuple[Call, list[Key]]:
            pending = call.renegotiation
            if pending is None or pending.id != renegotiation_id:
                raise NotFound("No such renegotiation is pending.", subcode="ResourceNotFound")
            after = domain.settle(call, app_id, accepted=answer_sdp is not None)
            status = "Success" if answer_sdp is not None else "Failure"
            events = call_events.renegotiation_events(after, pending, EventType.COMPLETED, status, answer_sdp)
            return after, [self._calls.publish(conn, after, side, items) for side, items in events.items()]

        return self._calls.change(tenant_id, call_id, app_id, change)

    def publish_feedback(
        self, tenant_id: str, user_uri: str, app_id: str, call_id: str, values: dict[str, Any]
    ) -> Call:
        """publishCallQualityFeedback, during or after the call; kept for the call record."""
        self._calls.check_application(tenant_id, user_uri, app_id)
        given = domain.feedback(values)

        def change(conn: Connection, call: Call) -> tuple[Call, list[Key]]:
            if call.connected_us is None or app_id not in (call.caller_app, call.answered_by):
                raise Conflict("Feedback is for a call that was connected.", subcode="OperationNotSupported")
            return replace(call, feedback={**call.feedback, app_id: given}), []

        return self._calls.change(tenant_id, call_id, app_id, change)

    def report_quality(self, tenant_id: str, user_uri: str, app_id: str, call_id: str, body: Any) -> None:
        """A WebRTC getStats() report from one side of a connected call (also after it ended)."""
        self._calls.check_application(tenant_id, user_uri, app_id)
        summary = media_quality.summarize(body)
        self._calls.add_fact(tenant_id, call_id, app_id, FactKind.QUALITY, summary)
