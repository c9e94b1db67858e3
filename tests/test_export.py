"""CSV downloads neutralise spreadsheet formulas (OWASP's CSV injection rule)."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pandas as pd
import pytest

from sales_core.export import neutralise_cell, safe_csv


@pytest.mark.parametrize(
    "cell",
    ["=1+1", "+1", "-2+3", "@SUM(A1:A2)", "\tx", "\rx", '=HYPERLINK("http://evil")'],
)
def test_neutralise_cell__formula_starts_get_a_quote(cell: str) -> None:
    assert neutralise_cell(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["Alpha hub", "", " =not at start", "Université – Hub"])
def test_neutralise_cell__ordinary_text_is_unchanged(cell: str) -> None:
    assert neutralise_cell(cell) == cell


def test_neutralise_cell__numbers_and_dates_are_not_text() -> None:
    assert neutralise_cell(Decimal("-12.50")) == Decimal("-12.50")
    assert neutralise_cell(-3) == -3
    assert neutralise_cell(date(2026, 11, 25)) == date(2026, 11, 25)
    assert neutralise_cell(None) is None


def test_safe_csv__reads_back_as_text_with_money_intact() -> None:
    df = pd.DataFrame(
        {
            "name": ["=cmd|' /C calc'!A0", "Beta"],
            "value": [Decimal("-100.00"), Decimal("2500.50")],
            "note": ["@risk", None],
        }
    )
    data = safe_csv(df, {"name": "Opportunity", "value": "Value", "note": "Note"})
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM: spreadsheets read it as UTF-8
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [
        ["Opportunity", "Value", "Note"],
        ["'=cmd|' /C calc'!A0", "-100.00", "'@risk"],
        ["Beta", "2500.50", ""],
    ]
