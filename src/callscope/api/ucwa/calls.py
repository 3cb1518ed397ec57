"""Audio/video call endpoints: startAudioVideo, the invitation and its actions, conversation, audioVideo, session."""

from __future__ import annotations

from starlette.responses import Response

from callscope.api.ucwa import views
from callscope.api.ucwa.formats import without_nul
from callscope.api.ucwa.pipeline import UcwaRequest
from callscope.domain import calls as domain
from callscope.domain.calls import Call, CallState
from callscope.domain.negotiation import from_data_uri
from callscope.errors import InvalidRequest, NotFound
from callscope.services.calls import Calls
from callscope.services.offload import Offload
from callscope.services.renegotiations import Renegotiations

START_INPUTS = {"to": "to", "operationid": "operationId", "sessioncontext": "sessionContext", "subject": "subject"}
# UCWA's documented limits on operation inputs.
INPUT_LIMITS = {"to": 256, "operationId": 50, "sessionContext": 50, "subject": 250}


class CallEndpoints:
    """The resources of a call, as each application sees them."""

    def __init__(self, calls: Calls, offload: Offload) -> None:
        self._calls = calls
        self._offload = offload

    async def start(self, ucwa: UcwaRequest) -> Response:
        """POST startAudioVideo → 201 + Location of the outgoing invitation."""
        inputs, sdp = await _invitation_inputs(ucwa)
        call = await self._offload(self._calls.start, ucwa.principal.tenant_id, ucwa.user_uri, _app(ucwa), inputs, sdp)
        href = views.href_of(call.caller_app, "audioVideoInvitation", domain.invitation_id(call))
        return Response(status_code=201, headers={"Location": href})

    async def add(self, ucwa: UcwaRequest) -> Response:
        """POST addAudioVideo in an Idle conversation → 201 + Location of the new outgoing invitation."""
        inputs, sdp = await _invitation_inputs(ucwa)
        call = await self._offload(
            self._calls.add_audio_video,
            ucwa.principal.tenant_id,
            ucwa.user_uri,
            _app(ucwa),
            _call_id(ucwa),
            inputs,
            sdp,
        )
        href = views.href_of(call.caller_app, "audioVideoInvitation", domain.invitation_id(call))
        return Response(status_code=201, headers={"Location": href})

    async def invitation(self, ucwa: UcwaRequest) -> Response:
        """GET the invitation (only the conversation's current one)."""
        call = await self._invited(ucwa)
        key = domain.invitation_id(call)
        return ucwa.respond(views.invitation(_app(ucwa), key, domain.invitation(call, _app(ucwa))))

    async def accept(self, ucwa: UcwaRequest) -> Response:
        """POST acceptWithAnswer (SDP answer) → 204."""
        values, sdp = await _input_with_sdp(ucwa)
        context = _text(values.get("sessioncontext"))
        _check_lengths({"sessionContext": context})
        await self._offload(
            self._calls.accept, ucwa.principal.tenant_id, ucwa.user_uri, _app(ucwa), _call_id(ucwa), sdp, context
        )
        return Response(status_code=204)

    async def provisional_answer(self, ucwa: UcwaRequest) -> Response:
        """POST sendProvisionalAnswer (SDP) → 204; the call keeps ringing."""
        _values, sdp = await _input_with_sdp(ucwa)
        await self._offload(
            self._calls.provisional_answer, ucwa.principal.tenant_id, ucwa.user_uri, _app(ucwa), _call_id(ucwa), sdp
        )
        return Response(status_code=204)

    async def negotiation(self, ucwa: UcwaRequest) -> Response:
        """GET the audioVideoNegotiation of the caller's invitation."""
        call = await self._invited(ucwa)
        if _app(ucwa) != call.caller_app:
            raise NotFound("Only the caller's invitation has a negotiation.", subcode="ResourceNotFound")
        snapshot = {"mediaProvisionalAnswer": call.provisional_sdp, "sessionContext": call.caller_context}
        return ucwa.respond(views.negotiation(_app(ucwa), domain.invitation_id(call), snapshot))

    async def decline(self, ucwa: UcwaRequest) -> Response:
        """POST decline → 204."""
        await ucwa.input()
        await self._offload(self._calls.decline, ucwa.principal.tenant_id, ucwa.user_uri, _app(ucwa), _call_id(ucwa))
        return Response(status_code=204)

    async def cancel(self, ucwa: UcwaRequest) -> Response:
        """POST cancel → 204."""
        await self._offload(self._calls.cancel, ucwa.principal.tenant_id, ucwa.user_uri, _app(ucwa), _call_id(ucwa))
        return Response(status_code=204)

    async def stop(self, ucwa: UcwaRequest) -> Response:
        """POST stopAudioVideo → 204; the conversation stays (Idle) for a later addAudioVideo."""
        await self._offload(self._calls.stop, ucwa.principal.tenant_id, ucwa.user_uri, _app(ucwa), _call_id(ucwa))
        return Response(status_code=204)

    async def leave(self, ucwa: UcwaRequest) -> Response:
        """DELETE conversation → 204; everything in it ends."""
        await self._offload(self._calls.leave, ucwa.principal.tenant_id, ucwa.user_uri, _app(ucwa), _call_id(ucwa))
        return Response(status_code=204)

    async def conversation(self, ucwa: UcwaRequest) -> Response:
        """GET the conversation."""
        call = await self._call(ucwa)
        return ucwa.respond(views.conversation(_app(ucwa), call.id, domain.conversation(call, _app(ucwa))))

    async def audio_video(self, ucwa: UcwaRequest) -> Response:
        """GET the audioVideo modality."""
        call = await self._call(ucwa)
        return ucwa.respond(views.audio_video(_app(ucwa), call.id, domain.audio_video(call)))

    async def session(self, ucwa: UcwaRequest) -> Response:
        """GET the audioVideoSession (only while the call is established)."""
        call = await self._call(ucwa)
        if call.state is not CallState.ESTABLISHED or _app(ucwa) not in (call.caller_app, call.answered_by):
            raise NotFound("There is no audio/video session now.", subcode="ResourceNotFound")
        return ucwa.respond(views.session(_app(ucwa), call.id, domain.session(call, _app(ucwa))))

    async def participant(self, ucwa: UcwaRequest) -> Response:
        """GET a party of the call."""
        call = await self._call(ucwa)
        uri = "sip:" + ucwa.request.path_params["uri"]
        if uri not in (call.caller_uri, call.callee_uri):
            raise NotFound("No such participant.", subcode="ResourceNotFound")
        return ucwa.respond(views.participant(_app(ucwa), call.id, uri))

    async def _invited(self, ucwa: UcwaRequest) -> Call:
        """The call of the invitation in the path; 404 once a newer session's invitation replaced it."""
        call_id, number = domain.parse_invitation(_call_id(ucwa))
        call = await self._offload(self._calls.get, ucwa.principal.tenant_id, _app(ucwa), call_id)
        if number != call.session_number:
            raise NotFound("That invitation is over; the conversation has a newer one.", subcode="ResourceNotFound")
        return call

    async def _call(self, ucwa: UcwaRequest) -> Call:
        return await self._offload(self._calls.get, ucwa.principal.tenant_id, _app(ucwa), _call_id(ucwa))


