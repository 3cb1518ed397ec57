"""Realistic demo data: peer-to-peer and group calls, media quality from good to poor, PSTN rows.

Everything comes from one seeded random generator and a reference time, so a seed always gives
the same records.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from callscope.domain.timestamps import format_graph

NS = "#microsoft.graph.callRecords"
USERS = [
    ("Adele Vance", "adele"),
    ("Alex Wilber", "alex"),
    ("Diego Siciliani", "diego"),
    ("Grady Archie", "grady"),
    ("Isaiah Langer", "isaiah"),
    ("Johanna Lorenz", "johanna"),
    ("Lee Gu", "lee"),
    ("Lidia Holloway", "lidia"),
    ("Megan Bowen", "megan"),
    ("Miriam Graham", "miriam"),
    ("Nestor Wilke", "nestor"),
    ("Patti Fernandez", "patti"),
    ("Zoë Ångström", "zoe"),
    ("Søren Kierkegaard", "soren"),
    ("李 小龍", "xiaolong"),
]
AGENTS = [
    ("windows", "teams", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Teams/24295.605.3225.8804"),
    ("macOS", "teams", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Teams/24295.605.3225.8804"),
    (
        "android",
        "skypeForBusiness",
        "RTCC/7.0.0.0 UCWA/7.0.0.0 AndroidLync/6.25.0.27 (SM-G930U Android 8.0.0)",
    ),
    ("iOS", "teams", "Teams/6.14.1 (iPhone15,2; iOS 17.5)"),
    ("web", "teams", "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0 callscope-softphone/0.1"),
    ("ipPhone", "lync", "Polycom/5.9.5 PolycomVVX-VVX_450-UA/5.9.5.0614"),
]
NETWORKS = [
    ("wired", "unknown", "unknown"),
    ("wifi", "frequency50GHz", "wifi80211ac"),
    ("wifi", "frequency24GHz", "wifi80211n"),
    ("mobile", "unknown", "unknown"),
]
FAILURES = [
    ("callSetup", "UserDeclined"),
    ("callSetup", "NoAnswer"),
    ("midcall", "MediaTimeout"),
    ("midcall", "NetworkDisconnect"),
    ("callSetup", "Cancelled"),
]


class DemoData:
    """Generates Graph-shaped documents for one tenant."""

    def __init__(self, seed: int, now: datetime, tenant_id: str) -> None:
        self._rng = random.Random(seed)
        self._now = now
        self._tenant_id = tenant_id

    def _id(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def documents(self, calls: int) -> Iterator[dict[str, Any]]:
        """`calls` call records, then PSTN and direct-routing rows for about a third as many."""
        for _ in range(calls):
            yield self.call_record()
        for _ in range(max(1, calls // 3)):
            yield self.pstn_row()
            yield self.direct_routing_row()

    def call_record(self) -> dict[str, Any]:
        """One call: peer-to-peer (two people) or group (three to eight), with sessions."""
        start = self._now - timedelta(seconds=self._rng.randint(60, 89 * 86400))
        group = self._rng.random() < 0.3
        people = self._rng.sample(USERS, self._rng.randint(3, 8) if group else 2)
        modalities = self._modalities()
        sessions = [self._session(start, people[0], p, modalities) for p in people[1:]]
        end = max(datetime.fromisoformat(s["endDateTime"]) for s in sessions)
        return {
            "@odata.type": f"{NS}.callRecord",
            "id": self._id(),
            "version": 1,
            "type": "groupCall" if group else "peerToPeer",
            "modalities": modalities,
            "startDateTime": format_graph(start),
            "endDateTime": format_graph(end),
            "lastModifiedDateTime": format_graph(end + timedelta(seconds=1)),
            "joinWebUrl": f"https://meet.callscope.example/{self._id()}" if group else None,
            "organizer": {"user": self._identity(people[0])},
            "participants": [{"user": self._identity(p)} for p in people],
            "organizer_v2": self._participant(people[0], "organizer"),
            "participants_v2": [self._participant(p, "participant") for p in people],
            "sessions": sessions,
        }

    def _modalities(self) -> list[str]:
        roll = self._rng.random()
        if roll < 0.5:
            return ["audio"]
        if roll < 0.85:
            return ["audio", "video"]
        return ["audio", "video", "screenSharing"]

    def _identity(self, person: tuple[str, str]) -> dict[str, Any]:
        name, alias = person
        return {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, alias)),
            "displayName": name,
            "tenantId": self._tenant_id,
        }

    def _participant(self, person: tuple[str, str], kind: str) -> dict[str, Any]:
        identity = self._identity(person)
        return {
            "@odata.type": f"{NS}.{kind}",
            "id": identity["id"],
            "identity": {"@odata.type": "#microsoft.graph.communicationsIdentitySet", "user": identity},
            "administrativeUnitInfos": [],
        }

    def _session(
        self, start: datetime, caller: tuple[str, str], callee: tuple[str, str], modalities: list[str]
    ) -> dict[str, Any]:
        begin = start + timedelta(seconds=self._rng.uniform(0, 20))
        failure = self._failure()
        length = (
            self._rng.uniform(3, 25) if failure and failure["stage"] == "callSetup" else self._rng.uniform(30, 3600)
        )
        end = begin + timedelta(seconds=length)
        ends = [self._endpoint(caller, 0), self._endpoint(callee, 1)]
        segment = {
            "@odata.type": f"{NS}.segment",
            "id": self._id(),
            "startDateTime": format_graph(begin),
            "endDateTime": format_graph(end),
            "caller": ends[0],
            "callee": ends[1],
            "failureInfo": failure,
            "media": [] if failure and failure["stage"] == "callSetup" else self._media(modalities, begin, end),
        }
        return {
            "@odata.type": f"{NS}.session",
            "id": self._id(),
            "modalities": modalities,
            "isTest": False,
            "startDateTime": segment["startDateTime"],
            "endDateTime": segment["endDateTime"],
            "caller": ends[0],
            "callee": ends[1],
            "failureInfo": failure,
            "segments": [segment],
        }

    def _failure(self) -> dict[str, Any] | None:
        if self._rng.random() > 0.08:
            return None
        stage, reason = self._rng.choice(FAILURES)
        return {"@odata.type": f"{NS}.failureInfo", "stage": stage, "reason": reason}

    def _endpoint(self, person: tuple[str, str], index: int) -> dict[str, Any]:
        platform, family, header = self._rng.choice(AGENTS)
        rating = self._rng.choice(["notRated", "notRated", "excellent", "good", "fair", "poor", "bad"])
        return {
            "@odata.type": f"{NS}.participantEndpoint",
            "name": f"{person[1]}-device-{index}",
            "cpuName": self._rng.choice(["Intel(R) Core(TM) i7-1185G7", "Apple M2", "Snapdragon 8 Gen 2"]),
            "cpuCoresCount": self._rng.choice([4, 8, 10, 12]),
            "cpuProcessorSpeedInMhz": self._rng.choice([2208, 3000, 3490]),
            "associatedIdentity": {
                "@odata.type": f"{NS}.userIdentity",
                **self._identity(person),
                "userPrincipalName": f"{person[1]}@callscope.example",
            },
            "feedback": {
                "@odata.type": f"{NS}.userFeedback",
                "rating": rating,
                "text": None,
                "tokens": {"NoSound": False, "Echo": rating in ("poor", "bad")},
            },
            "userAgent": {
                "@odata.type": f"{NS}.clientUserAgent",
                "headerValue": header,
                "platform": platform,
                "productFamily": family,
                "applicationVersion": header.split("/")[-1].split(" ")[0],
            },
        }

    def _media(self, modalities: list[str], begin: datetime, end: datetime) -> list[dict[str, Any]]:
        labels = {"audio": "main-audio", "video": "main-video", "screenSharing": "applicationsharing-video"}
        return [
            {
                "@odata.type": f"{NS}.media",
                "label": labels[m],
                "callerNetwork": self._network(),
                "calleeNetwork": self._network(),
                "callerDevice": self._device(),
                "calleeDevice": self._device(),
                "streams": [self._stream(m, d, begin, end) for d in ("callerToCallee", "calleeToCaller")],
            }
            for m in modalities
        ]

    def _network(self) -> dict[str, Any]:
        kind, band, radio = self._rng.choice(NETWORKS)
        return {
            "@odata.type": f"{NS}.networkInfo",
            "connectionType": kind,
            "wifiBand": band,
            "wifiRadioType": radio,
            "networkTransportProtocol": self._rng.choice(["udp", "udp", "udp", "tcp"]),
            "ipAddress": f"10.{self._rng.randint(0, 255)}.{self._rng.randint(0, 255)}.{self._rng.randint(1, 254)}",
            "subnet": "10.0.0.0",
            "port": self._rng.randint(50000, 50100),
            "linkSpeed": self._rng.choice([100_000_000, 1_000_000_000, 54_000_000]),
            "wifiSignalStrength": self._rng.randint(40, 100) if kind == "wifi" else None,
            "traceRouteHops": [],
        }

    def _device(self) -> dict[str, Any]:
        return {
            "@odata.type": f"{NS}.deviceInfo",
            "captureDeviceName": self._rng.choice(["Microphone (Jabra Evolve2 65)", "MacBook Pro Microphone"]),
            "renderDeviceName": self._rng.choice(["Speakers (Jabra Evolve2 65)", "MacBook Pro Speakers"]),
            "receivedSignalLevel": self._rng.randint(-30, -5),
            "receivedNoiseLevel": self._rng.randint(-90, -60),
            "micGlitchRate": float(self._rng.randint(0, 40)),
            "speakerGlitchRate": float(self._rng.randint(0, 4000)),
        }

    def _stream(self, modality: str, direction: str, begin: datetime, end: datetime) -> dict[str, Any]:
        quality = self._rng.choice(["good", "good", "good", "fair", "poor"])
        jitter = {"good": 0.008, "fair": 0.025, "poor": 0.06}[quality] * self._rng.uniform(0.5, 1.5)
        loss = {"good": 0.002, "fair": 0.03, "poor": 0.12}[quality] * self._rng.uniform(0.5, 1.5)
        rtt = {"good": 0.04, "fair": 0.2, "poor": 0.6}[quality] * self._rng.uniform(0.5, 1.5)
        stream = {
            "@odata.type": f"{NS}.mediaStream",
            "streamId": str(self._rng.randint(10**9, 4 * 10**9)),
            "streamDirection": direction,
            "startDateTime": format_graph(begin),
            "endDateTime": format_graph(end),
            "averageJitter": f"PT{jitter:.3f}S",
            "maxJitter": f"PT{jitter * 2:.3f}S",
            "averagePacketLossRate": round(loss, 4),
            "maxPacketLossRate": round(min(1.0, loss * 3), 4),
            "averageRoundTripTime": f"PT{rtt:.3f}S",
            "maxRoundTripTime": f"PT{rtt * 1.5:.3f}S",
            "packetUtilization": int((end - begin).total_seconds() * 50),
            "averageBandwidthEstimate": self._rng.randint(500_000, 20_000_000),
            "wasMediaBypassed": False,
        }
        if modality == "audio":
            stream["audioCodec"] = self._rng.choice(["opus", "satin", "silkWide", "g722"])
            stream["averageRatioOfConcealedSamples"] = round(loss * 0.8, 4)
            stream["isAudioForwardErrorCorrectionUsed"] = quality != "good"
        else:
            stream["videoCodec"] = self._rng.choice(["h264", "av1", "h265"])
            stream["averageVideoFrameRate"] = round({"good": 29.5, "fair": 20.0, "poor": 9.0}[quality], 1)
            stream["averageVideoFrameLossPercentage"] = round(loss * 100, 2)
        return stream

    def _pstn_person(self) -> tuple[tuple[str, str], datetime, int]:
        person = self._rng.choice(USERS)
        start = self._now - timedelta(seconds=self._rng.randint(60, 89 * 86400))
        return person, start, self._rng.randint(5, 1800)

    def pstn_row(self) -> dict[str, Any]:
        """A Calling Plan (PSTN) call."""
        person, start, duration = self._pstn_person()
        call_type = self._rng.choice(["user_in", "user_out", "conf_out", "conf_in"])
        return {
            "@odata.type": f"{NS}.pstnCallLogRow",
            "id": self._id(),
            "callId": f"{self._rng.randint(10**9, 2 * 10**9)}_{self._rng.randint(10**8, 10**9)}@10.0.0.1",
            "userId": self._identity(person)["id"],
            "userPrincipalName": f"{person[1]}@callscope.example",
            "userDisplayName": person[0],
            "startDateTime": format_graph(start),
            "endDateTime": format_graph(start + timedelta(seconds=duration)),
            "duration": duration,
            "charge": round(duration / 60 * 0.02, 2),
            "connectionCharge": 0.0,
            "callType": call_type,
            "currency": "USD",
            "calleeNumber": f"+1425555{self._rng.randint(1000, 9999)}",
            "callerNumber": f"+1206555{self._rng.randint(1000, 9999)}",
            "usageCountryCode": "US",
            "tenantCountryCode": "US",
            "destinationContext": self._rng.choice(["Domestic", "International"]),
            "destinationName": "United States",
            "licenseCapability": "MCOPSTNU",
            "inventoryType": "Subscriber",
            "operator": "Microsoft",
            "callDurationSource": "microsoft",
        }

    def direct_routing_row(self) -> dict[str, Any]:
        """A Direct Routing call through a session border controller."""
        person, start, duration = self._pstn_person()
        success = self._rng.random() > 0.1
        row = {
            "@odata.type": f"{NS}.directRoutingLogRow",
            "id": self._id(),
            "correlationId": self._id(),
            "userId": self._identity(person)["id"],
            "userPrincipalName": f"{person[1]}@callscope.example",
            "userDisplayName": person[0],
            "inviteDateTime": format_graph(start - timedelta(seconds=2)),
            "startDateTime": format_graph(start),
            "duration": duration if success else 0,
            "successfulCall": success,
            "callType": self._rng.choice(["ByotIn", "ByotOut"]),
            "calleeNumber": f"+4930555{self._rng.randint(1000, 9999)}",
            "callerNumber": f"+4940555{self._rng.randint(1000, 9999)}",
            "finalSipCode": 0 if success else 487,
            "finalSipCodePhrase": "BYE" if success else "Request Terminated",
            "callEndSubReason": 0 if success else 540487,
            "trunkFullyQualifiedDomainName": "sbc1.callscope.example",
            "mediaBypassEnabled": self._rng.random() < 0.5,
            "signalingLocation": "EuropeWest",
            "mediaPathLocation": "EuropeWest",
        }
        if success:
            row["endDateTime"] = format_graph(start + timedelta(seconds=duration))
        else:
            row["failureDateTime"] = format_graph(start)
        return row
