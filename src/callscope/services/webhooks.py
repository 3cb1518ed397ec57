"""Outgoing HTTP to subscribers: the validation handshake and notification delivery (aiohttp).

aiohttp rather than httpx, which the tests use as a client: a delivery costs a tenth of the CPU
(decision 0009), and at a steady call rate every hang-up sends one.
"""

from __future__ import annotations

import secrets

import aiohttp

VALIDATION_SECONDS = 10.0  # Graph's limit for echoing the validation token
DELIVERY_SECONDS = 3.0  # Graph expects a 2xx this fast
ANSWER_LIMIT = 64 * 1024  # bytes of a subscriber's answer read; an echoed token is far shorter
KEEPALIVE_SECONDS = 2.0  # an idle pooled connection to a subscriber is closed after this long
CONNECTIONS = 50  # open at once, to all subscribers together


class Webhooks:
    """POSTs to subscribers' URLs; never raises for what a subscriber does."""

    def __init__(self, validation_seconds: float = VALIDATION_SECONDS, delivery_seconds: float = DELIVERY_SECONDS):
        self._validation = aiohttp.ClientTimeout(total=validation_seconds)
        self._delivery = aiohttp.ClientTimeout(total=delivery_seconds)
        self._http: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._http is None:
            connector = aiohttp.TCPConnector(limit=CONNECTIONS, keepalive_timeout=KEEPALIVE_SECONDS)
            self._http = aiohttp.ClientSession(connector=connector, trust_env=True)
        return self._http

    async def validate(self, url: str) -> bool:
        """Graph's handshake: POST `?validationToken=…` (text/plain); the URL must echo the token in time."""
        token = f"Validation: callscope {secrets.token_urlsafe(24)}"
        answer = await self._post(
            url, b"", "text/plain; charset=utf-8", self._validation, params={"validationToken": token}
        )
        if answer is None:
            return False
        status, media_type, body = answer
        return status == 200 and media_type == "text/plain" and body == token.encode()

    async def deliver(self, url: str, body: bytes) -> bool:
        """POST a notification collection; True on any 2xx in time."""
        answer = await self._post(url, body, "application/json", self._delivery)
        return answer is not None and 200 <= answer[0] < 300

    async def _post(
        self,
        url: str,
        body: bytes,
        content_type: str,
        timeout: aiohttp.ClientTimeout,
        params: dict[str, str] | None = None,
    ) -> tuple[int, str, bytes] | None:
        """Status, media type and (the start of) the body of the answer; None if there was none in time."""
        try:
            async with self._client().post(
                url,
                data=body,
                params=params,
                headers={"Content-Type": content_type},
                timeout=timeout,
                allow_redirects=False,
            ) as response:
                return response.status, response.content_type.lower(), await _start_of(response)
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return None

    async def close(self) -> None:
        """Close pooled connections."""
        if self._http is not None:
            await self._http.close()
            self._http = None


async def _start_of(response: aiohttp.ClientResponse) -> bytes:
    """The answer's body up to ANSWER_LIMIT bytes (read whole, when shorter, so its connection can be reused)."""
    chunks: list[bytes] = []
    size = 0
    while size < ANSWER_LIMIT and (chunk := await response.content.read(ANSWER_LIMIT - size)):
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)
