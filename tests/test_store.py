from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from sales_core import store
from sales_core.errors import StoreBusyError
from sales_core.migrations import MIGRATIONS, Migration


def test_migrations_recorded_and_applied_once(db_path: Path) -> None:
    with store.connect(db_path) as con:
        versions = con.execute("SELECT version FROM schema_migrations").fetchall()
        assert versions == [(m.version,) for m in MIGRATIONS]
        assert store.migrate(con) == []  # nothing left to do
        tables = {
            r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        }
    assert {
        "opportunities",
        "contracts",
        "invoices",
        "qualifications",
        "sync_runs",
        "quarantine",
        "opportunity_history",
        "meta",
        "schema_migrations",
    } <= tables


NEXT = len(MIGRATIONS) + 1


def test_new_migration_runs_in_its_own_transaction(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "m.duckdb"))
    try:
        store.migrate(con)

        broken = Migration(NEXT, "broken", ("CREATE TABLE half_done (x INTEGER)", "SELECT 1/x"))
        with pytest.raises(duckdb.Error):
            store.migrate(con, (*MIGRATIONS, broken))
        tables = {
            r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        }
        assert "half_done" not in tables
        assert con.execute("SELECT max(version) FROM schema_migrations").fetchall() == [(NEXT - 1,)]

        good = Migration(NEXT, "good", ("CREATE TABLE extra (x INTEGER)",))
        assert store.migrate(con, (*MIGRATIONS, good)) == [NEXT]
        assert store.migrate(con, (*MIGRATIONS, good)) == []
    finally:
        con.close()


def test_data_version_bumps_in_a_transaction(db_path: Path) -> None:
    before = store.data_version(db_path)
    with store.connect(db_path) as con, store.transaction(con):
        store.bump_data_version(con)
    assert store.data_version(db_path) == before + 1
    with pytest.raises(RuntimeError), store.connect(db_path) as con, store.transaction(con):
        store.bump_data_version(con)
        raise RuntimeError("rolled back")
    assert store.data_version(db_path) == before + 1


HOLDER = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
con.close()
"""


def test_lock_held_by_another_process__waits_then_says_so(db_path: Path) -> None:
    store.data_version(db_path)  # create and migrate the file
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db_path), "30"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        started = time.monotonic()
        with pytest.raises(StoreBusyError) as exc:
            store.data_version(db_path, lock_timeout=0.5)
        assert time.monotonic() - started >= 0.5
        assert "in use by another process" in str(exc.value)
    finally:
        holder.kill()
        holder.wait()


def test_lock_released_soon__the_reader_gets_in(db_path: Path) -> None:
    store.data_version(db_path)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db_path), "0.5"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        assert store.data_version(db_path, lock_timeout=10) >= 0
    finally:
        holder.wait()


def _threads(db_path: Path) -> int:
    with store.connect(db_path) as con:
        return int(con.execute("SELECT current_setting('threads')").fetchall()[0][0])


def test_a_held_database_is_one_instance_for_every_connection_until_the_block_ends(
    db_path: Path,
) -> None:
    store.data_version(db_path)
    default = _threads(db_path)
    with store.held(db_path):
        with store.connect(db_path) as con:
            con.execute("SET GLOBAL threads = 1")  # an instance-wide setting
        assert _threads(db_path) == 1  # the next short connection joined the same instance
        # Another process waits for the file while it is held, as for a short connection.
        with pytest.raises(subprocess.CalledProcessError):
            subprocess.run(
                [sys.executable, "-c", HOLDER, str(db_path), "0"], check=True, capture_output=True
            )
    assert _threads(db_path) == default  # the instance ended with the block
    subprocess.run([sys.executable, "-c", HOLDER, str(db_path), "0"], check=True)


def test_what_cannot_be_held_is_left_to_connect_to_say(tmp_path: Path, db_path: Path) -> None:
    missing = tmp_path / "never-synced.duckdb"
    with store.held(missing):
        pass
    assert not missing.exists()  # holding creates nothing
    with store.held(tmp_path):  # a directory
        pass
    store.data_version(db_path)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db_path), "30"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        with store.held(db_path), pytest.raises(StoreBusyError):  # not held, never a crash
            store.data_version(db_path, lock_timeout=0.2)
    finally:
        holder.kill()
        holder.wait()


def _another_process_opens(db_path: Path) -> bool:
    done = subprocess.run([sys.executable, "-c", HOLDER, str(db_path), "0"], capture_output=True)
    return done.returncode == 0


def test_long_work_inside_a_hold_lets_other_processes_in(db_path: Path) -> None:
    store.data_version(db_path)
    with store.held(db_path):
        assert not _another_process_opens(db_path)
        with store.released(db_path):  # e.g. fetching from AirTable, sending mail
            assert _another_process_opens(db_path)
            assert store.data_version(db_path) >= 0  # short connections still work
        assert not _another_process_opens(db_path)  # held again for the rest of the block
        with store.held(db_path), store.released(db_path):  # a nested hold is the outer one
            assert _another_process_opens(db_path)
        assert not _another_process_opens(db_path)
    assert _another_process_opens(db_path)
    with store.released(db_path):  # outside a hold: nothing to let go
        assert _another_process_opens(db_path)
