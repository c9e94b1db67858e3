"""Metric queries cached per data version (not a page: app.py lists the pages explicitly).

Every query result is kept by `st.cache_data` under the database, the data version and the
query's arguments: a rerun reads the cache (no AirTable call, no database work), and a sync
bumps the data version, so the next run shows the new data at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

from sales_core.config import Settings
from sales_core.health import SyncStatus

T = TypeVar("T")


@st.cache_data(show_spinner=False, max_entries=512)
def _run(
    query_name: str,
    db: str,
    data_version: int,
    key: str,
    _query: Callable[..., Any],
    _settings: Settings,
    _args: tuple[Any, ...],
) -> Any:
    return _query(_settings, *_args)


def cached(query: Callable[..., T], settings: Settings, status: SyncStatus, *args: Any) -> T:
    """`query(settings, *args)`, from the cache when this data version already answered it."""
    key = repr((args, sorted(settings.stage_probability.items())))
    name = f"{query.__module__}.{query.__qualname__}"
    result: T = _run(name, str(settings.db_path), status.data_version, key, query, settings, args)
    return result
