"""The mark that tells the read cache whether stored records may have changed."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from callscope.app import Services, create_services
from callscope.config import Settings
from callscope.errors import InvalidDocument
from callscope.services.call_records import RECORD_WATCH_SECONDS
from tests.conftest import TENANT
from tests.support.documents import big_record, jsonl


def test_a_committed_record_write_moves_the_mark_and_a_refused_import_does_not(services: Services) -> None:
    changes = services.call_records.changes
    before = changes.mark
    services.ingestion.import_lines(TENANT, jsonl([big_record(1, record_id="a")]).splitlines())
    after = changes.mark
    assert after != before
    with pytest.raises(InvalidDocument):
        services.ingestion.import_lines(TENANT, [b'{"id": "b", "version": "not a number"}'])
    assert changes.mark == after


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_on_sqlite_another_connections_commit_moves_the_mark(services: Services, settings: Settings) -> None:
    changes = services.call_records.changes

    async def watch_while_another_writes() -> tuple[bool, int, int]:
        watcher = asyncio.create_task(services.call_records.follow_writes())
        await asyncio.sleep(0.05)
        watched, quiet = changes.watched, changes.mark
        elsewhere = create_services(settings)
        elsewhere.ingestion.import_lines(TENANT, jsonl([big_record(1, record_id="a")]).splitlines())
        elsewhere.engine.dispose()
        await asyncio.sleep(3 * RECORD_WATCH_SECONDS)
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        return watched, quiet, changes.mark

    watched, quiet, moved = asyncio.run(watch_while_another_writes())
    assert watched and not changes.watched  # watched only while the watcher runs
    assert moved != quiet
