"""The command line: token, import, demo, in the forms the README shows."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import jwt
import pytest
from typer.testing import CliRunner

from callscope.app import Services, create_services
from callscope.cli import main
from callscope.cli.main import app
from callscope.config import Settings
from callscope.services.call_records import RecordQuery
from tests.support.documents import demo_records, jsonl
from tests.support.server import sqlite_write_lock

runner = CliRunner()


def test_token_prints_a_signed_token_as_the_last_line(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "token",
            "--tenant",
            "t1",
            "--scope",
            "CallRecords.Read.All",
            "--scope",
            "Callscope.Ingest",
            "--subject",
            "alice@example.com",
            "--data-dir",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    claims = jwt.decode(result.output.strip().splitlines()[-1], options={"verify_signature": False})
    assert claims["tid"] == "t1"
    assert claims["sub"] == "alice@example.com"
    assert set(claims["roles"]) == {"CallRecords.Read.All", "Callscope.Ingest"}
    assert (tmp_path / "signing-key.pem").stat().st_mode & 0o077 == 0


def test_import_reads_a_file_and_rejects_a_bad_one_whole(tmp_path: Path, settings: Settings) -> None:
    url = ["--data-dir", str(settings.data_dir), "--database-url", settings.database_url or ""]
    good = tmp_path / "good.jsonl"
    good.write_bytes(jsonl(demo_records(4)))
    result = runner.invoke(app, ["import", str(good), "--tenant", "t1", *url])
    assert result.exit_code == 0, result.output
    assert "checking" in result.output and "writing" in result.output
    assert "6 lines" in result.output  # four records and two log rows written
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(jsonl(demo_records(3, seed=99)) + b'{"id": 1}\n')
    result = runner.invoke(app, ["import", str(bad), "--tenant", "t1", *url])
    assert result.exit_code == 1
    assert "line 6" in result.output  # three records and two log rows come first
    services = create_services(settings)
    assert services.call_records.count("t1", RecordQuery()) == 4
    services.engine.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # PostgreSQL has no database-wide write lock
def test_an_import_that_cannot_write_says_so_and_completes_when_run_again(
    tmp_path: Path, services: Services, settings: Settings, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    configured = main._settings
    monkeypatch.setattr(
        main, "_settings", lambda *a: dataclasses.replace(configured(*a), sqlite_busy_timeout_seconds=0.3)
    )
    url = ["--data-dir", str(settings.data_dir), "--database-url", database_url]
    lines = tmp_path / "records.jsonl"
    lines.write_bytes(jsonl(demo_records(3)))
    with sqlite_write_lock(database_url):
        stopped = runner.invoke(app, ["import", str(lines), "--tenant", "t1", *url])
    assert stopped.exit_code == 1
    said = " ".join(stopped.output.split())
    assert "import stopped while writing: other writers held the database's lock too long" in said
    assert "run the same import again" in said
    completed = runner.invoke(app, ["import", str(lines), "--tenant", "t1", *url])
    assert completed.exit_code == 0, completed.output
    assert "'recordsWritten': 3" in completed.output


def test_import_reads_standard_input(settings: Settings) -> None:
    url = ["--data-dir", str(settings.data_dir), "--database-url", settings.database_url or ""]
    result = runner.invoke(app, ["import", "-", "--tenant", "t2", *url], input=jsonl(demo_records(2)))
    assert result.exit_code == 0, result.output
    services = create_services(settings)
    assert services.call_records.count("t2", RecordQuery()) == 2
    services.engine.dispose()


def test_demo_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    outputs = []
    for name in ("a", "b", "c"):
        target = tmp_path / f"{name}.jsonl"
        seed = "5" if name != "c" else "6"
        result = runner.invoke(app, ["demo", "--calls", "20", "--seed", seed, "--output", str(target)])
        assert result.exit_code == 0, result.output
        outputs.append([line[:200] for line in target.read_bytes().splitlines()])
    assert len(outputs[0]) > 20
    ids_a = [line for line in outputs[0] if b'callRecords.callRecord"' in line]
    assert len(ids_a) == 20
    assert outputs[0][0][:120] == outputs[1][0][:120]
    assert outputs[0][0][:120] != outputs[2][0][:120]


def test_demo_imports_into_the_data_dir(settings: Settings) -> None:
    url = ["--data-dir", str(settings.data_dir), "--database-url", settings.database_url or ""]
    result = runner.invoke(app, ["demo", "--calls", "30", "--seed", "1", "--tenant", "demo", *url])
    assert result.exit_code == 0, result.output
    services = create_services(settings)
    assert services.call_records.count("demo", RecordQuery()) == 30
    services.engine.dispose()


def test_user_add_stores_a_hashed_password_that_signs_in(settings: Settings) -> None:
    url = ["--data-dir", str(settings.data_dir), "--database-url", settings.database_url or ""]
    result = runner.invoke(
        app,
        ["user", "add", "--tenant", "t1", "--user", "Dora@Example.com", "--display-name", "Dora", *url],
        input="s3cret\ns3cret\n",
    )
    assert result.exit_code == 0, result.output
    assert "sip:dora@example.com" in result.output
    services = create_services(settings)
    assert services.users.authenticate("dora@example.com", "s3cret").tenant_id == "t1"
    with services.engine.connect() as conn:
        stored = conn.exec_driver_sql(  # the PostgreSQL database is shared: other tests' users may be there
            "SELECT password_hash FROM users WHERE uri = 'sip:dora@example.com'"
        ).scalar_one()
    assert stored.startswith("$argon2id$")
    assert "s3cret" not in stored
    services.engine.dispose()
