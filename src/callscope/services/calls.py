"""Audio/video calls: start, ring, accept, decline, cancel, time out, hang up; each in one transaction."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection

from callscope.domain import call_events
from callscope.domain import calls as domain
from callscope.domain.applications import IDLE_LIMIT_US
from callscope.domain.call_history import Fact, FactKind
from callscope.domain.calls import Call, CallState, Outcome
from callscope.domain.events import Event
from callscope.domain.negotiation import summarize
from callscope.domain.users import sip_uri
from callscope.errors import Conflict, InvalidRequest, NotFound
from callscope.services.applications import Applications, Clock, system_clock
from callscope.services.bridge import Bridge
from callscope.services.events import EventChannels, Key
from callscope.services.users import Users
from callscope.storage import calls as store
from callscope.storage.database import Database

RING_TIMEOUT_US = 30_000_000  # unanswered calls end after this long
Change = Callable[[Connection, Call], tuple[Call, list[Key]]]  # a call's change: the call after, events' keys


class Calls:
    """Call use cases; every change writes the call and the events of every side together."""

    def __init__(
        self,
        database: Database,
        applications: Applications,
        channels: EventChannels,
        users: Users,
        bridge: Bridge,
        clock: Clock = system_clock,
        ring_timeout_us: int = RING_TIMEOUT_US,
    ) -> None:
        self._database = database
        self._applications = applications
        self._channels = channels
        self._users = users
        self._bridge = bridge
        self._clock = clock
        self.ring_timeout_us = ring_timeout_us

    def start(self, tenant_id: str, user_uri: str, app_id: str, inputs: dict[str, str | None], sdp: str) -> Call:
        """startAudioVideo: the caller's outgoing invitation and every available callee device ringing."""
        self._applications.get(tenant_id, user_uri, app_id)
        summary = summarize(sdp)
        callee = sip_uri(str(inputs.get("to") or ""))
        if self._users.find(tenant_id, callee) is None:
            raise NotFound(f"Nobody called {callee} is known here.", subcode="DestinationNotFound")
        now = self._clock()
        with self._database.begin() as conn:
            offered = tuple(
                a for a in store.available_applications(conn, tenant_id, callee, now - IDLE_LIMIT_US) if a != app_id
            )
            call = Call(
                tenant_id,
                secrets.token_hex(8),
                app_id,
                user_uri,
                callee,
                inputs.get("subject"),
                inputs.get("operationId"),
                inputs.get("sessionContext"),
                sdp,
                summary.modalities,
                now,
                offered,
            )
            store.insert_one(conn, call)
            self._bridge.track(conn, None, call)
            keys = [self.publish(conn, call, app_id, call_events.started_events(call, app_id))]
            keys += [self.publish(conn, call, a, call_events.started_events(call, a)) for a in offered]
            if not offered:
                ended = domain.transition(call, CallState.ENDED, outcome=Outcome.UNAVAILABLE, ended_us=now)
                store.save(conn, call, ended)
                self._bridge.track(conn, call, ended)
                keys += self._fail(conn, ended)
                call = ended
        self._channels.notify(keys)
        self._bridge.committed()
        return call

    def add_audio_video(
        self, tenant_id: str, user_uri: str, app_id: str, call_id: str, inputs: dict[str, str | None], sdp: str
    ) -> Call:
        """addAudioVideo: a new audio/video session in an Idle conversation, ringing the other side's device."""
        self._applications.get(tenant_id, user_uri, app_id)
        summary = summarize(sdp)

        def change(conn: Connection, call: Call) -> tuple[Call, list[Key]]:
            now = self._clock()
            offer = replace(
                call,
                offer_sdp=sdp,
                modalities=summary.modalities,
                operation_id=inputs.get("operationId"),
                caller_context=inputs.get("sessionContext"),
                created_us=now,
            )
            after = domain.add_audio_video(call, app_id, offer)
            return after, [
                self.publish(conn, after, a, call_events.started_events(after, a)) for a in (app_id, *after.offered)
            ]

        return self.change(tenant_id, call_id, app_id, change)

    def accept(
        self, tenant_id: str, user_uri: str, app_id: str, invitation_id: str, sdp: str, context: str | None
    ) -> Call:
        """acceptWithAnswer from one of the callee's devices; the others see it taken."""
        self._applications.get(tenant_id, user_uri, app_id)
        summarize(sdp)

        def change(conn: Connection, call: Call) -> tuple[Call, list[Key]]:
            if app_id not in call.offered:
                raise NotFound("No such invitation for this application.", subcode="ResourceNotFound")
            after = domain.transition(
                call,
                CallState.ESTABLISHED,
                answered_by=app_id,
                callee_context=context,
                answer_sdp=sdp,
                connected_us=self._clock(),
            )
            keys = [
                self.publish(conn, after, a, call_events.established_events(after, a))
                for a in (call.caller_app, app_id)
            ]
            elsewhere = domain.reason(Outcome.HUNG_UP, False) | {
                "subcode": "ConnectedElsewhere",
                "message": "Another device answered the call.",
            }
            keys += [
                self.publish(conn, after, a, call_events.failed_events(after, a, elsewhere))
                for a in call.offered
                if a != app_id
            ]
            return after, keys

        return self._change_invitation(tenant_id, invitation_id, app_id, change)

    def provisional_answer(self, tenant_id: str, user_uri: str, app_id: str, invitation_id: str, sdp: str) -> Call:
        """sendProvisionalAnswer: the caller gets the early-media answer; the call keeps ringing."""
        self._applications.get(tenant_id, user_uri, app_id)
        summarize(sdp)

        def change(conn: Connection, call: Call) -> tuple[Call, list[Key]]:
            after = domain.provisional_answer(call, app_id, sdp)
            return after, [self.publish(conn, after, call.caller_app, call_events.negotiation_events(after))]

        return self._change_invitation(tenant_id, invitation_id, app_id, change)

    def decline(self, tenant_id: str, user_uri: str, app_id: str, invitation_id: str) -> Call:
        """decline from a callee device: the session ends for everyone (the first one with its conversation)."""
        self._applications.get(tenant_id, user_uri, app_id)
        change = self._ringing_ends(app_id, Outcome.DECLINED, must_be_callee=True)
        return self._change_invitation(tenant_id, invitation_id, app_id, change)

    def cancel(self, tenant_id: str, user_uri: str, app_id: str, invitation_id: str) -> Call:
        """cancel from the caller before anyone answered."""
        self._applications.get(tenant_id, user_uri, app_id)
        change = self._ringing_ends(app_id, Outcome.CANCELED, must_be_callee=False)
        return self._change_invitation(tenant_id, invitation_id, app_id, change)

    def stop(self, tenant_id: str, user_uri: str, app_id: str, call_id: str) -> Call:
        """stopAudioVideo from either side: the session ends (a ringing one is cancelled or declined)."""
        return self._hang_up(tenant_id, user_uri, app_id, call_id, leave=False)

    def leave(self, tenant_id: str, user_uri: str, app_id: str, call_id: str) -> Call:
        """DELETE conversation from either side: the session, if any, and the conversation end."""
        return self._hang_up(tenant_id, user_uri, app_id, call_id, leave=True)

    def _hang_up(self, tenant_id: str, user_uri: str, app_id: str, call_id: str, *, leave: bool) -> Call:
        self._applications.get(tenant_id, user_uri, app_id)

        def change(conn: Connection, call: Call) -> tuple[Call, list[Key]]:
            if call.state is CallState.RINGING:
                caller = app_id == call.caller_app
                outcome = Outcome.CANCELED if caller else Outcome.DECLINED
                return self._ringing_ends(app_id, outcome, not caller, leave)(conn, call)
            after = self._hung_up(call, CallState.ENDED if leave else CallState.IDLE, Outcome.HUNG_UP)
            return after, self._publish_end(conn, call, after)

        return self.change(tenant_id, call_id, app_id, change)

    def _hung_up(self, call: Call, to: CallState, outcome: Outcome) -> Call:
        """The call after its established session (if any) ends with `outcome`, in state `to`."""
        if call.state is CallState.ESTABLISHED:
            return domain.transition(call, to, outcome=outcome, ended_us=self._clock())
        return domain.transition(call, to)

    def _publish_end(self, conn: Connection, before: Call, after: Call) -> list[Key]:
        events = call_events.ended_events if before.state is CallState.ESTABLISHED else call_events.left_events
        return [self.publish(conn, after, a, events(after, a)) for a in (after.caller_app, str(after.peer()))]

    def end_for_application(self, tenant_id: str, user_uri: str, app_id: str) -> None:
        """An application is going away: its calls end (hung up, cancelled, or declined if it rang alone)."""
        with self._database.connect() as conn:
            active = store.list_active_for(conn, tenant_id, app_id)
        for call in active:
            if call.state is CallState.RINGING and app_id in call.offered and len(call.offered) > 1:
                continue  # the callee's other devices keep ringing
            try:
                self.leave(tenant_id, user_uri, app_id, call.id)
            except (Conflict, NotFound):
                continue  # it ended meanwhile

    def expire_unanswered(self) -> int:
        """End calls that rang longer than the timeout; returns how many."""
        with self._database.connect() as conn:
            stale = store.list_ringing_before(conn, self._clock() - self.ring_timeout_us)
        for call in stale:
            try:
                change = self._ringing_ends(call.caller_app, Outcome.NO_ANSWER, must_be_callee=False)
                self.change(call.tenant_id, call.id, call.caller_app, change, session=call.session_number)
            except (Conflict, NotFound):
                continue  # answered or ended meanwhile
        return len(stale)

    def drop_silent(self) -> int:
        """End established or Idle calls whose one side's application went silent (expired or vanished)."""
        with self._database.connect() as conn:
            silent = store.list_connected_with_silent_side(conn, self._clock() - IDLE_LIMIT_US)
        for call in silent:

            def change(conn: Connection, call: Call) -> tuple[Call, list[Key]]:
                after = self._hung_up(call, CallState.ENDED, Outcome.DROPPED)
                return after, self._publish_end(conn, call, after)

            try:
                self.change(call.tenant_id, call.id, call.caller_app, change)
            except (Conflict, NotFound):
                continue  # it ended meanwhile
        return len(silent)

    def check_application(self, tenant_id: str, user_uri: str, app_id: str) -> None:
        """The caller's own live application, or the error UCWA gives."""
        self._applications.get(tenant_id, user_uri, app_id)

    def get(self, tenant_id: str, app_id: str, call_id: str) -> Call:
        """A call the application is part of; NotFound otherwise."""
        with self._database.connect() as conn:
            call = store.find(conn, tenant_id, call_id)
        if call is None or not call.sees(app_id):
            raise NotFound("No such call for this application.", subcode="ResourceNotFound")
        return call

    def _ringing_ends(self, app_id: str, outcome: Outcome, must_be_callee: bool, leave: bool = False) -> Change:
        """The change that ends a ringing session (and its conversation if it was the first, or when leaving)."""

        def change(conn: Connection, call: Call) -> tuple[Call, list[Key]]:
            if call.state is not CallState.RINGING:  # answered or ended since the request was read
                raise Conflict(f"The call is {call.state}; it no longer rings.", subcode="AnotherOperationPending")
            if (app_id in call.offered) != must_be_callee:
                raise InvalidRequest("Only the other side can do that.", subcode="OperationNotSupported")
            to = CallState.ENDED if leave else call.after_session()
            after = domain.transition(call, to, outcome=outcome, ended_us=self._clock())
            return after, self._fail(conn, after)

        return change

    def _change_invitation(
        self,
        tenant_id: str,
        invitation_id: str,
        app_id: str,
        change: Callable[[Connection, Call], tuple[Call, list[Key]]],
    ) -> Call:
        """A change through an invitation: only the current session's invitation still acts."""
        call_id, number = domain.parse_invitation(invitation_id)
        return self.change(tenant_id, call_id, app_id, change, session=number)

    def _fail(self, conn: Connection, call: Call) -> list[Key]:
        outcome = call.outcome or Outcome.HUNG_UP
        keys = [
            self.publish(
                conn,
                call,
                call.caller_app,
                call_events.failed_events(call, call.caller_app, domain.reason(outcome, True)),
            )
        ]
        keys += [
            self.publish(conn, call, a, call_events.failed_events(call, a, domain.reason(outcome, False)))
            for a in call.offered
        ]
        return keys

    def change(
        self,
        tenant_id: str,
        call_id: str,
        app_id: str,
        change: Change,
        session: int | None = None,
    ) -> Call:
        """Apply `change` to the call (of that session number, if given) and store it with its events."""
        with self._database.begin() as conn:
            call = store.find(conn, tenant_id, call_id, for_update=True)
            if call is None or not call.sees(app_id) or session not in (None, call.session_number):
                raise NotFound("No such call for this application.", subcode="ResourceNotFound")
            after, keys = change(conn, call)
            if not store.save(conn, call, after):
                raise Conflict("The call changed meanwhile.", subcode="AnotherOperationPending")
            self._bridge.track(conn, call, after)
        self._channels.notify(keys)
        self._bridge.committed()
        return after

    def add_fact(self, tenant_id: str, call_id: str, app_id: str, kind: FactKind, data: dict[str, Any]) -> None:
        """A fact that changes nothing in the call itself (a quality report) from one of its connected sides."""
        with self._database.begin() as conn:
            call = store.find(conn, tenant_id, call_id, for_update=True)
            if call is None or not call.sees(app_id):
                raise NotFound("No such call for this application.", subcode="ResourceNotFound")
            if call.connected_us is None or app_id not in (call.caller_app, call.answered_by):
                raise Conflict("Quality reports are for a call that was connected.", subcode="OperationNotSupported")
            self._bridge.add(conn, call, Fact(kind, self._clock(), app_id, data))
        self._bridge.committed()

    def publish(self, conn: Connection, call: Call, app_id: str, events: Iterable[Event]) -> Key:
        return self._channels.publish(conn, call.tenant_id, app_id, list(events))
