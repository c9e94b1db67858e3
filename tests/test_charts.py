"""Charts draw the exact amounts they are given (Decimal, no float in between)."""

from __future__ import annotations

import json
from decimal import Decimal

import pandas as pd

from sales_core.charts import aging_chart, invoiced_paid_chart, money_label


def test_amounts_reach_the_figure_unchanged() -> None:
    flows = pd.DataFrame(
        {
            "month": ["2026-10", "2026-11"],
            "invoiced": [Decimal("1387.10"), Decimal("0.00")],
            "paid": [Decimal("357.14"), None],
        }
    )
    spec = json.loads(invoiced_paid_chart(flows, "USD").to_json())
    assert spec["data"][0]["y"] == [1387.1, 0.0]
    assert spec["data"][1]["y"] == [357.14, 0.0]  # a missing amount draws as zero


def test_aging_labels_are_whole_units_with_the_currency() -> None:
    buckets = pd.DataFrame(
        {
            "bucket": ["current", "1–30"],
            "amount": [Decimal("1999.50"), Decimal("0")],
            "invoices": [3, 0],
        }
    )
    spec = json.loads(aging_chart(buckets, "EUR").to_json())
    assert spec["data"][0]["y"] == [1999.5, 0.0]
    assert money_label(Decimal("12000.49"), "JPY") == "12,000 JPY"
