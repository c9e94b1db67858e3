"""Each record shown links to its AirTable record, when the sync could read the table ids.

The ids come from the store (sales_core.links), cached per data version: a page load asks
AirTable nothing. Without them the tables show the names alone, and the page says, once, why.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from sales_core import links
from sales_core.config import Settings
from sales_core.health import SyncStatus
from sales_core.sync import SCHEMA_SCOPE
from ui.queries import cached

COLUMN = "airtable"


def record_links(settings: Settings, status: SyncStatus) -> links.RecordLinks:
    """The stored table ids; with AirTable configured and no ids, a caption says why."""
    found = cached(links.record_links, settings, status)
    if settings.airtable_configured and not found.available:
        st.caption(
            f"Records are shown without links to AirTable: {found.note}. A token with the "
            f"`{SCHEMA_SCOPE}` scope lets the next sync read the table ids (see the README)."
        )
    return found


def linked(
    table: pd.DataFrame,
    found: links.RecordLinks,
    table_key: str | pd.Series,
    *,
    after: str,
    id_column: str = "id",
    keep_id: bool = False,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """`table` without its id column (unless `keep_id`), and with a link to each record after
    column `after` when links are available; and the column's configuration for st.dataframe.

    `table_key` is the records' table, or a column naming each row's table.
    """
    shown = table if keep_id else table.drop(columns=[id_column])
    if not found.available:
        return shown, {}
    if isinstance(table_key, str):
        urls = found.urls(table_key, table[id_column])
    else:
        urls = [found.url(k, r) for k, r in zip(table_key, table[id_column], strict=True)]
    shown.insert(list(shown.columns).index(after) + 1, COLUMN, urls)
    return shown, {COLUMN: st.column_config.LinkColumn("AirTable", display_text="Open ↗")}
