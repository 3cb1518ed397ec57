"""How each UCWA resource looks: its href, properties and the links its state allows.

Views are built from domain objects or from the snapshots events carry, so a resource looks the
same whether it is fetched or delivered in an event.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from callscope.api.ucwa.resources import Resource
from callscope.domain.applications import PUT_MARKER, Application, communication_etag, put_token
from callscope.domain.calls import parse_invitation
from callscope.domain.negotiation import to_data_uri
from callscope.domain.users import default_name

APPLICATIONS = "/ucwa/oauth/v1/applications"


def application_href(application_id: str) -> str:
    """Where an application lives."""
    return f"{APPLICATIONS}/{application_id}"


# Resources right under an application, by rel: the path after the application's.
_UNDER_APPLICATION = {
    "application": "",
    "me": "/me",
    "people": "/people",
    "onlineMeetings": "/onlineMeetings",
    "communication": "/communication",
    "events": "/events",
    "startAudioVideo": "/communication/audioVideoInvitations",
}
# Resources of a conversation, by rel: the path after the conversation's.
_UNDER_CONVERSATION = {
    "conversation": "",
    "audioVideo": "/audioVideo",
    "audioVideoSession": "/audioVideo/audioVideoSession",
    "applicationSharing": "/applicationSharing",
    "dataCollaboration": "/dataCollaboration",
}


def href_of(application_id: str, rel: str, key: str) -> str:
    """The href of a resource an application sees, by rel and key."""
    base = application_href(application_id)
    under = _UNDER_APPLICATION.get(rel)
    if under is not None:
        return base + under
    call_id, _, sub_key = key.partition("/")
    conversation = f"{base}/communication/conversations/{call_id}"
    under = _UNDER_CONVERSATION.get(rel)
    if under is not None:
        return conversation + under
    if rel == "audioVideoInvitation":
        return f"{base}/communication/audioVideoInvitations/{key}"
    if rel == "audioVideoRenegotiation":
        return f"{conversation}/audioVideo/audioVideoSession/renegotiations/{sub_key}"
    if rel == "audioVideoNegotiation":
        return f"{base}/communication/audioVideoInvitations/{call_id}/audioVideoNegotiation"
    return f"{base}/{rel}/{key}"


def me(application_id: str, snapshot: dict[str, Any]) -> Resource:
    """`me`: name and URI; `makeMeAvailable` until the application is available."""
    resource = Resource("me", href_of(application_id, "me", ""), {"name": snapshot["name"], "uri": snapshot["uri"]})
    if not snapshot.get("available"):
        resource.link("makeMeAvailable", f"{resource.href}/makeMeAvailable")
    return resource


def communication(application_id: str, snapshot: dict[str, Any]) -> Resource:
    """`communication`: the modalities the application accepts."""
    modalities = list(snapshot.get("supportedModalities", []))
    properties = {
        "supportedModalities": modalities,
        "etag": communication_etag(modalities),
        put_token(application_id): PUT_MARKER,
    }
    resource = Resource("communication", href_of(application_id, "communication", ""), properties)
    return resource.link("startAudioVideo", href_of(application_id, "startAudioVideo", ""), revision="2")


def plain(rel: str) -> Callable[[str, dict[str, Any]], Resource]:
    """A resource with no properties of its own yet."""
    return lambda application_id, _snapshot: Resource(rel, href_of(application_id, rel, ""))


APPLICATION_PARTS = ("me", "people", "onlineMeetings", "communication")
VIEWS: dict[str, Callable[[str, dict[str, Any]], Resource]] = {
    "me": me,
    "communication": communication,
    "people": lambda application_id, _snapshot: plain("people")(application_id, _snapshot).link(
        "myGroups", href_of(application_id, "people", "") + "/groups"
    ),
    "onlineMeetings": plain("onlineMeetings"),
}


def keyed(rel: str, application_id: str, key: str, snapshot: dict[str, Any]) -> Resource:
    """A resource of a call (invitation, conversation, audioVideo, audioVideoSession) from its snapshot."""
    return CALL_VIEWS[rel](application_id, key, snapshot)


def invitation(application_id: str, key: str, snapshot: dict[str, Any]) -> Resource:
    """The audioVideoInvitation (keyed by its own id); its action links exist only while the action is allowed."""
    href = href_of(application_id, "audioVideoInvitation", key)
    call_id = parse_invitation(key)[0]
    names = ("direction", "state", "operationId", "sessionContext", "to", "subject")
    resource = Resource("audioVideoInvitation", href, {n: snapshot[n] for n in names if snapshot.get(n) is not None})
    for action in snapshot["actions"]:
        resource.link(action, f"{href}/{action}")
    if snapshot.get("mediaOffer"):
        resource.link("mediaOffer", to_data_uri(snapshot["mediaOffer"]))
    caller = participant(application_id, call_id, snapshot["from"])
    resource.link("from", caller.href, title=caller.properties["name"])
    resource.embedded["from"] = caller
    resource.link("conversation", href_of(application_id, "conversation", call_id))
    return resource.link("audioVideo", href_of(application_id, "audioVideo", call_id))


def conversation(application_id: str, call_id: str, snapshot: dict[str, Any]) -> Resource:
    """The conversation of a call, from one side."""
    properties = {"state": snapshot["state"], "activeModalities": snapshot["activeModalities"]}
    if snapshot.get("subject"):
        properties["subject"] = snapshot["subject"]
    resource = Resource("conversation", href_of(application_id, "conversation", call_id), properties)
    return resource.link("audioVideo", href_of(application_id, "audioVideo", call_id))


def audio_video(application_id: str, call_id: str, snapshot: dict[str, Any]) -> Resource:
    """The audioVideo modality; `stopAudioVideo` while the call is up, the session once established."""
    href = href_of(application_id, "audioVideo", call_id)
    resource = Resource("audioVideo", href, {"state": snapshot["state"]})
    resource.link("conversation", href_of(application_id, "conversation", call_id))
    if snapshot["state"] != "Disconnected":
        resource.link("stopAudioVideo", f"{href}/stopAudioVideo")
    if snapshot.get("canAdd"):
        resource.link("addAudioVideo", f"{href}/addAudioVideo")
    if snapshot.get("established"):
        resource.link("audioVideoSession", href_of(application_id, "audioVideoSession", call_id))
    return resource


def session(application_id: str, call_id: str, snapshot: dict[str, Any]) -> Resource:
    """The audioVideoSession (the seed resource): resume links only while this side holds the call."""
    properties = {k: snapshot[k] for k in ("remoteEndpoint", "sessionContext", "state") if snapshot.get(k) is not None}
    href = href_of(application_id, "audioVideoSession", call_id)
    resource = Resource("audioVideoSession", href, properties)
    for rel in ("applicationSharing", "audioVideo", "conversation", "dataCollaboration"):
        resource.link(rel, href_of(application_id, rel, call_id))
    resource.link("publishCallQualityFeedback", f"{href}/publishCallQualityFeedback")
    resource.link("mediaQualityReports", f"{href}/mediaQualityReports")  # callscope's own: getStats() reports
    resource.link("renegotiations", f"{href}/renegotiations")
    if snapshot.get("heldHere"):
        resource.link("resumeAudio", f"{href}/resumeAudio")
        resource.link("resumeAudioVideo", f"{href}/resumeAudioVideo")
    return resource


def renegotiation(application_id: str, key: str, snapshot: dict[str, Any]) -> Resource:
    """An audioVideoRenegotiation; `answer` and `dismiss` only for the side that must answer, while pending."""
    call_id = key.partition("/")[0]
    href = href_of(application_id, "audioVideoRenegotiation", key)
    properties = {k: snapshot[k] for k in ("direction", "operationId") if snapshot.get(k) is not None}
    resource = Resource("audioVideoRenegotiation", href, properties)
    resource.link("mediaOffer", to_data_uri(snapshot["mediaOffer"]))
    if snapshot.get("mediaAnswer"):
        resource.link("mediaAnswer", to_data_uri(snapshot["mediaAnswer"]))
    for action in snapshot["actions"]:
        resource.link(action, f"{href}/{action}")
    resource.link("audioVideoSession", href_of(application_id, "audioVideoSession", call_id))
    return resource.link("conversation", href_of(application_id, "conversation", call_id))


def modality(rel: str) -> Callable[[str, str, dict[str, Any]], Resource]:
    """A sibling modality (applicationSharing, dataCollaboration): connected when negotiated."""

    def view(application_id: str, call_id: str, snapshot: dict[str, Any]) -> Resource:
        negotiated = {"applicationSharing": "ApplicationSharing", "dataCollaboration": "DataCollaboration"}[rel]
        state = "Connected" if negotiated in snapshot.get("modalities", []) else "Disconnected"
        resource = Resource(rel, href_of(application_id, rel, call_id), {"state": state})
        return resource.link("conversation", href_of(application_id, "conversation", call_id))

    return view


def participant(application_id: str, call_id: str, uri: str) -> Resource:
    """A party of a call, by SIP URI."""
    href = f"{href_of(application_id, 'conversation', call_id)}/participants/{uri.removeprefix('sip:')}"
    resource = Resource("participant", href, {"name": default_name(uri), "uri": uri})
    return resource.link("conversation", href_of(application_id, "conversation", call_id))


def negotiation(application_id: str, call_id: str, snapshot: dict[str, Any]) -> Resource:
    """The audioVideoNegotiation of an outgoing invitation: the early-media answer so far."""
    properties = {"sessionContext": snapshot.get("sessionContext")} if snapshot.get("sessionContext") else {}
    resource = Resource("audioVideoNegotiation", href_of(application_id, "audioVideoNegotiation", call_id), properties)
    if snapshot.get("mediaProvisionalAnswer"):
        resource.link("mediaProvisionalAnswer", to_data_uri(snapshot["mediaProvisionalAnswer"]))
    return resource.link("audioVideoInvitation", href_of(application_id, "audioVideoInvitation", call_id))


CALL_VIEWS: dict[str, Callable[[str, str, dict[str, Any]], Resource]] = {
    "audioVideoInvitation": invitation,
    "conversation": conversation,
    "audioVideo": audio_video,
    "audioVideoSession": session,
    "audioVideoRenegotiation": renegotiation,
    "audioVideoNegotiation": negotiation,
    "applicationSharing": modality("applicationSharing"),
    "dataCollaboration": modality("dataCollaboration"),
}


def snapshots(application: Application, name: str) -> dict[str, dict[str, Any]]:
    """The current state of an application's embedded resources, as snapshots."""
    return {
        "me": {"name": name, "uri": application.user_uri, "available": application.available},
        "communication": {"supportedModalities": list(application.modalities or ())},
        "people": {},
        "onlineMeetings": {},
    }


def application(application_: Application, name: str) -> Resource:
    """The application with its embedded resources."""
    properties = {
        "culture": application_.culture,
        "userAgent": application_.user_agent,
        "endpointId": application_.endpoint_id,
        "instanceId": application_.instance_id,
        "id": application_.id,
        "type": "Browser",
    }
    resource = Resource(
        "application", application_href(application_.id), {k: v for k, v in properties.items() if v is not None}
    )
    resource.link("events", f"{href_of(application_.id, 'events', '')}?ack={application_.channel.batch + 1}")
    resource.embedded = {rel: VIEWS[rel](application_.id, snap) for rel, snap in snapshots(application_, name).items()}
    return resource
