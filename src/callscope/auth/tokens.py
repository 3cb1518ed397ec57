"""Bearer JWTs: callscope's own (Ed25519, key in the data directory) and external issuers."""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from callscope.auth.principal import Principal
from callscope.config import ExternalIssuer
from callscope.errors import Unauthenticated

SigningKey = Ed25519PrivateKey
LOCAL_ISSUER = "callscope"
LOCAL_AUDIENCE = "callscope"
KEY_FILE = "signing-key.pem"
_CACHE_LIMIT = 10_000
_LEEWAY_SECONDS = 30


def load_or_create_key(data_dir: Path) -> Ed25519PrivateKey:
    """The data directory's signing key, created (readable by its owner only) on first use.

    Several server processes may start at once: the key is written to a private temporary file
    and linked into place, so exactly one key wins and nobody ever reads a half-written file.
    """
    path = data_dir / KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        _publish_new_key(path)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 key")
    return key


def _publish_new_key(path: Path) -> None:
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".signing-key-")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        with contextlib.suppress(FileExistsError):  # another process published its key first
            os.link(temporary, path)
    finally:
        os.unlink(temporary)


def issue_token(
    key: Ed25519PrivateKey,
    *,
    tenant_id: str,
    scopes: Iterable[str],
    subject: str,
    expires_in: int,
    now: float,
) -> str:
    """A signed token whose claims follow Microsoft Entra ID's (`tid`, `roles`, `scp`)."""
    granted = sorted(set(scopes))
    claims = {
        "iss": LOCAL_ISSUER,
        "aud": LOCAL_AUDIENCE,
        "sub": subject,
        "oid": subject,
        "tid": tenant_id,
        "roles": granted,
        "scp": " ".join(granted),
        "iat": int(now),
        "nbf": int(now),
        "exp": int(now) + expires_in,
    }
    return jwt.encode(claims, key, algorithm="EdDSA")


class TokenVerifier:
    """Checks signature, issuer, audience and lifetime, and reads the principal."""

    def __init__(self, local_key: Ed25519PublicKey, issuers: Iterable[ExternalIssuer] = ()) -> None:
        self._local_key = local_key
        self._issuers = {i.issuer: i for i in issuers}
        self._jwks = {i.issuer: jwt.PyJWKClient(i.jwks_url) for i in issuers if i.jwks_url}
        self._cache: dict[str, tuple[Principal, float]] = {}

    def verify(self, authorization: str | None) -> Principal:
        """The principal of an `Authorization: Bearer ...` header; Unauthenticated if unusable."""
        token = _bearer(authorization)
        cached = self._cache.get(token)
        if cached is not None and cached[1] > time.time():
            return cached[0]
        claims = self._decode(token)
        principal = _principal(claims)
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[token] = (principal, float(claims["exp"]))
        return principal

    def _decode(self, token: str) -> dict[str, Any]:
        try:
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
            key, audience, algorithms = self._key_for(issuer, token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=audience,
                issuer=issuer,
                leeway=_LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("the access token has expired") from exc
        except (jwt.PyJWTError, ValueError) as exc:
            raise Unauthenticated(f"the access token is not valid: {exc}") from exc
        return claims

    def _key_for(self, issuer: Any, token: str) -> tuple[Any, str, list[str]]:
        if issuer == LOCAL_ISSUER:
            return self._local_key, LOCAL_AUDIENCE, ["EdDSA"]
        external = self._issuers.get(issuer)
        if external is None:
            raise jwt.InvalidIssuerError(f"issuer {issuer!r} is not trusted")
        if external.issuer in self._jwks:
            key = self._jwks[external.issuer].get_signing_key_from_jwt(token).key
        else:
            key = serialization.load_pem_public_key(str(external.public_key_pem).encode())
        return key, external.audience, ["RS256", "ES256", "EdDSA"]


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise Unauthenticated("access token is empty")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the Authorization header must carry a Bearer token")
    return token.strip()


def _principal(claims: dict[str, Any]) -> Principal:
    tenant = claims.get("tid")
    subject = claims.get("oid") or claims.get("sub")
    if not isinstance(tenant, str) or not tenant or not isinstance(subject, str):
        raise Unauthenticated("the access token names no tenant (tid) or subject (oid/sub)")
    roles = claims.get("roles") or []
    scp = claims.get("scp") or ""
    scopes = frozenset([*(r for r in roles if isinstance(r, str)), *str(scp).split()])
    return Principal(tenant_id=tenant, subject=subject, scopes=scopes, expires_at=float(claims["exp"]))
