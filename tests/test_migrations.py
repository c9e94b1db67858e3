"""Migrations are history: a release-1 database upgrades to the fresh schema, losing nothing."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest

from sales_core import ledger, store
from sales_core.config import load_settings
from sales_core.errors import SchemaVersionError, StoreBusyError, StoreError
from sales_core.migrations import LATEST, MIGRATIONS
from tests.conftest import BAD_SALES_DB_KINDS, bad_sales_db

RELEASE_1 = Path(__file__).parent / "fixtures" / "release-1"


def load_release_1(path: Path) -> None:
    """The release-1 database, exactly as exported (no migration of ours runs here)."""
    con = duckdb.connect(str(path))
    try:
        con.execute((RELEASE_1 / "schema.sql").read_text())
        con.execute((RELEASE_1 / "load.sql").read_text().replace("@FIXTURE@", str(RELEASE_1)))
    finally:
        con.close()


def schema_of(path: Path) -> dict[str, Any]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {
            "columns": con.execute(
                "SELECT table_name, column_name, data_type, is_nullable "
                "FROM duckdb_columns() WHERE NOT internal ORDER BY table_name, column_index"
            ).fetchall(),
            "defaults": con.execute(
                "SELECT table_name, column_name, column_default FROM duckdb_columns() "
                "WHERE NOT internal AND column_default IS NOT NULL ORDER BY ALL"
            ).fetchall(),
            "constraints": con.execute(
                "SELECT table_name, constraint_type, constraint_column_names "
                "FROM duckdb_constraints() ORDER BY ALL"
            ).fetchall(),
            "views": con.execute(
                "SELECT view_name FROM duckdb_views() WHERE NOT internal ORDER BY ALL"
            ).fetchall(),
            "sequences": con.execute(
                "SELECT sequence_name FROM duckdb_sequences() ORDER BY ALL"
            ).fetchall(),
            "migrations": con.execute(
                "SELECT version, name FROM schema_migrations ORDER BY version"
            ).fetchall(),
        }
    finally:
        con.close()


def rows(path: Path, table: str, columns: list[str]) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY ALL").fetchall()
    finally:
        con.close()


def test_release_1_database_migrates_to_the_fresh_schema_and_keeps_everything(
    tmp_path: Path,
) -> None:
    old = tmp_path / "release-1.duckdb"
    load_release_1(old)
    before = {
        table: (cols, rows(old, table, cols))
        for table, cols in _tables_and_columns(old).items()
        if table != "schema_migrations"
    }
    upgraded = tmp_path / "upgraded.duckdb"
    shutil.copy(old, upgraded)

    with store.connect(upgraded):
        pass
    fresh = tmp_path / "fresh.duckdb"
    with store.connect(fresh):
        pass

    assert schema_of(upgraded) | {"migrations": []} == schema_of(fresh) | {"migrations": []}
    assert [v for v, _ in schema_of(upgraded)["migrations"]] == list(range(1, LATEST + 1))
    for table, (cols, old_rows) in before.items():
        assert rows(upgraded, table, cols) == old_rows, table

    numbers = [r[0] for r in rows(upgraded, "generated_invoices", ["number"])]
    assert numbers == [f"INV-2026-{n:04d}" for n in range(253, 274)]
    states = dict(rows(upgraded, "generated_invoices", ["number", "status"]))
    assert states["INV-2026-0253"] == "Void" and states["INV-2026-0254"] == "Authorized"
    assert rows(upgraded, "generated_invoices", ["void_reason"])[0] == ("Wrong community, re-bill",)
    audit = rows(upgraded, "audit_log", ["id", "action"])
    assert audit == [(1, "generate"), (2, "void"), (3, "authorized")]
    # Each invoice made by release 1 has its single fee line, with the invoice's amount.
    lines = rows(upgraded, "invoice_lines", ["invoice_key", "position", "kind", "amount"])
    amounts = dict(rows(upgraded, "generated_invoices", ["invoice_key", "amount"]))
    assert len(lines) == 21
    assert all((pos, kind, amount) == (1, "fee", amounts[key]) for key, pos, kind, amount in lines)
    (assessment,) = rows(upgraded, "assessments", ["saved_by", "money_notes", "score"])
    assert assessment[:2] == ("treasurer@example.org", "NSF award, 2 years")
    # Never pushed (release 1 ran on the demo data): it joins the outbox as pending.
    assert rows(upgraded, "assessments", ["push_state", "revision"]) == [("pending", 0)]

    # The upgraded store works: the dashboards' view reads, the sequences carry on.
    receivables = rows(upgraded, "receivables", ["count(*)"])
    assert receivables == [(len(rows(old, "invoices", ["id"])) + 21,)]
    settings = load_settings({"SALES_DB": str(upgraded)})
    with store.write_transaction(settings.db_path) as con:
        ledger.audit(con, "test", "note", [], detail="after the upgrade")
    assert max(r[0] for r in rows(upgraded, "audit_log", ["id"])) == 4


def _tables_and_columns(path: Path) -> dict[str, list[str]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        found: dict[str, list[str]] = {}
        for table, column in con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() "
            "WHERE NOT internal AND table_name NOT IN (SELECT view_name FROM duckdb_views()) "
            "ORDER BY table_name, column_index"
        ).fetchall():
            found.setdefault(table, []).append(f'"{column}"')
        return found
    finally:
        con.close()


def test_a_database_from_a_newer_release_is_refused_in_words(db_path: Path) -> None:
    with store.connect(db_path):
        pass
    con = duckdb.connect(str(db_path))
    con.execute("INSERT INTO schema_migrations VALUES (?, 'from the future', now())", [LATEST + 1])
    con.close()
    store._migrated.clear()
    with pytest.raises(SchemaVersionError) as exc, store.connect(db_path):
        pass
    message = str(exc.value)
    assert f"schema version {LATEST + 1}" in message and "newer release" in message
    assert not isinstance(exc.value, StoreBusyError)


def test_a_database_error_names_itself_and_is_not_busy(db_path: Path) -> None:
    with pytest.raises(StoreError) as exc, store.connect(db_path) as con:
        con.execute("INSERT INTO contracts (id, name, no_such_column) VALUES ('r', 'n', 1)")
    assert not isinstance(exc.value, StoreBusyError)
    assert "no_such_column" in str(exc.value) and str(db_path) in str(exc.value)


@pytest.mark.parametrize("kind", BAD_SALES_DB_KINDS)
def test_a_bad_sales_db_is_a_store_error_in_words(tmp_path: Path, kind: str) -> None:
    path = bad_sales_db(kind, tmp_path)
    with pytest.raises(StoreError) as exc, store.connect(path):
        pass
    assert f"SALES_DB={path}" in str(exc.value)
    assert not isinstance(exc.value, StoreBusyError)


def test_every_released_migration_is_frozen_literal_sql() -> None:
    versions = [m.version for m in MIGRATIONS]
    assert versions == list(range(1, len(MIGRATIONS) + 1))
    for migration in MIGRATIONS:
        assert migration.statements and all(isinstance(s, str) for s in migration.statements)
