"""CSV downloads that a spreadsheet cannot turn into formulas.

OWASP's rule for CSV injection: a cell that starts with `=`, `+`, `-`, `@`, a tab or a
carriage return is prefixed with a single quote, so Excel, LibreOffice and Google Sheets show
it as text instead of evaluating it. Only text cells are touched: numbers, dates and money
stay as they are (a negative amount is a number, not a formula).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: Any) -> Any:
    """The value, with a leading single quote when it is text that starts like a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_csv(df: pd.DataFrame, columns: dict[str, str] | None = None) -> bytes:
    """The frame as UTF-8 CSV (with a BOM, so spreadsheets detect UTF-8), formula-safe.

    `columns` picks and renames columns (source name -> header); headers are neutralised too.
    """
    if columns is not None:
        df = df[list(columns)].rename(columns=columns)
    safe = df.map(neutralise_cell)
    safe.columns = [neutralise_cell(str(c)) for c in safe.columns]
    text: str = safe.to_csv(index=False)
    return text.encode("utf-8-sig")
