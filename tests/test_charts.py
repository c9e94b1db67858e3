"""Charts draw the exact amounts they are given (Decimal, no float in between)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pandas as pd

from sales_core.charts import (
    aging_chart,
    community_chart,
    funnel_chart,
    invoiced_paid_chart,
    money_label,
    plain,
    weighted_by_month_chart,
)


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


HOSTILE = [
    '<a href="https://evil.example/">Proposal</a>',
    "<b>B</b><br>Lead",
    '<span style="font-size:60px">HUGE</span>',
    "50% off %{y} & more",
]


def _every_text(spec: dict[str, object]) -> str:
    """Every string plotly will draw: trace labels, names, texts, templates and the layout."""
    return json.dumps({"data": spec["data"], "layout": spec["layout"]})


def test_text_from_the_data_is_never_markup_in_any_chart() -> None:
    n = len(HOSTILE)
    funnel = pd.DataFrame(
        {
            "stage": HOSTILE,
            "known": [False] * n,
            "opportunities": [3] * n,
            "value": [Decimal("10")] * n,
            "position": list(range(n)),
        }
    )
    weighted = pd.DataFrame(
        {
            "stage": HOSTILE,
            "position": list(range(n)),
            "month": [date(2026, 12, 1)] * n,
            "weighted": [Decimal("5")] * n,
        }
    )
    communities = pd.DataFrame(
        {
            "community": HOSTILE,
            "org_share": [Decimal("8")] * n,
            "sponsor_share": [Decimal("2")] * n,
        }
    )
    currency = "<i>USD</i>"
    figures = [
        funnel_chart(funnel, currency),
        weighted_by_month_chart(weighted, currency),
        community_chart(communities, currency),
    ]
    for figure in figures:
        drawn = _every_text(json.loads(figure.to_json()))
        for tag in ("<a ", "<b>", "<span", "<i>", "<br>Lead", "%{y} &"):
            assert tag not in drawn, (tag, drawn[:400])
    labels = json.loads(figures[0].to_json())["data"][0]["y"]
    assert labels[0] == ('&lt;a href="https://evil.example/"&gt;Proposal&lt;/a&gt; (unknown stage)')
    assert plain("50% off %{y} & more") == "50&#37; off &#37;{y} &amp; more"
