"""The embedded default source: `data/demo/*.json`, in AirTable's list-records shape.

Without AirTable settings the app and the CLI read these files through the same validation and
load as a real sync. `python -m sales_core.demo --scale N --out DIR` makes new files (see
`demogen.py`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sales_core.airtable import PageCallback, RecordsCallback
from sales_core.config import FieldMapping
from sales_core.demogen import main as generator_main
from sales_core.errors import SyncError, TableNotFoundError


class DemoSource:
    """Reads one JSON file per table: `{"records": [{"id", "createdTime", "fields"}, ...]}`."""

    name = "demo"

    def __init__(self, demo_dir: Path) -> None:
        self.demo_dir = demo_dir
        self.mapping = FieldMapping()  # the demo files use the default names
        self.request_count = 0

    def table_ids(self) -> dict[str, str]:
        """None: the demo base is not in AirTable, so its records have no links."""
        return {}

    def fetch_table(
        self,
        table_key: str,
        on_page: PageCallback | None = None,
        *,
        on_records: RecordsCallback | None = None,
    ) -> list[dict[str, Any]]:
        """All records of one table from its file."""
        path = self.demo_dir / f"{table_key}.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise TableNotFoundError(f"The demo file {path} is missing.") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise SyncError(f"The demo file {path} is not valid JSON ({exc}).") from None
        records = data.get("records") if isinstance(data, dict) else None
        if not isinstance(records, list):
            raise SyncError(f'The demo file {path} has no "records" list.')
        checked = [r if isinstance(r, dict) else {"raw": r} for r in records]
        if on_records is not None:
            on_records(table_key, 1, checked)
        if on_page is not None:
            on_page(table_key, len(records))
        return checked


def main(argv: list[str] | None = None) -> int:
    """`python -m sales_core.demo`: the generator's command line (see demogen.py)."""
    return generator_main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
