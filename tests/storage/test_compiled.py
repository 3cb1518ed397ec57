"""Statements compiled once and run on the driver's cursor behave as SQLAlchemy's execute would."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from callscope.app import Services
from callscope.storage.compiled import Compiled
from callscope.storage.tables import users

_c = users.c
_ADD = Compiled(
    insert(users).values(
        tenant_id=bindparam("t"), uri=bindparam("u"), display_name=bindparam("n"), password_hash=bindparam("h")
    )
)
_NAMES = Compiled(select(_c.uri, _c.display_name).where(_c.tenant_id == bindparam("t")).order_by(_c.uri))
_ONE = Compiled(select(users).where(_c.tenant_id == bindparam("t"), _c.uri == bindparam("u")))
_COUNT = Compiled(select(func.count()).select_from(users))  # no parameters; _NAMES has one, the others several
_RENAME = Compiled(update(users).where(_c.tenant_id == bindparam("t")).values(display_name=bindparam("n")))


def _people(tenant: str, *uris: str) -> list[dict[str, str | None]]:
    return [{"t": tenant, "u": uri, "n": f"Näme {uri}", "h": None} for uri in uris]


def test_rows_first_and_changes_run_inside_the_callers_transaction(services: Services) -> None:
    with services.engine.begin() as conn:
        _ADD.run_many(conn, _people("t", "sip:b@x", "sip:a@x"))
        assert _NAMES.rows(conn, {"t": "t"}) == [("sip:a@x", "Näme sip:a@x"), ("sip:b@x", "Näme sip:b@x")]
        assert _RENAME.run(conn, {"t": "t", "n": "Same"}) == 2
        row = _ONE.first(conn, {"t": "t", "u": "sip:a@x"})
        assert row is not None and (row["uri"], row["display_name"]) == ("sip:a@x", "Same")
        assert _ONE.first(conn, {"t": "t", "u": "sip:nobody@x"}) is None
        assert _COUNT.rows(conn, {}) == [(2,)]
    with services.engine.connect() as conn:
        _ADD.run_many(conn, _people("u", "sip:c@x"))
        conn.rollback()
        assert _NAMES.rows(conn, {"t": "u"}) == []  # rolled back with the transaction it ran in


def test_a_driver_error_arrives_as_sqlalchemys_so_that_it_is_explained_in_one_place(services: Services) -> None:
    with pytest.raises(DBAPIError) as raised, services.engine.begin() as conn:
        _ADD.run_many(conn, _people("t", "sip:a@x", "sip:a@x"))
    assert isinstance(raised.value, IntegrityError)
    with services.engine.connect() as conn:
        assert _NAMES.rows(conn, {"t": "t"}) == []


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_lost_connection_is_invalidated_and_the_next_one_works(services: Services) -> None:
    with services.engine.connect() as conn:
        backend = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with services.engine.connect() as other:
            other.exec_driver_sql(f"SELECT pg_terminate_backend({int(backend or 0)})")
        with pytest.raises(DBAPIError) as raised:
            _NAMES.rows(conn, {"t": "t"})
        assert raised.value.connection_invalidated and conn.invalidated
    with services.engine.connect() as conn:
        assert _NAMES.rows(conn, {"t": "t"}) == []
