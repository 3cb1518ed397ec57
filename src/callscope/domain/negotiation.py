"""SDP offers and answers: checked with aiortc's parser, read for modalities and hold.

Modalities follow UCWA's names: an `m=audio` section is Audio, `m=video` is Video, and a video
section marked `a=content:slides` is ApplicationSharing (screen sharing). A description whose
every media section is `sendonly` or `inactive` puts the call on hold (UCWA has no hold verb;
hold is a renegotiation).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote, unquote_plus

from aiortc.sdp import MediaDescription, SessionDescription

from callscope.errors import InvalidRequest

HOLD_DIRECTIONS = frozenset({"sendonly", "inactive"})


@dataclass(frozen=True)
class MediaSummary:
    """What a description negotiates."""

    modalities: tuple[str, ...]
    held: bool


@lru_cache(maxsize=256)  # a description is checked when it arrives and read again for the call's record
def summarize(sdp: str) -> MediaSummary:
    """Parse an SDP body; 400 ParameterValidationFailure (parameter `sdp`) when it is not valid SDP."""
    description = _parse(sdp)
    modalities: list[str] = []
    directions = []
    for media in description.media:
        if media.port == 0:
            continue  # a rejected or removed section
        modality = _modality(media.kind, _content(sdp, media))
        if modality not in modalities:
            modalities.append(modality)
        directions.append(media.direction or "sendrecv")
    if not modalities:
        raise _invalid("the description has no active media section")
    return MediaSummary(tuple(modalities), all(d in HOLD_DIRECTIONS for d in directions))


def _parse(sdp: str) -> SessionDescription:
    if not sdp.lstrip().startswith("v=0"):
        raise _invalid("SDP must start with v=0")
    try:
        description = SessionDescription.parse(sdp.replace("\r\n", "\n").replace("\n", "\r\n"))
    except (AssertionError, ValueError, KeyError, IndexError, StopIteration, TypeError) as exc:
        raise _invalid(f"unparsable SDP ({exc.__class__.__name__})") from exc
    if not description.origin or not description.media:
        raise _invalid("SDP needs an o= line and at least one m= section")
    return description


def _modality(kind: str, content: str | None) -> str:
    if kind == "audio":
        return "Audio"
    if kind == "video":
        return "ApplicationSharing" if content == "slides" else "Video"
    if kind == "application":
        return "DataCollaboration"
    raise _invalid(f"unsupported media '{kind}'")


def _content(sdp: str, media: MediaDescription) -> str | None:
    # aiortc keeps no `a=content`; find it in the section's own lines (RFC 4796).
    mid = media.rtp.muxId
    for section in sdp.replace("\r\n", "\n").split("\nm=")[1:]:
        lines = section.split("\n")
        if mid and f"a=mid:{mid}" not in lines:
            continue
        for line in lines:
            if line.startswith("a=content:"):
                return line.split(":", 1)[1].strip()
    return None


def _invalid(why: str) -> InvalidRequest:
    return InvalidRequest(
        f"Invalid media description: {why}.",
        subcode="ParameterValidationFailure",
        parameters=[{"name": "sdp", "reason": "Invalid"}],
    )


def from_data_uri(uri: str) -> str:
    """The SDP inside a `data:` URI (base64 or URL-encoded, as UCWA clients send both)."""
    if not uri.startswith("data:") or "," not in uri:
        raise _invalid("mediaOffer must be a data: URI")
    header, payload = uri[5:].split(",", 1)
    if header.endswith(";base64"):
        try:
            return base64.b64decode(payload, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise _invalid("mediaOffer is not valid base64") from exc
    return unquote_plus(payload)


@lru_cache(maxsize=1024)
def to_data_uri(sdp: str) -> str:
    """SDP as the URL-encoded `data:` URI UCWA sends to clients (each invitation event of a call renders it)."""
    return "data:application/sdp," + quote(sdp, safe="")
