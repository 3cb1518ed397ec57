"""Outgoing HTTP to subscribers: the validation handshake and notification delivery (httpx)."""

from __future__ import annotations

import secrets

import httpx

VALIDATION_SECONDS = 10.0  # Graph's limit for echoing the validation token
DELIVERY_SECONDS = 3.0  # Graph expects a 2xx this fast


class Webhooks:
    """POSTs to subscribers' URLs; never raises for what a subscriber does."""

    def __init__(self) -> None:
        self._http: httpx.AsyncClient | None = None

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            limits = httpx.Limits(max_connections=50, max_keepalive_connections=20, keepalive_expiry=2)
            self._http = httpx.AsyncClient(limits=limits, follow_redirects=False)
        return self._http

    async def validate(self, url: str) -> bool:
        """Graph's handshake: POST `?validationToken=…` (text/plain); the URL must echo the token in time."""
        token = f"Validation: callscope {secrets.token_urlsafe(24)}"
        try:
            response = await self._client().post(
                url,
                params={"validationToken": token},
                headers={"Content-Type": "text/plain; charset=utf-8"},
                timeout=VALIDATION_SECONDS,
            )
        except httpx.HTTPError:
            return False
        media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        return response.status_code == 200 and media_type == "text/plain" and response.text == token

    async def deliver(self, url: str, body: bytes) -> bool:
        """POST a notification collection; True on any 2xx in time."""
        try:
            response = await self._client().post(
                url, content=body, headers={"Content-Type": "application/json"}, timeout=DELIVERY_SECONDS
            )
        except httpx.HTTPError:
            return False
        return 200 <= response.status_code < 300

    async def close(self) -> None:
        """Close pooled connections."""
        if self._http is not None:
            await self._http.aclose()
            self._http = None
