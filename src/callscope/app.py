"""create_app(settings): the one place where callscope's parts are wired together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

import anyio.to_thread
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.middleware import Middleware

from callscope.api.graph.call_records import CallRecordsEndpoints
from callscope.api.graph.hot_cache import RecordResponseCache
from callscope.api.graph.log_rows import LogRowsEndpoints
from callscope.api.graph.metadata import MetadataEndpoint
from callscope.api.graph.router import GraphPipeline
from callscope.api.graph.shaping import Shaper
from callscope.api.graph.subscriptions import SubscriptionEndpoints
from callscope.api.ingest import IngestEndpoint
from callscope.api.openapi import OpenApiEndpoint
from callscope.api.routes import GraphRoutes, build_routes, ucwa_routes
from callscope.api.ucwa.applications import ApplicationEndpoints
from callscope.api.ucwa.calls import CallEndpoints, RenegotiationEndpoints
from callscope.api.ucwa.contact_groups import ContactGroupEndpoints
from callscope.api.ucwa.discovery import CaseInsensitiveDiscovery, Discovery
from callscope.api.ucwa.events import EventEndpoint
from callscope.api.ucwa.pipeline import RateLimiter, UcwaPipeline
from callscope.auth.tokens import TokenVerifier, load_or_create_key
from callscope.config import Settings
from callscope.services.applications import Applications, system_clock
from callscope.services.bridge import Bridge
from callscope.services.call_records import CallRecords
from callscope.services.calls import Calls
from callscope.services.contact_groups import ContactGroups
from callscope.services.events import EventChannels, Waiters
from callscope.services.ingestion import Ingestion
from callscope.services.log_rows import LogRows
from callscope.services.notifier import Notifier, Retries
from callscope.services.offload import Offload
from callscope.services.presence import Presence
from callscope.services.renegotiations import Renegotiations
from callscope.services.schemas import Schemas, load_schemas
from callscope.services.subscriptions import Subscriptions
from callscope.services.users import Users
from callscope.services.webhooks import Webhooks
from callscope.storage.database import Database, connect, worker_threads
from callscope.storage.revisions import StoreHealth, migrate

log = logging.getLogger("callscope")
FORGET_ACKNOWLEDGED_EVERY_SECONDS = 1.0  # acknowledged events wait this long at most for their sweep


@dataclass(frozen=True)
class Services:
    """The use cases over one database."""

    engine: Engine
    database: Database
    schemas: Schemas
    call_records: CallRecords
    log_rows: LogRows
    ingestion: Ingestion
    users: Users
    applications: Applications
    offload: Offload
    channels: EventChannels
    presence: Presence
    calls: Calls
    webhooks: Webhooks
    subscriptions: Subscriptions
    notifier: Notifier


def create_services(settings: Settings) -> Services:
    """Connect, migrate, and build the services."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = connect(settings.effective_database_url, settings.sqlite_busy_timeout_seconds)
    migrate(engine)
    database = Database(engine, group_commit=not settings.shared_store)
    schemas = load_schemas()
    offload = Offload(engine, settings.sqlite_busy_timeout_seconds)
    users = Users(database)
    applications = Applications(database)
    channels = EventChannels(database, applications, offload, Waiters(), shared=settings.shared_store)
    webhooks = Webhooks()
    subscriptions = Subscriptions(database, webhooks, system_clock)
    ingestion = Ingestion(engine, schemas, subscriptions)
    bridge = Bridge(subscriptions, system_clock, frozenset(settings.test_call_targets))
    retries = Retries(
        first_us=int(settings.notification_retry_seconds * 1e6),
        give_up_us=int(settings.notification_give_up_seconds * 1e6),
        poll_seconds=min(1.0, max(0.1, settings.notification_retry_seconds / 2)),
    )
    ring_timeout_us = int(settings.ring_timeout_seconds * 1e6)
    notifier = Notifier(database, webhooks, offload, system_clock, retries)
    subscriptions.on_queued = notifier.wake
    call_records = CallRecords(database)
    subscriptions.on_written = call_records.changes.moved
    return Services(
        engine=engine,
        database=database,
        schemas=schemas,
        call_records=call_records,
        log_rows=LogRows(database),
        ingestion=ingestion,
        users=users,
        applications=applications,
        offload=offload,
        channels=channels,
        presence=Presence(database, applications, channels, users),
        calls=Calls(database, applications, channels, users, bridge, ring_timeout_us=ring_timeout_us),
        webhooks=webhooks,
        subscriptions=subscriptions,
        notifier=notifier,
    )


