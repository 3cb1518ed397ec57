"""UCWA's boiler-plate errors, each from its defined condition (docs/ucwa.md, "Generic errors").

- 409 Conflict with no subcode: a UCWA operation callscope does not offer;
- 500 ServiceFailure / InvalidExchangeServerVersion: the database was migrated by a newer callscope;
- 410 Gone / CannotRedirect: the database cannot be reached and there is no backup pool.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from callscope.app import Services, create_app, create_services
from callscope.auth.tokens import issue_token, load_or_create_key
from callscope.config import Settings
from callscope.errors import UnsupportedStoreVersion
from callscope.storage.revisions import migrate
from tests.conftest import TENANT
from tests.support.server import serving
from tests.support.ucwa import UcwaClient, assert_valid_xml

XML = {"Accept": "application/xml"}


def _signed_in(base_url: str, services: Services) -> tuple[UcwaClient, dict[str, Any], str]:
    services.users.add(TENANT, "alice@example.com", "Alice", "pw")
    client = UcwaClient(base_url)
    applications = client.sign_in("alice@example.com", "pw")
    app = client.create_application(applications).json()
    return client, app, applications


@pytest.mark.parametrize(
    "operation", ["messagingInvitations", "phoneAudioInvitations", "onlineMeetingInvitations", "participantInvitations"]
)
def test_operations_callscope_does_not_offer_are_409_without_subcode(
    base_url: str, services: Services, operation: str
) -> None:
    client, app, _ = _signed_in(base_url, services)
    href = f"{app['_embedded']['communication']['_links']['self']['href']}/{operation}"

    answer = client.post(href, json={"to": "sip:bob@example.com", "operationId": "op-1"})
    assert answer.status_code == 409
    assert "subcode" not in answer.json() and answer.json()["code"] == "Conflict"
    as_xml = client.post(href, headers=XML)
    root = assert_valid_xml(as_xml.content)
    assert (as_xml.status_code, root.findtext("{*}code"), root.find("{*}subcode")) == (409, "Conflict", None)
    assert client.post(f"{href}x").status_code == 404

    other = UcwaClient(base_url)
    services.users.add(TENANT, "mallory@example.com", "Mallory", "pw")
    other.sign_in("mallory@example.com", "pw")
    assert other.post(href).status_code == 404  # someone else's application: nothing to see


def test_a_database_migrated_past_this_server_is_500_invalid_exchange_server_version(
    base_url: str, services: Services
) -> None:
    client, app, _ = _signed_in(base_url, services)
    with services.engine.begin() as conn:  # what a newer callscope's migration might do
        conn.execute(text("ALTER TABLE applications RENAME TO applications_next"))
        conn.execute(text("UPDATE alembic_version SET version_num = 'f00dfeed0001'"))
    try:
        for headers in ({}, XML):
            answer = client.get(app["_links"]["self"]["href"], headers=headers)
            assert answer.status_code == 500
            if headers:
                root = assert_valid_xml(answer.content)
                code, subcode = root.findtext("{*}code"), root.findtext("{*}subcode")
            else:
                code, subcode = answer.json()["code"], answer.json()["subcode"]
            assert (code, subcode) == ("ServiceFailure", "InvalidExchangeServerVersion")
        with pytest.raises(UnsupportedStoreVersion, match="f00dfeed0001"):
            migrate(services.engine)  # and a restart refuses to touch it
    finally:
        with services.engine.begin() as conn:
            conn.execute(text("ALTER TABLE applications_next RENAME TO applications"))
            conn.execute(text(f"UPDATE alembic_version SET version_num = '{_head()}'"))
    assert client.get(app["_links"]["self"]["href"]).status_code == 200


def _head() -> str:
    from alembic.script import ScriptDirectory

    from callscope.storage.revisions import MIGRATIONS

    return str(ScriptDirectory(str(MIGRATIONS)).get_current_head())


@pytest.fixture
def own_database(postgres_url: str) -> Iterator[str]:
    """A PostgreSQL database of this test's own, which the test may take away."""
    name = f"outage_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield postgres_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def test_an_unreachable_database_is_410_cannot_redirect(tmp_path: Path, postgres_url: str, own_database: str) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=own_database, event_channel_floor_seconds=0)
    services = create_services(settings)
    try:
        with serving(create_app(settings, services)) as base_url:
            client, app, _ = _signed_in(base_url, services)
            admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f"DROP DATABASE {own_database.rsplit('/', 1)[1]} WITH (FORCE)"))
            admin.dispose()
            for headers in ({}, XML):
                answer = client.get(app["_links"]["self"]["href"], headers=headers)
                assert answer.status_code == 410, answer.text
                if headers:
                    root = assert_valid_xml(answer.content)
                    assert (root.findtext("{*}code"), root.findtext("{*}subcode")) == ("Gone", "CannotRedirect")
                else:
                    assert (answer.json()["code"], answer.json()["subcode"]) == ("Gone", "CannotRedirect")
            key = load_or_create_key(settings.data_dir)
            token = issue_token(
                key, tenant_id=TENANT, scopes=["CallRecords.Read.All"], subject="t", expires_in=60, now=time.time()
            )
            for path in ("", "/some-record-id"):  # Graph's own dialect for the same outage
                graph = httpx.get(
                    f"{base_url}/v1.0/communications/callRecords{path}", headers={"Authorization": f"Bearer {token}"}
                )
                assert (graph.status_code, graph.json()["error"]["code"]) == (503, "ServiceUnavailable"), graph.text
    finally:
        services.engine.dispose()
