"""The home page's tiles, one row per currency."""

from __future__ import annotations

from datetime import date

import pandas as pd

from sales_core.config import Settings
from sales_core.metrics.common import (
    IS_OPEN,
    ISSUED,
    RECEIVABLE,
    WEIGHTED,
    add_months,
    frame,
    money_column,
    month_start,
    same_day_months_ago,
    stage_values,
)

TILE_COLUMNS = (
    "open_pipeline",
    "weighted_pipeline",
    "mrr",
    "mrr_last_month",
    "arr",
    "invoiced_this_month",
    "invoiced_last_month",
    "receivables",
    "receivables_over_60",
)

# What the "every currency" table shows, in order.
OVERVIEW_COLUMNS = [
    "currency",
    "open_pipeline",
    "weighted_pipeline",
    "past_close",
    "mrr",
    "arr",
    "invoiced_this_month",
    "receivables",
    "receivables_over_60",
]


def overview_tiles(settings: Settings, today: date) -> pd.DataFrame:
    """Per currency: open and weighted pipeline, MRR and ARR in force, invoicing, receivables.

    - open pipeline: the value of every opportunity not Closed—won or Closed—lost (an unknown
      stage counts as open); weighted: value × probability (airtable-schema.md); past_close:
      how many open deals have an Expected Close Date before `today`;
    - MRR: the Monthly Fee of billed contracts (Active, Ended) whose dates cover `today`, and
      the same on this day last month (`mrr_change`); ARR = 12 × MRR;
    - invoiced this month / last month: receivables issued (Authorized or Paid) in the month
      (`invoiced_change`: this month's so far minus last month's);
    - receivables: the balance due on Authorized receivables (less what has been paid), and on
      those more than 60 days past their due date.
    """
    stages, params = stage_values(settings)
    params |= {
        "today": today,
        "a_month_ago": same_day_months_ago(today, 1),
        "this_month": month_start(today),
        "last_month": add_months(today, -1),
    }
    df = frame(
        settings,
        f"""
        WITH {stages},
        pipe AS (
            SELECT coalesce(o.currency, 'USD') AS currency,
                   sum(o.value) AS open_pipeline, sum({WEIGHTED}) AS weighted_pipeline,
                   count(*) FILTER (WHERE o.expected_close < $today) AS past_close
            FROM opportunities AS o LEFT JOIN stages AS s ON s.stage = o.stage
            WHERE {IS_OPEN}
            GROUP BY ALL
        ),
        in_force AS (
            SELECT coalesce(c.currency, 'USD') AS currency,
                   sum(c.monthly_fee) FILTER (
                       WHERE c.start_date <= $today
                         AND (c.end_date IS NULL OR c.end_date >= $today)) AS mrr,
                   sum(c.monthly_fee) FILTER (
                       WHERE c.start_date <= $a_month_ago
                         AND (c.end_date IS NULL OR c.end_date >= $a_month_ago)) AS mrr_last_month
            FROM contracts AS c
            WHERE list_contains($billed_contracts, c.status)
            GROUP BY ALL
        ),
        billed AS (
            SELECT coalesce(i.currency, 'USD') AS currency,
                   sum(i.amount) FILTER (
                       WHERE {ISSUED} AND i.issue_date >= $this_month
                         AND i.issue_date <= $today) AS invoiced_this_month,
                   sum(i.amount) FILTER (
                       WHERE {ISSUED} AND i.issue_date >= $last_month
                         AND i.issue_date < $this_month) AS invoiced_last_month,
                   sum(i.balance) FILTER (WHERE i.status = $authorized) AS receivables,
                   sum(i.balance) FILTER (
                       WHERE i.status = $authorized
                         AND datediff('day', i.due_date, $today) > 60) AS receivables_over_60
            FROM receivables AS i
            WHERE {RECEIVABLE}
            GROUP BY ALL
        ),
        every_currency AS (
            SELECT currency FROM pipe UNION SELECT currency FROM in_force
            UNION SELECT currency FROM billed
        )
        SELECT e.currency, p.open_pipeline, p.weighted_pipeline,
               coalesce(p.past_close, 0) AS past_close, f.mrr, f.mrr_last_month,
               f.mrr * 12 AS arr, b.invoiced_this_month, b.invoiced_last_month,
               b.receivables, b.receivables_over_60
        FROM every_currency AS e
        LEFT JOIN pipe AS p USING (currency)
        LEFT JOIN in_force AS f USING (currency)
        LEFT JOIN billed AS b USING (currency)
        ORDER BY e.currency
        """,
        params,
    )
    money_column(df, *TILE_COLUMNS)
    df["mrr_change"] = df["mrr"] - df["mrr_last_month"]
    df["invoiced_change"] = df["invoiced_this_month"] - df["invoiced_last_month"]
    return df
