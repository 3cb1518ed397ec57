"""Engine helpers: a connection tuned for an import does not go back to the pool tuned."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from callscope.app import Services
from callscope.storage.database import BULK_CHECKPOINT_PAGES, bulk_writes


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_bulk_writes_checkpoint_less_often_on_that_connection_only(services: Services) -> None:
    def autocheckpoint() -> int:
        with services.engine.connect() as conn:
            return int(conn.execute(text("PRAGMA wal_autocheckpoint")).scalar_one())

    usual = autocheckpoint()
    with services.engine.connect() as connection, bulk_writes(connection) as conn:
        assert conn.execute(text("PRAGMA wal_autocheckpoint")).scalar_one() == BULK_CHECKPOINT_PAGES
        conn.commit()
        assert autocheckpoint() == usual  # other connections, meanwhile
        with conn.begin():
            conn.execute(text("CREATE TABLE bulk_probe (n INTEGER)"))
    for _ in range(3):  # whichever pooled connection comes next
        assert autocheckpoint() == usual
    with services.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM bulk_probe")).scalar_one() == 0  # the work was committed


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_bulk_writes_change_nothing_on_postgresql(services: Services) -> None:
    with services.engine.connect() as connection, bulk_writes(connection) as conn, conn.begin():
        assert conn.execute(text("SELECT 1")).scalar_one() == 1  # and no transaction was left open
