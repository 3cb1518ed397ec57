"""`callscope serve --workers N`: several processes on one port, on the embedded SQLite file too."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.server import answers, free_port


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def test_workers_share_the_sqlite_file_and_each_watches_it_for_the_others_events(tmp_path: Path) -> None:
    port = free_port()
    command = [sys.executable, "-m", "callscope", "serve", "--port", str(port), "--data-dir", str(tmp_path)]
    server = subprocess.Popen([*command, "--workers", "2"])
    try:
        assert answers(port, 60)
        workers = [p for p in _children(server.pid) if b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()]
        assert len(workers) == 2
        for worker in workers:  # the setting each worker builds its services from (settings_from_env)
            assert b"CALLSCOPE_SHARED_STORE=1" in Path(f"/proc/{worker}/environ").read_bytes().split(b"\0")
        assert (tmp_path / "callscope.sqlite3").exists()
    finally:
        server.terminate()
        server.wait(timeout=30)
