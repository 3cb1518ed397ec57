"""Every URL callscope serves, with the scopes it needs, in one place."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from callscope.api.graph.call_records import CallRecordsEndpoints
from callscope.api.graph.log_rows import LogRowsEndpoints
from callscope.api.graph.metadata import MetadataEndpoint
from callscope.api.graph.paths import parse_target
from callscope.api.graph.router import GraphPipeline
from callscope.api.graph.subscriptions import SubscriptionEndpoints
from callscope.api.ingest import IngestEndpoint
from callscope.api.openapi import OpenApiEndpoint
from callscope.api.ucwa.applications import ApplicationEndpoints
from callscope.api.ucwa.calls import CallEndpoints, RenegotiationEndpoints
from callscope.api.ucwa.contact_groups import ContactGroupEndpoints
from callscope.api.ucwa.discovery import APPLICATIONS_PATH, ROOT_PATH, USER_PATH, Discovery
from callscope.api.ucwa.events import EventEndpoint
from callscope.api.ucwa.pipeline import OAUTH_PATH, UcwaPipeline, UcwaRequest
from callscope.auth.principal import Principal
from callscope.errors import NotFound
from callscope.services.schemas import VERSIONS

READ_RECORDS = frozenset({"CallRecords.Read.All"})
READ_LOG_ROWS = frozenset({"CallRecords.Read.All", "CallRecord-PstnCalls.Read.All"})
INGEST = frozenset({"Callscope.Ingest"})
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
CALL_RECORDS_PREFIX = "communications/callrecords"


class GraphRoutes:
    """Dispatches `/{version}/communications/callRecords...` to records or log-row endpoints."""

    def __init__(
        self,
        pipeline: GraphPipeline,
        records: CallRecordsEndpoints,
        log_rows: LogRowsEndpoints,
        functions: dict[str, frozenset[str]],
    ) -> None:
        self._pipeline = pipeline
        self._records = records
        self._log_rows = log_rows
        self._functions = functions

    async def call_records(self, request: Request, principal: Principal) -> Response:
        """Any GET under the callRecords collection."""
        version = request.url.path.strip("/").split("/")[0]
        rest = request.path_params["rest"]
        if not rest.lower().startswith(CALL_RECORDS_PREFIX):
            raise NotFound(f"Resource not found for the segment '{rest.split('/')[0]}'.")
        target = parse_target(rest[len(CALL_RECORDS_PREFIX) :], self._functions[version])
        ctx = self._pipeline.context(request, principal, version)
        if target.kind == "function":
            principal.require_any(READ_LOG_ROWS)
            return await self._log_rows.get(ctx, target, request.scope["raw_path"].decode())
        principal.require_any(READ_RECORDS)
        return await self._records.get(ctx, target)


INITIATE = frozenset({"Conversations.Initiate"})
RECEIVE = frozenset({"Conversations.Receive"})


def ucwa_routes(
    pipeline: UcwaPipeline,
    discovery: Discovery,
    applications: ApplicationEndpoints,
    events: EventEndpoint,
    calls: CallEndpoints,
    renegotiations: RenegotiationEndpoints,
    groups: ContactGroupEndpoints,
) -> list[Route]:
    """The live-calls API (UCWA dialect); its routes go before the others, since a live call's requests come
    far more often (Starlette tries routes in order). The event channel first: every application keeps a
    P-GET open and sends the next at once."""
    user = pipeline.endpoint({"GET": discovery.user})
    unknown = pipeline.endpoint(dict.fromkeys(ALL_METHODS, _no_such_resource))
    return [
        Route(f"{APPLICATIONS_PATH}/{{app}}/events", pipeline.endpoint({"GET": events.get}), methods=ALL_METHODS),
        *_call_routes(pipeline, calls, renegotiations),
        *_group_routes(pipeline, groups),
        *_application_routes(pipeline, discovery, applications, user),
        Route("/ucwa/{rest:path}", unknown, methods=ALL_METHODS),  # anything else: UCWA's own 404
    ]


async def _no_such_resource(_ucwa: UcwaRequest) -> Response:
    raise NotFound("There is no such resource.", subcode="ResourceNotFound")


def _renegotiation_table(
    conversation: str, renegotiations: RenegotiationEndpoints
) -> list[tuple[str, Mapping[str, Any], frozenset[str]]]:
    session = f"{conversation}/audioVideo/audioVideoSession"
    offer = {"POST": renegotiations.offer}
    return [
        (f"{session}/renegotiations", offer, frozenset()),
        (f"{session}/resumeAudio", offer, frozenset()),
        (f"{session}/resumeAudioVideo", offer, frozenset()),
        (f"{session}/renegotiations/{{renegotiation}}", {"GET": renegotiations.get}, frozenset()),
        (f"{session}/renegotiations/{{renegotiation}}/answer", {"POST": renegotiations.answer}, frozenset()),
        (f"{session}/renegotiations/{{renegotiation}}/dismiss", {"POST": renegotiations.dismiss}, frozenset()),
        (f"{session}/publishCallQualityFeedback", {"POST": renegotiations.feedback}, frozenset()),
        (f"{session}/mediaQualityReports", {"POST": renegotiations.quality}, frozenset()),
        (f"{conversation}/applicationSharing", {"GET": renegotiations.modality}, frozenset()),
        (f"{conversation}/dataCollaboration", {"GET": renegotiations.modality}, frozenset()),
    ]


def _group_routes(pipeline: UcwaPipeline, groups: ContactGroupEndpoints) -> list[Route]:
    my_groups = f"{APPLICATIONS_PATH}/{{app}}/people/groups"
    return [
        Route(my_groups, pipeline.endpoint({"GET": groups.list, "POST": groups.create}), methods=ALL_METHODS),
        Route(
            f"{my_groups}/{{group}}",
            pipeline.endpoint({"GET": groups.get, "DELETE": groups.delete}),
            methods=ALL_METHODS,
        ),
    ]


def _call_routes(pipeline: UcwaPipeline, calls: CallEndpoints, renegotiations: RenegotiationEndpoints) -> list[Route]:
    invitations = f"{APPLICATIONS_PATH}/{{app}}/communication/audioVideoInvitations"
    conversation = f"{APPLICATIONS_PATH}/{{app}}/communication/conversations/{{call}}"
    table = [
        (invitations, {"POST": calls.start}, INITIATE),
        (f"{invitations}/{{call}}", {"GET": calls.invitation}, frozenset()),
        (f"{invitations}/{{call}}/acceptWithAnswer", {"POST": calls.accept}, RECEIVE),
        (f"{invitations}/{{call}}/decline", {"POST": calls.decline}, RECEIVE),
        (f"{invitations}/{{call}}/sendProvisionalAnswer", {"POST": calls.provisional_answer}, RECEIVE),
        (f"{invitations}/{{call}}/audioVideoNegotiation", {"GET": calls.negotiation}, frozenset()),
        (f"{invitations}/{{call}}/cancel", {"POST": calls.cancel}, INITIATE),
        (conversation, {"GET": calls.conversation, "DELETE": calls.leave}, frozenset()),
        (f"{conversation}/participants/{{uri}}", {"GET": calls.participant}, frozenset()),
        (f"{conversation}/audioVideo", {"GET": calls.audio_video}, frozenset()),
        (f"{conversation}/audioVideo/stopAudioVideo", {"POST": calls.stop}, frozenset()),
        (f"{conversation}/audioVideo/addAudioVideo", {"POST": calls.add}, INITIATE),
        (f"{conversation}/audioVideo/audioVideoSession", {"GET": calls.session}, frozenset()),
        *_renegotiation_table(conversation, renegotiations),
    ]
    return [Route(path, pipeline.endpoint(handlers, scopes), methods=ALL_METHODS) for path, handlers, scopes in table]


def _application_routes(
    pipeline: UcwaPipeline,
    discovery: Discovery,
    applications: ApplicationEndpoints,
    user: Any,
) -> list[Route]:
    return [
        Route(ROOT_PATH, discovery.root, methods=["GET"]),
        Route(USER_PATH, user, methods=ALL_METHODS),
        Route(f"{ROOT_PATH}/user", user, methods=ALL_METHODS),
        Route(OAUTH_PATH, discovery.token, methods=["POST"]),
        Route(APPLICATIONS_PATH, pipeline.endpoint({"POST": applications.create}), methods=ALL_METHODS),
        Route(
            f"{APPLICATIONS_PATH}/{{app}}",
            pipeline.endpoint({"GET": applications.get, "DELETE": applications.delete}),
            methods=ALL_METHODS,
        ),
        Route(
            f"{APPLICATIONS_PATH}/{{app}}/me/makeMeAvailable",
            pipeline.endpoint({"POST": applications.make_me_available}, RECEIVE),
            methods=ALL_METHODS,
        ),
        Route(
            f"{APPLICATIONS_PATH}/{{app}}/communication",
            pipeline.endpoint({"GET": applications.embedded, "PUT": applications.put_communication}),
            methods=ALL_METHODS,
        ),
        Route(
            f"{APPLICATIONS_PATH}/{{app}}/communication/{{operation}}",
            pipeline.endpoint(dict.fromkeys(ALL_METHODS, applications.unsupported)),
            methods=ALL_METHODS,
        ),
        Route(
            f"{APPLICATIONS_PATH}/{{app}}/{{part}}",
            pipeline.endpoint({"GET": applications.embedded}),
            methods=ALL_METHODS,
        ),
    ]


def build_routes(
    pipeline: GraphPipeline,
    graph: GraphRoutes,
    metadata: MetadataEndpoint,
    ingest: IngestEndpoint,
    openapi: OpenApiEndpoint,
    subscriptions: SubscriptionEndpoints,
) -> list[Route]:
    """The route table of the records API (Graph dialect)."""
    routes = [
        Route("/healthz", _health, methods=["GET"]),
        Route("/openapi.json", openapi.get, methods=["GET"]),
        Route(
            "/callscope/ingest",
            pipeline.endpoint(ingest.post, INGEST, frozenset({"POST"})),
            methods=ALL_METHODS,
        ),
    ]
    for version in VERSIONS:
        routes.append(Route(f"/{version}/$metadata", metadata.get, methods=["GET"]))
        routes.append(
            Route(
                f"/{version}/subscriptions",
                pipeline.endpoint(subscriptions.collection, READ_RECORDS, frozenset({"GET", "POST"})),
                methods=ALL_METHODS,
            )
        )
        routes.append(
            Route(
                f"/{version}/subscriptions/{{id}}",
                pipeline.endpoint(subscriptions.item, READ_RECORDS, frozenset({"GET", "PATCH", "DELETE"})),
                methods=ALL_METHODS,
            )
        )
        routes.append(
            Route(
                f"/{version}/{{rest:path}}",
                pipeline.endpoint(graph.call_records, READ_LOG_ROWS),
                methods=ALL_METHODS,
            )
        )
    return routes


async def _health(_request: Request) -> Response:
    return JSONResponse({"status": "ok"})