async def _invitation_inputs(ucwa: UcwaRequest) -> tuple[dict[str, str | None], str]:
    """The inputs of startAudioVideo / addAudioVideo (`to` required, lengths checked) and the SDP offer."""
    values, sdp = await _input_with_sdp(ucwa)
    inputs = {name: _text(values.get(key)) for key, name in START_INPUTS.items()}
    _check_lengths(inputs)
    if not inputs["to"]:
        raise InvalidRequest(
            "'to' is required.",
            subcode="ParameterValidationFailure",
            parameters=[{"name": "to", "reason": "Missing"}],
        )
    return inputs, sdp


async def _input_with_sdp(ucwa: UcwaRequest) -> tuple[dict[str, object], str]:
    """Inputs and SDP: a raw application/sdp body (inputs in the query), or a data-URI `mediaOffer` in JSON/XML."""
    content_type = (ucwa.request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type == "application/sdp":
        body = (await ucwa.request.body()).decode("utf-8", "replace")
        return without_nul({k.lower(): v for k, v in ucwa.request.query_params.items()}), body
    values = await ucwa.input()
    offer = values.get("mediaoffer") or values.get("mediaanswer") or values.get("sdp")
    links = values.get("_links")
    if offer is None and isinstance(links, dict):
        for rel in ("mediaOffer", "mediaAnswer"):
            if isinstance(links.get(rel), dict):
                offer = links[rel].get("href")
    if not isinstance(offer, str) or not offer:
        raise InvalidRequest(
            "An SDP offer or answer is required.",
            subcode="ParameterValidationFailure",
            parameters=[{"name": "sdp", "reason": "Missing"}],
        )
    return values, from_data_uri(offer) if offer.startswith("data:") else offer


def _app(ucwa: UcwaRequest) -> str:
    return str(ucwa.request.path_params["app"])


def _call_id(ucwa: UcwaRequest) -> str:
    return str(ucwa.request.path_params["call"])


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _check_lengths(inputs: dict[str, str | None]) -> None:
    faults = [
        {"name": name, "reason": "TooLong"}
        for name, limit in INPUT_LIMITS.items()
        if inputs.get(name) is not None and len(str(inputs[name])) > limit
    ]
    if faults:
        raise InvalidRequest("Some inputs are too long.", subcode="ParameterValidationFailure", parameters=faults)


class RenegotiationEndpoints:
    """renegotiations, resumeAudio/resumeAudioVideo, answer, dismiss, publishCallQualityFeedback, sibling modalities."""

    def __init__(self, calls: Calls, renegotiations: Renegotiations, offload: Offload) -> None:
        self._calls = calls
        self._offload = offload
        self._renegotiations = renegotiations

    async def offer(self, ucwa: UcwaRequest) -> Response:
        """POST renegotiations (or a resume) with an SDP offer → 201 with the renegotiation."""
        values, sdp = await _input_with_sdp(ucwa)
        resume = ucwa.request.url.path.rsplit("/", 1)[1].startswith("resume")
        call, pending = await self._offload(
            self._renegotiations.offer,
            ucwa.principal.tenant_id,
            ucwa.user_uri,
            _app(ucwa),
            _call_id(ucwa),
            sdp,
            _text(values.get("operationid")),
            resume,
        )
        snapshot = domain.renegotiation(call, pending, _app(ucwa), None)
        resource = views.renegotiation(_app(ucwa), f"{call.id}/{pending.id}", snapshot)
        return ucwa.respond(resource, 201, {"Location": resource.href})

    async def get(self, ucwa: UcwaRequest) -> Response:
        """GET a pending renegotiation."""
        call = await self._offload(self._calls.get, ucwa.principal.tenant_id, _app(ucwa), _call_id(ucwa))
        pending = call.renegotiation
        if pending is None or pending.id != ucwa.request.path_params["renegotiation"]:
            raise NotFound("No such renegotiation is pending.", subcode="ResourceNotFound")
        snapshot = domain.renegotiation(call, pending, _app(ucwa), None)
        return ucwa.respond(views.renegotiation(_app(ucwa), f"{call.id}/{pending.id}", snapshot))

    async def answer(self, ucwa: UcwaRequest) -> Response:
        """POST answer with the SDP answer → 204."""
        _values, sdp = await _input_with_sdp(ucwa)
        await self._settle(ucwa, sdp)
        return Response(status_code=204)

    async def dismiss(self, ucwa: UcwaRequest) -> Response:
        """POST dismiss → 204; nothing about the media changes."""
        await ucwa.input()
        await self._settle(ucwa, None)
        return Response(status_code=204)

    async def feedback(self, ucwa: UcwaRequest) -> Response:
        """POST publishCallQualityFeedback → 204."""
        values = await ucwa.input()
        named = {
            "rating": values.get("rating"),
            "text": values.get("text"),
            "tokens": values.get("tokens"),
            "mediaEndpoint": values.get("mediaendpoint"),
            "mediaQualityOfExperience": values.get("mediaqualityofexperience"),
        }
        await self._offload(
            self._renegotiations.publish_feedback,
            ucwa.principal.tenant_id,
            ucwa.user_uri,
            _app(ucwa),
            _call_id(ucwa),
            named,
        )
        return Response(status_code=204)

    async def quality(self, ucwa: UcwaRequest) -> Response:
        """POST mediaQualityReports (callscope's extension) with WebRTC getStats() output → 204."""
        values = await ucwa.input()
        await self._offload(
            self._renegotiations.report_quality,
            ucwa.principal.tenant_id,
            ucwa.user_uri,
            _app(ucwa),
            _call_id(ucwa),
            values,
        )
        return Response(status_code=204)

    async def modality(self, ucwa: UcwaRequest) -> Response:
        """GET applicationSharing or dataCollaboration of the conversation."""
        call = await self._offload(self._calls.get, ucwa.principal.tenant_id, _app(ucwa), _call_id(ucwa))
        rel = ucwa.request.url.path.rsplit("/", 1)[1]
        return ucwa.respond(views.keyed(rel, _app(ucwa), call.id, {"modalities": list(call.modalities)}))

    async def _settle(self, ucwa: UcwaRequest, sdp: str | None) -> None:
        await self._offload(
            self._renegotiations.settle,
            ucwa.principal.tenant_id,
            ucwa.user_uri,
            _app(ucwa),
            _call_id(ucwa),
            ucwa.request.path_params["renegotiation"],
            sdp,
        )