def create_app(settings: Settings, services: Services | None = None) -> Starlette:
    """The ASGI application."""
    services = services or create_services(settings)
    key = load_or_create_key(settings.data_dir)
    verifier = TokenVerifier(key.public_key(), settings.external_issuers)
    explain = StoreHealth(services.engine).explain
    pipeline = GraphPipeline(verifier, settings.public_base_url, explain)
    shapers = {v: Shaper(m) for v, m in services.schemas.models.items()}
    offload = services.offload
    functions = {v: frozenset(m.functions) for v, m in services.schemas.models.items()}
    graph = GraphRoutes(
        pipeline,
        CallRecordsEndpoints(services.call_records, shapers, offload),
        LogRowsEndpoints(services.log_rows, shapers, offload),
        functions,
    )
    graph_routes = build_routes(
        pipeline,
        graph,
        MetadataEndpoint(services.schemas.csdl),
        IngestEndpoint(services.ingestion, settings.max_body_bytes),
        OpenApiEndpoint(),
        SubscriptionEndpoints(services.subscriptions, offload),
    )
    limiter = RateLimiter(settings.ucwa_requests_per_second, settings.ucwa_request_burst)
    ucwa = UcwaPipeline(verifier, limiter, explain)
    routes = (
        ucwa_routes(
            ucwa,
            Discovery(ucwa, services.users, key),
            ApplicationEndpoints(services.applications, services.users, services.presence, services.calls, offload),
            EventEndpoint(services.channels, settings.event_channel_floor_seconds),
            CallEndpoints(services.calls, offload),
            RenegotiationEndpoints(services.calls, Renegotiations(services.calls), offload),
            ContactGroupEndpoints(services.applications, ContactGroups(services.database), offload),
        )
        + graph_routes
    )
    hot_cache = Middleware(
        RecordResponseCache,
        records=services.call_records,
        offload=offload,
        max_bytes=settings.response_cache_bytes,
    )
    app = Starlette(
        routes=routes,
        middleware=[Middleware(CaseInsensitiveDiscovery), hot_cache],
        lifespan=_lifespan(services, settings),
    )
    app.state.services = services
    return app


def _lifespan(services: Services, settings: Settings) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    """Background work while the server runs: ending calls nobody answered, relaying event signals,
    delivering change notifications, noticing other processes' record writes."""
    interval = max(0.05, min(1.0, settings.ring_timeout_seconds / 4))

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        threads = worker_threads(services.engine)
        if threads is not None:  # per event loop, so set here
            anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        services.database.checkpoint_in_background()
        tasks = [
            asyncio.create_task(_expire_unanswered(services, interval)),
            asyncio.create_task(_forget_acknowledged(services)),
            asyncio.create_task(services.channels.relay_signals()),
            asyncio.create_task(services.notifier.run()),
            asyncio.create_task(services.call_records.follow_writes()),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await services.webhooks.close()
            services.database.close()  # the connection kept for this loop's work

    return lifespan


async def _forget_acknowledged(services: Services) -> None:
    while True:
        await asyncio.sleep(FORGET_ACKNOWLEDGED_EVERY_SECONDS)
        try:
            await services.offload(services.channels.forget_acknowledged)
        except Exception:
            log.exception("dropping acknowledged events failed")


async def _expire_unanswered(services: Services, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            await services.offload(services.calls.expire_unanswered)
            await services.offload(services.calls.drop_silent)
        except Exception:
            log.exception("ending unanswered or silent calls failed")
