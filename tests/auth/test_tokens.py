"""Bearer tokens: callscope's own and external issuers' (PEM key or JWKS URL), and their failures."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from callscope.auth.tokens import TokenVerifier, issue_token, load_or_create_key
from callscope.config import ExternalIssuer
from callscope.errors import Unauthenticated

ENTRA = "https://login.microsoftonline.com/tenant-x/v2.0"
AUDIENCE = "https://graph.microsoft.com"


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def entra_token(key: rsa.RSAPrivateKey, **overrides: object) -> str:
    now = int(time.time())
    claims = {
        "iss": ENTRA,
        "aud": AUDIENCE,
        "tid": "tenant-x",
        "oid": "app-1",
        "roles": ["CallRecords.Read.All"],
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        **overrides,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})


def test_own_tokens_verify_and_carry_tenant_subject_and_scopes(tmp_path: Path) -> None:
    key = load_or_create_key(tmp_path)
    token = issue_token(key, tenant_id="t1", scopes=["A", "B"], subject="alice", expires_in=60, now=time.time())
    principal = TokenVerifier(key.public_key()).verify(f"Bearer {token}")
    assert (principal.tenant_id, principal.subject, principal.scopes) == ("t1", "alice", frozenset({"A", "B"}))


def test_a_token_signed_by_another_data_dir_is_rejected(tmp_path: Path) -> None:
    mine = load_or_create_key(tmp_path / "a")
    theirs = load_or_create_key(tmp_path / "b")
    token = issue_token(theirs, tenant_id="t1", scopes=["A"], subject="x", expires_in=60, now=time.time())
    with pytest.raises(Unauthenticated):
        TokenVerifier(mine.public_key()).verify(f"Bearer {token}")


def test_an_external_issuer_with_a_pem_key(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    pem = rsa_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    issuer = ExternalIssuer(issuer=ENTRA, audience=AUDIENCE, public_key_pem=pem.decode())
    verifier = TokenVerifier(load_or_create_key(tmp_path).public_key(), [issuer])
    principal = verifier.verify(f"Bearer {entra_token(rsa_key, scp='CallRecords.Read.All Other.Scope')}")
    assert principal.tenant_id == "tenant-x"
    assert principal.scopes == {"CallRecords.Read.All", "Other.Scope"}
    for bad in (
        entra_token(rsa_key, aud="someone-else"),
        entra_token(rsa_key, exp=int(time.time()) - 300),
        entra_token(rsa_key, iss="https://evil.example/v2.0"),
        entra_token(rsa_key, tid=None),
    ):
        with pytest.raises(Unauthenticated):
            verifier.verify(f"Bearer {bad}")


@pytest.fixture
def jwks_url(rsa_key: rsa.RSAPrivateKey) -> Iterator[str]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/keys"
    server.shutdown()
    server.server_close()


def test_an_external_issuer_with_a_jwks_url(tmp_path: Path, rsa_key: rsa.RSAPrivateKey, jwks_url: str) -> None:
    issuer = ExternalIssuer(issuer=ENTRA, audience=AUDIENCE, jwks_url=jwks_url)
    verifier = TokenVerifier(load_or_create_key(tmp_path).public_key(), [issuer])
    assert verifier.verify(f"Bearer {entra_token(rsa_key)}").scopes == {"CallRecords.Read.All"}
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(Unauthenticated):
        verifier.verify(f"Bearer {entra_token(other)}")


def test_processes_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=4) as pool:
        keys = list(pool.map(_public_key_of, [tmp_path] * 8))
    assert len(set(keys)) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["signing-key.pem"]


def _public_key_of(data_dir: Path) -> bytes:
    key = load_or_create_key(data_dir)
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
