"""One declaration per table: the store, the mapping and the readers agree with models.py."""

from __future__ import annotations

from pathlib import Path

import duckdb

from sales_core import store
from sales_core.config import DEFAULT_FIELDS, TABLE_KEYS
from sales_core.models import SYNCED
from sales_core.schema import airtable_names, arrow_schema, columns


def test_a_fresh_database_has_exactly_the_declared_columns(db_path: Path) -> None:
    with store.connect(db_path):
        pass
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        for table, model in SYNCED.items():
            found = con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? "
                "ORDER BY column_index",
                [table],
            ).fetchall()
            declared = [(c.attr, c.col.kind.sql) for c in columns(model)]
            assert sorted(found) == sorted(declared), (
                f"{table}: declared in models.py but not in the store (a migration is "
                f"missing?) {sorted(set(declared) - set(found))}; in the store but not "
                f"declared {sorted(set(found) - set(declared))}"
            )
    finally:
        con.close()


def test_the_default_mapping_and_arrow_schema_come_from_the_declarations() -> None:
    assert tuple(SYNCED) == TABLE_KEYS
    for table, model in SYNCED.items():
        assert DEFAULT_FIELDS[table] == airtable_names(model)
        assert arrow_schema(model).names == [c.attr for c in columns(model)]
    # Two columns read the one Owner field (a collaborator: name and email).
    assert DEFAULT_FIELDS["opportunities"]["owner"] == "Owner"
    assert "owner_name" not in DEFAULT_FIELDS["opportunities"]
