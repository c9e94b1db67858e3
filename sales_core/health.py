"""Data health: the state of the local copy, the sync history and the quarantine."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from sales_core import outbox, store
from sales_core.config import TABLE_KEYS


@dataclass(frozen=True)
class SyncStatus:
    """What the home page and `sales-core status` say about the local copy."""

    data_version: int
    last_ok_at: datetime | None
    last_ok_source: str | None
    last_run_at: datetime | None
    last_run_status: str | None
    last_run_error: str | None
    counts: dict[str, int]
    rejected: int
    warnings: int
    pending_pushes: dict[str, int] = field(default_factory=dict)
    # Records made in this app that the synced copy does not hold (yet), per table key.
    made_here: dict[str, int] = field(default_factory=dict)
    # Fields of invoices made here that a person must settle with AirTable (reconcile.py).
    conflicts: int = 0
    # Optional tables the base lacked at the latest successful sync (models.OPTIONAL_TABLES).
    missing_tables: tuple[str, ...] = ()

    def total(self, table: str) -> int:
        """What the app knows of a table: the synced copy plus what was made here since."""
        return self.counts.get(table, 0) + self.made_here.get(table, 0)

    @property
    def has_data(self) -> bool:
        """True once one sync has succeeded."""
        return self.last_ok_at is not None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""

        def stamp(value: datetime | None) -> str | None:
            return value.isoformat() + "Z" if value else None

        return {
            "data_version": self.data_version,
            "last_sync": stamp(self.last_ok_at),
            "last_sync_source": self.last_ok_source,
            "last_run": stamp(self.last_run_at),
            "last_run_status": self.last_run_status,
            "last_run_error": self.last_run_error,
            "counts": self.counts,
            "quarantined": self.rejected,
            "warnings": self.warnings,
            "not_yet_in_airtable": self.pending_pushes,
            "made_here_not_yet_synced": self.made_here,
            "conflicts_with_airtable": self.conflicts,
            "missing_tables": list(self.missing_tables),
        }


def sync_status(db_path: Path | str, *, lock_timeout: float = 10.0) -> SyncStatus:
    """The latest successful sync, the latest attempt, and what the current tables hold."""
    with store.connect(db_path, lock_timeout=lock_timeout) as con:
        version = int(
            con.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchall()[0][0]
        )
        ok = store.query(
            con,
            "SELECT id, finished_at, source, charges IS NULL AS no_charges FROM sync_runs "
            "WHERE status = 'ok' "
            "ORDER BY id DESC LIMIT 1",
        )
        last = store.query(
            con, "SELECT finished_at, status, error FROM sync_runs ORDER BY id DESC LIMIT 1"
        )
        counts = {
            table: int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
            for table in TABLE_KEYS
        }
        rejected = warnings = 0
        if ok:
            row = con.execute(
                "SELECT count(DISTINCT CASE WHEN severity = 'rejected' "
                "THEN table_name || '/' || record_id END), "
                "count(*) FILTER (WHERE severity = 'warning') "
                "FROM quarantine WHERE sync_run_id = ?",
                [ok[0]["id"]],
            ).fetchall()[0]
            rejected, warnings = int(row[0]), int(row[1])
        pending = outbox.pending_counts(con)
        conflicts = int(con.execute("SELECT count(*) FROM invoice_conflicts").fetchall()[0][0])
        made_here = {
            "qualifications": int(
                con.execute(
                    "SELECT count(*) FROM assessments WHERE assessment_key NOT IN "
                    "(SELECT assessment_key FROM qualifications)"
                ).fetchall()[0][0]
            ),
            "invoices": int(
                con.execute(
                    # NOT EXISTS, not NOT IN: no set of every synced key is built
                    "SELECT count(*) FROM generated_invoices AS g WHERE NOT EXISTS "
                    "(SELECT 1 FROM invoices AS i WHERE i.invoice_key = g.invoice_key)"
                ).fetchall()[0][0]
            ),
        }
    return SyncStatus(
        made_here=made_here,
        data_version=version,
        last_ok_at=ok[0]["finished_at"] if ok else None,
        last_ok_source=ok[0]["source"] if ok else None,
        last_run_at=last[0]["finished_at"] if last else None,
        last_run_status=last[0]["status"] if last else None,
        last_run_error=last[0]["error"] if last else None,
        counts=counts,
        rejected=rejected,
        warnings=warnings,
        pending_pushes=pending,
        conflicts=conflicts,
        missing_tables=("charges",) if ok and ok[0]["no_charges"] else (),
    )


def quarantine(db_path: Path | str, *, lock_timeout: float = 10.0) -> pd.DataFrame:
    """The problems found by the latest successful sync, rejected records first."""
    with store.connect(db_path, lock_timeout=lock_timeout) as con:
        return con.execute(
            """
            SELECT q.severity, q.table_name, q.record_id, q.field, q.problem, q.raw_value
            FROM quarantine AS q
            WHERE q.sync_run_id = (SELECT max(id) FROM sync_runs WHERE status = 'ok')
            ORDER BY q.severity DESC, q.table_name, q.record_id, q.field
            """
        ).df()


def sync_history(
    db_path: Path | str, *, limit: int = 50, lock_timeout: float = 10.0
) -> pd.DataFrame:
    """The latest sync runs, newest first."""
    with store.connect(db_path, lock_timeout=lock_timeout) as con:
        return con.execute(
            """
            SELECT id, started_at, finished_at, source, status, opportunities, contracts,
                   invoices, qualifications, charges, rejected, warnings, requests, error
            FROM sync_runs ORDER BY id DESC LIMIT ?
            """,
            [limit],
        ).df()
