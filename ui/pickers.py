"""Pickers over lists that grow with the data: a search box first, then at most LIMIT choices.

A select box ships every option to the browser, and ten thousand invoices make it slow to
draw and useless to scroll. Below LIMIT rows the box shows them all; above, a search box
narrows them in SQL (the query takes `search` and `limit`). Not a page.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

LIMIT = 200  # choices offered at most


def narrowed(
    fetch: Callable[[str, int], pd.DataFrame],
    *,
    key: str,
    label: str,
    placeholder: str,
    first: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, str]:
    """The rows to offer (at most LIMIT) and the search typed ('' when no box was needed).

    `fetch(search, limit)` returns at most `limit` rows whose text holds `search`; `first`, when
    given, is what `fetch("", LIMIT + 1)` would return (read beforehand with other reads).
    """
    rows = fetch("", LIMIT + 1) if first is None else first
    if len(rows) <= LIMIT:
        return rows, ""
    wanted = st.text_input(label, key=key, placeholder=placeholder, max_chars=200).strip()
    if wanted:
        rows = fetch(wanted, LIMIT + 1)
    if len(rows) > LIMIT:
        st.caption(
            f"More than {LIMIT} match; the first {LIMIT} are listed: type more to narrow."
            if wanted
            else f"More than {LIMIT}; the first {LIMIT} are listed: type to find another."
        )
        rows = rows.head(LIMIT)
    elif len(rows):  # none: the caller says so in its own words
        st.caption(f"{len(rows):,} match{'es' if len(rows) != 1 else ''}.")
    return rows, wanted
