"""The Alembic migrations build exactly the tables the code describes."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Engine, text

from callscope.app import Services
from callscope.storage.database import connect
from callscope.storage.revisions import MIGRATIONS, migrate
from callscope.storage.tables import metadata


def test_migrations_and_table_definitions_agree(services: Services) -> None:
    with services.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []


def test_an_existing_sqlite_store_keeps_its_events_and_never_gives_an_acknowledged_id_again(tmp_path: Path) -> None:
    engine = connect(f"sqlite:///{tmp_path / 'old.db'}")
    _upgrade(engine, "0013")
    with engine.begin() as conn:  # a store of the former schema: event 7 acknowledged and deleted, 5 kept
        conn.execute(
            text(
                "INSERT INTO applications (tenant_id, id, user_uri, user_agent, endpoint_id, culture, created_us,"
                " last_seen_us, batch, batch_last_id, acked_id) VALUES ('t', 'b', 'sip:b@x', 'ua', 'e', 'en', 0, 0,"
                " 3, 7, 7)"
            )
        )
        conn.execute(text("INSERT INTO events VALUES (5, 't', 'a', 0, x'7b7d')"))
    migrate(engine)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT id, application_id FROM events")).all() == [(5, "a")]
        conn.execute(
            text("INSERT INTO events (tenant_id, application_id, created_us, payload) VALUES ('t', 'b', 0, x'')")
        )
        assert conn.execute(text("SELECT max(id) FROM events")).scalar() == 8
    engine.dispose()


def _upgrade(engine: Engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def test_participant_links_are_kept_with_their_record_s_start_when_their_key_changes(tmp_path: Path) -> None:
    engine = connect(f"sqlite:///{tmp_path / 'old.db'}")
    _upgrade(engine, "0014")
    links = [("t", "alice", "r1"), ("t", "bob", "r1"), ("t", "alice", "r2"), ("u", "alice", "r1")]
    starts = {("t", "r1"): 100, ("t", "r2"): 50, ("u", "r1"): 7}
    with engine.begin() as conn:
        for (tenant, record), start in starts.items():
            conn.execute(
                text("INSERT INTO call_records VALUES (:t, :r, 1, :s, :s, x'00')"),
                {"t": tenant, "r": record, "s": start},
            )
        for link in links:
            conn.execute(
                text("INSERT INTO call_record_participants VALUES (:t, :p, :r)"), dict(zip("tpr", link, strict=True))
            )
    migrate(engine)
    with engine.begin() as conn:
        rows = conn.execute(text("SELECT tenant_id, participant_id, start_us, record_id FROM call_record_participants"))
        assert sorted(rows) == sorted((t, p, starts[t, r], r) for t, p, r in links)
        plan = conn.execute(
            text(
                "EXPLAIN QUERY PLAN SELECT record_id FROM call_record_participants"
                " WHERE tenant_id = 't' AND participant_id = 'alice' AND start_us > 60 ORDER BY start_us, record_id"
            )
        ).all()
        assert len(plan) == 1 and "PRIMARY KEY" in plan[0][-1]  # one range of the key, already in order
    engine.dispose()


def test_the_links_key_change_goes_back_and_forth(services: Services) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with services.engine.begin() as conn:
        conn.execute(text("INSERT INTO call_records VALUES ('t', 'r', 1, 5, 6, :d)"), {"d": b"{}"})
        conn.execute(text("INSERT INTO call_record_participants VALUES ('t', 'p', 5, 'r')"))
        config.attributes["connection"] = conn
        command.downgrade(config, "0014")
        assert conn.execute(text("SELECT * FROM call_record_participants")).all() == [("t", "p", "r")]
        command.upgrade(config, "head")
        assert conn.execute(text("SELECT * FROM call_record_participants")).all() == [("t", "p", 5, "r")]
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
