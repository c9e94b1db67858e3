"""Amounts as the pages write them."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from sales_core.formatting import money_table, percent
from sales_core.money import text as money
from sales_core.money import tile as money_tile

D = Decimal


def test_money__minor_units_per_currency() -> None:
    assert money(D("1234.5"), "USD") == "1,234.50 USD"
    assert money(D("99999"), "JPY") == "99,999 JPY"
    assert money(D("500"), "EUR", signed=True) == "+500.00 EUR"
    assert money(D("-0.005"), "USD") == "-0.01 USD"  # HALF_UP, away from zero
    assert money(D("1234.50"), "USD", whole=True) == "1,235 USD"
    assert money(None, "USD") == "–"


def test_money_tile__short_enough_for_a_tile() -> None:
    assert money_tile(D("33000.00"), "USD") == "33,000 USD"
    assert money_tile(D("237060501.44"), "USD") == "237.06 M USD"
    assert money_tile(D("-4207365"), "USD", signed=True) == "-4.21 M USD"
    assert money_tile(D("1500000000"), "JPY") == "1.50 B JPY"


def test_money_table__each_row_in_its_currency() -> None:
    df = pd.DataFrame({"currency": ["USD", "JPY"], "mrr": [D("3700"), D("99999")]})
    assert list(money_table(df, ["currency", "mrr"])["mrr"]) == ["3,700.00 USD", "99,999 JPY"]


def test_percent() -> None:
    assert percent(0.5) == "50 %"
    assert percent(None) == "–"
