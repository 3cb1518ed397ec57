"""The bridge from live calls to call records.

Every stored change of a call passes through `Bridge.track`, inside the transaction that stores
the change: the facts it adds are written beside it, and once an audio/video session has ended
the callRecord is assembled from all the facts and written too, with the change notifications it
causes (the outbox). The record is therefore readable the moment the hang-up commits, and no
notification can be lost between the two. What comes later writes the record again with
`version` + 1: facts after the end (feedback, a last quality report) and each further session of
the conversation (addAudioVideo) once it ends.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec
from sqlalchemy import Connection

from callscope.domain import call_records as records_domain
from callscope.domain.call_history import Fact, agents_needed, facts
from callscope.domain.calls import LIVE, Call
from callscope.domain.record_assembly import CallIdentity, assemble, record_id
from callscope.services.subscriptions import Subscriptions
from callscope.storage import applications as applications_store
from callscope.storage import call_facts as facts_store
from callscope.storage import call_records as records_store
from callscope.storage import users as users_store

Clock = Callable[[], int]
AGENTS_KEPT = 10_000  # applications whose UserAgent is remembered


class Bridge:
    """Keeps each call's facts and writes its call record when a session ends (and again when facts come later)."""

    def __init__(
        self,
        subscriptions: Subscriptions,
        clock: Clock,
        test_targets: frozenset[str] = frozenset(),
    ) -> None:
        self._subscriptions = subscriptions
        self._clock = clock
        self._test_targets = test_targets
        self._encoder = msgspec.json.Encoder()
        self._agents: dict[tuple[str, str], str] = {}

    def track(self, conn: Connection, before: Call | None, after: Call) -> None:
        """Record what the change from `before` to `after` adds; write the record of an ended call."""
        now = self._clock()
        agents = {}
        for app_id in agents_needed(before, after):  # only an invitation or an answer reads them
            agent = self._agent(conn, after.tenant_id, app_id)
            if agent is not None:
                agents[app_id] = agent
        new = facts(before, after, now, agents)
        if not new:
            return
        facts_store.append(conn, after.tenant_id, after.id, new)
        if after.state not in LIVE:  # a session just ended, or something came after it
            self._write_record(conn, after, now)

    def _agent(self, conn: Connection, tenant_id: str, app_id: str) -> str | None:
        """An application's UserAgent; it never changes, so each is read once (while AGENTS_KEPT are known)."""
        key = (tenant_id, app_id)
        agent = self._agents.get(key)
        if agent is None:
            application = applications_store.find(conn, tenant_id, app_id)
            if application is None:
                return None
            if len(self._agents) >= AGENTS_KEPT:
                self._agents.clear()
            agent = self._agents[key] = application.user_agent
        return agent

    def committed(self) -> None:
        """After the change's transaction commits: notifications it queued go out at once."""
        self._subscriptions.committed()

    def add(self, conn: Connection, call: Call, fact: Fact) -> None:
        """A fact the call's own changes do not show (a quality report); rewrites an ended call's record."""
        facts_store.append(conn, call.tenant_id, call.id, [fact])
        if call.state not in LIVE:
            self._write_record(conn, call, self._clock())

    def _write_record(self, conn: Connection, call: Call, now: int) -> None:
        tenant_id = call.tenant_id
        names = {}
        for uri in (call.caller_uri, call.callee_uri):
            user = users_store.find(conn, tenant_id, uri)
            if user is not None:
                names[uri] = user.display_name
        identity = CallIdentity(tenant_id, call.id, names, self._test_targets)
        key = record_id(tenant_id, call.id)
        stored = records_store.find_version(conn, tenant_id, key)
        version = (stored or 0) + 1
        document = assemble(identity, facts_store.find_all(conn, tenant_id, call.id), version, now)
        # Built by callscope, not received: valid as assembled (the golden tests check each shape against the
        # schema), so it is not decoded and checked again like an imported line.
        prepared = records_domain.assembled_record(document, records_store.pack(self._encoder.encode(document)))
        records_store.write(conn, tenant_id, [prepared], [key] if stored is not None else [])
        self._subscriptions.announce(conn, tenant_id, [(key, version, prepared.participant_ids)])
