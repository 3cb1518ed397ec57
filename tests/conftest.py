"""Fixtures shared by the whole suite: databases (SQLite and PostgreSQL), servers, tokens."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from callscope.app import Services, create_app, create_services
from callscope.auth.tokens import issue_token, load_or_create_key
from callscope.config import Settings
from callscope.storage.tables import metadata
from tests.support import postgres
from tests.support.server import serving

IN_CI = os.environ.get("CI", "").lower() == "true"
READ = "CallRecords.Read.All"
INGEST = "Callscope.Ingest"
TENANT = "11111111-2222-3333-4444-555555555555"
OTHER_TENANT = "99999999-8888-7777-6666-555555555555"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server for the session; skipped off CI when Debian's server is missing."""
    bin_dir = postgres.find_bin_dir()
    if bin_dir is None:
        if IN_CI:
            pytest.fail("PostgreSQL server binaries are missing; .ci/run must install postgresql")
        pytest.skip("PostgreSQL server is not installed (apt-get install postgresql)")
    with postgres.running_server(bin_dir) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test that uses a database runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'callscope.sqlite3'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data", database_url=database_url, event_channel_floor_seconds=0, ring_timeout_seconds=3
    )


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    built = create_services(settings)
    with built.engine.begin() as conn:  # PostgreSQL is shared by the session: start empty
        for table in reversed(metadata.sorted_tables):
            conn.execute(text(f"DELETE FROM {table.name}"))
    yield built
    built.database.close()
    built.engine.dispose()


@pytest.fixture
def base_url(settings: Settings, services: Services) -> Iterator[str]:
    with serving(create_app(settings, services)) as url:
        yield url


TokenFactory = Callable[..., str]


@pytest.fixture
def make_token(settings: Settings) -> TokenFactory:
    key = load_or_create_key(settings.data_dir)

    def make(tenant: str = TENANT, scopes: tuple[str, ...] = (READ,), expires_in: int = 3600) -> str:
        return issue_token(
            key, tenant_id=tenant, scopes=scopes, subject="tests", expires_in=expires_in, now=time.time()
        )

    return make


@pytest.fixture
def client(base_url: str, make_token: TokenFactory) -> Iterator[httpx.Client]:
    """Plain HTTP over loopback, authenticated as the test tenant with read and ingest scopes."""
    headers = {"Authorization": f"Bearer {make_token(scopes=(READ, INGEST))}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as http:
        yield http
