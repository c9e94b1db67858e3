"""Links from the records shown back to AirTable: https://airtable.com/{base}/{table}/{record}.

The table ids come from AirTable's schema API, read once per sync (sync.read_table_ids) and
kept in the store, so no page load asks AirTable anything. Without them (the demo, or a token
without the `schema.bases:read` scope) records are shown without links, and `note` says why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sales_core import store
from sales_core.config import Settings

AIRTABLE_WEB = "https://airtable.com"


@dataclass(frozen=True)
class RecordLinks:
    """Table key -> (base id, table id) for the synced tables, and why any are missing."""

    tables: dict[str, tuple[str, str]] = field(default_factory=dict)
    note: str = ""

    @property
    def available(self) -> bool:
        """True when at least one table's records can link to AirTable."""
        return bool(self.tables)

    def url(self, table_key: str, record_id: object) -> str | None:
        """The record's page in AirTable, or None (no table id, or a record made here)."""
        found = self.tables.get(table_key)
        if found is None or not isinstance(record_id, str) or not record_id.startswith("rec"):
            return None
        base_id, table_id = found
        return f"{AIRTABLE_WEB}/{base_id}/{table_id}/{record_id}"

    def urls(self, table_key: str, record_ids: Iterable[object]) -> list[str | None]:
        """`url` for each record id of one table."""
        return [self.url(table_key, r) for r in record_ids]


def record_links(settings: Settings) -> RecordLinks:
    """The table ids the latest sync stored, and its note on why links may be missing."""
    with store.connect(settings.db_path, lock_timeout=settings.lock_timeout) as con:
        rows = con.execute(
            "SELECT table_key, base_id, table_id FROM airtable_tables ORDER BY table_key"
        ).fetchall()
        note = con.execute("SELECT value FROM meta WHERE key = 'record_links'").fetchall()
    return RecordLinks(
        tables={str(k): (str(b), str(t)) for k, b, t in rows},
        note=str(note[0][0]) if note else "no sync has read the table ids yet",
    )
