"""Revenue: MRR by month, invoicing against payments, receivables aging, communities, renewals."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd

from sales_core import money
from sales_core.billing import Month, fee_days_by_month, month_share
from sales_core.config import Settings
from sales_core.metrics.common import (
    INVOICE_TABLES,
    IS_OPEN,
    ISSUED,
    RECEIVABLE,
    REVENUE,
    SIGNED_AMOUNT,
    WEIGHTED,
    ZERO,
    add_months,
    currencies,
    frame,
    money_column,
    month_start,
    rounded,
    stage_values,
)

AGING_BUCKETS = ("Current", "1–30 days", "31–60 days", "61–90 days", "Over 90 days")
RENEWAL_BUCKETS = ("Ended, still Active", "Within 30 days", "31–90 days", "91–180 days")
OTHER_COMMUNITIES = "Other communities"
NO_CONTRACT = "(contract not found)"

# Days past due; an invoice without a due date is due 30 days after issue (the default terms).
DAYS_PAST_DUE_SQL = "datediff('day', coalesce(i.due_date, i.issue_date + 30), $today)"
# No date at all (neither due nor issue date): counted as current rather than as over 90 days.
AGING_BUCKET_SQL = f"""CASE WHEN {DAYS_PAST_DUE_SQL} IS NULL OR {DAYS_PAST_DUE_SQL} <= 0 THEN 0
    WHEN {DAYS_PAST_DUE_SQL} <= 30 THEN 1
    WHEN {DAYS_PAST_DUE_SQL} <= 60 THEN 2 WHEN {DAYS_PAST_DUE_SQL} <= 90 THEN 3 ELSE 4 END"""


def mrr_by_month(
    settings: Settings, currency: str, today: date, back: int = 24, ahead: int = 12
) -> pd.DataFrame:
    """Monthly recurring revenue per calendar month, `back` months before this one to `ahead`.

    A billed contract (Active or Ended) contributes its Monthly Fee prorated exactly as the
    invoice run prorates it (`billing.fee_days_by_month`, `billing.month_share`): a contract
    starting on the 16th of a 30-day month counts for 15/30 of its fee. Rounded once per month.
    A contract whose End Date is before its Start Date covers no day (the run refuses it).
    Columns: month (first day), contracts, mrr.
    """
    first = Month.of(add_months(today, -back))
    last = Month.of(add_months(today, ahead))
    contracts = frame(
        settings,
        """
        SELECT monthly_fee, start_date, end_date FROM contracts
        WHERE list_contains($billed_contracts, status) AND coalesce(currency, 'USD') = $currency
          AND monthly_fee IS NOT NULL AND start_date IS NOT NULL AND start_date <= $last
          AND (end_date IS NULL OR (end_date >= $first AND end_date >= start_date))
        """,
        {"first": first.first, "last": last.last, "currency": currency},
    )
    fee_days, counted = fee_days_by_month(
        (
            (fee, start, last.last if end is None or end != end else end)
            for fee, start, end in zip(
                contracts["monthly_fee"],
                contracts["start_date"],
                contracts["end_date"],
                strict=True,
            )
        ),
        first,
        last,
    )
    months: list[Month] = []
    month = first
    while month.first <= last.first:
        months.append(month)
        month = month.next()
    return pd.DataFrame(
        {
            "month": [m.first for m in months],
            "contracts": pd.array([counted.get(m, 0) for m in months], dtype="Int64"),
            "mrr": [
                money.round_exact(month_share(fee_days.get(m, ZERO), m), currency) for m in months
            ],
        }
    )


def weighted_pipeline_forward(
    settings: Settings, currency: str, today: date, ahead: int = 12
) -> pd.DataFrame:
    """Open pipeline's value × probability by expected close month, this month onwards.

    Deals whose expected close date has passed are counted in this month (they are still
    open). Columns: month, opportunities, weighted.
    """
    stages, params = stage_values(settings)
    params |= {"this_month": month_start(today), "end": add_months(today, ahead), "cur": currency}
    df = frame(
        settings,
        f"""
        WITH {stages}
        SELECT CAST(greatest(date_trunc('month', o.expected_close), $this_month) AS DATE)
                   AS month,
               count(*) AS opportunities, sum({WEIGHTED}) AS weighted
        FROM opportunities AS o LEFT JOIN stages AS s ON s.stage = o.stage
        WHERE {IS_OPEN} AND coalesce(o.currency, 'USD') = $cur AND o.value IS NOT NULL
          AND o.expected_close < $end
        GROUP BY ALL
        ORDER BY month
        """,
        params,
    )
    return money_column(df, "weighted")


def invoiced_vs_paid(
    settings: Settings, currency: str, today: date, months: int = 24
) -> pd.DataFrame:
    """Per month: receivables issued (Authorized or Paid) and receivables paid (by Paid Date).

    Columns: month, invoiced, paid; `months` months up to and including this one.
    """
    params: dict[str, object] = {
        "first": add_months(today, -(months - 1)),
        "last": month_start(today),
        "currency": currency,
        "today": today,
    }
    df = frame(
        settings,
        f"""
        WITH months AS (
            SELECT CAST(m AS DATE) AS month
            FROM unnest(generate_series(CAST($first AS DATE), CAST($last AS DATE),
                                        INTERVAL 1 MONTH)) AS t(m)
        ),
        receivables AS (
            SELECT i.* FROM receivables AS i
            WHERE {REVENUE} AND coalesce(i.currency, 'USD') = $currency
        ),
        issued AS (
            SELECT CAST(date_trunc('month', i.issue_date) AS DATE) AS month,
                   sum({SIGNED_AMOUNT}) AS invoiced
            FROM receivables AS i
            WHERE {ISSUED} AND i.issue_date >= $first AND i.issue_date <= $today
            GROUP BY ALL
        ),
        settled AS (
            SELECT CAST(date_trunc('month', i.paid_date) AS DATE) AS month,
                   sum(i.amount) AS paid
            FROM receivables AS i
            WHERE i.status = $paid AND i.paid_date >= $first AND i.paid_date <= $today
            GROUP BY ALL
        )
        SELECT m.month, s.invoiced, p.paid
        FROM months AS m
        LEFT JOIN issued AS s USING (month)
        LEFT JOIN settled AS p USING (month)
        ORDER BY m.month
        """,
        params,
    )
    return money_column(df, "invoiced", "paid")


def aging(settings: Settings, currency: str, today: date) -> pd.DataFrame:
    """Receivables outstanding (Authorized) by days past due: current, 1–30, 31–60, 61–90, >90.

    Every bucket is present. Columns: bucket, position, invoices, amount (the balance due, less
    what has been paid).
    """
    df = frame(
        settings,
        f"""
        WITH buckets AS (
            SELECT * FROM (VALUES (0), (1), (2), (3), (4)) AS b(position)
        ),
        outstanding AS (
            SELECT {AGING_BUCKET_SQL} AS position, count(*) AS invoices, sum(i.balance) AS amount
            FROM receivables AS i
            WHERE {RECEIVABLE} AND i.status = $authorized
              AND coalesce(i.currency, 'USD') = $currency
            GROUP BY ALL
        )
        SELECT b.position, coalesce(o.invoices, 0) AS invoices, o.amount
        FROM buckets AS b LEFT JOIN outstanding AS o USING (position)
        ORDER BY b.position
        """,
        {"today": today, "currency": currency},
    )
    df.insert(0, "bucket", [AGING_BUCKETS[int(p)] for p in df["position"]])
    return money_column(df, "amount")


def aging_invoices(
    settings: Settings, currency: str, today: date, bucket: str | None = None, limit: int = 500
) -> pd.DataFrame:
    """The outstanding invoices behind the aging buckets (one bucket, or all), oldest first.

    Columns: number, community, contract, issue_date, due_date, days_past_due, amount, balance,
    currency, bucket, total (the number of invoices, of which at most `limit` rows come back),
    id (the record id).
    """
    params: dict[str, object] = {"today": today, "currency": currency, "limit": limit}
    only = ""
    if bucket is not None:
        only = f"AND {AGING_BUCKET_SQL} = $position"
        params["position"] = AGING_BUCKETS.index(bucket)
    df = frame(
        settings,
        f"""
        SELECT i.number, coalesce(c.community, '{NO_CONTRACT}') AS community,
               coalesce(c.name, '{NO_CONTRACT}') AS contract, i.issue_date, i.due_date,
               {DAYS_PAST_DUE_SQL} AS days_past_due, i.amount, i.balance,
               coalesce(i.currency, 'USD') AS currency, {AGING_BUCKET_SQL} AS position,
               count(*) OVER () AS total, i.id
        FROM receivables AS i LEFT JOIN contracts AS c ON c.id = i.contract_id
        WHERE {RECEIVABLE} AND i.status = $authorized
          AND coalesce(i.currency, 'USD') = $currency {only}
        ORDER BY days_past_due DESC, i.number
        LIMIT $limit
        """,
        params,
    )
    df.insert(9, "bucket", [AGING_BUCKETS[int(p)] for p in df["position"]])
    return df.drop(columns="position")


# The organisation's share of an invoice (billing.md): the fiscal sponsor takes CSS % of
# everything but the cloud costs passed through at cost, which carry no share.
PASS_THROUGH_JOIN = """
LEFT JOIN (SELECT invoice_key, sum(amount) AS pass_through FROM invoice_lines
           WHERE charge_kind = $pass_through GROUP BY ALL) AS p
       ON p.invoice_key = i.invoice_key
"""
ORG_SHARE = (
    f"({SIGNED_AMOUNT}) - (({SIGNED_AMOUNT}) - coalesce(p.pass_through, 0)) "
    f"* coalesce(c.css_pct, 0)"
)


def _issued_window(today: date, months: int) -> dict[str, object]:
    return {"first": add_months(today, -(months - 1)), "today": today}


def revenue_by_community(
    settings: Settings, currency: str, today: date, top: int = 10, months: int = 12
) -> pd.DataFrame:
    """Receivables issued in the last `months` months (this one included), per community.

    The `top` communities by amount, then one "Other communities" row for the rest. The
    organisation's share is amount × (1 − CSS %) (billing.md), rounded per row; the fiscal
    sponsor's share is the rest. Columns: community, invoices, invoiced, sponsor_share,
    org_share.
    """
    params = _issued_window(today, months) | {"currency": currency, "top": top}
    df = frame(
        settings,
        f"""
        WITH per_community AS (
            SELECT coalesce(c.community, '{NO_CONTRACT}') AS community,
                   count(*) FILTER (WHERE {RECEIVABLE}) AS invoices,
                   sum({SIGNED_AMOUNT}) AS invoiced,
                   sum({ORG_SHARE}) AS org_exact
            FROM receivables AS i LEFT JOIN contracts AS c ON c.id = i.contract_id
            {PASS_THROUGH_JOIN}
            WHERE {REVENUE} AND {ISSUED} AND coalesce(i.currency, 'USD') = $currency
              AND i.issue_date >= $first AND i.issue_date <= $today
            GROUP BY ALL
        ),
        ranked AS (
            SELECT *, row_number() OVER (ORDER BY invoiced DESC, community) AS rank
            FROM per_community
        )
        SELECT CASE WHEN rank <= $top THEN community ELSE '{OTHER_COMMUNITIES}' END
                   AS community,
               sum(invoices) AS invoices, sum(invoiced) AS invoiced,
               round(sum(org_exact), 2) AS org_share, min(rank) AS rank
        FROM ranked
        GROUP BY 1
        ORDER BY rank
        """,
        params,
    )
    money_column(df, "invoiced", "org_share")
    df["sponsor_share"] = [
        inv - org for inv, org in zip(df["invoiced"], df["org_share"], strict=True)
    ]
    return df[["community", "invoices", "invoiced", "sponsor_share", "org_share"]]


def community_invoices(
    settings: Settings, currency: str, today: date, community: str, months: int = 12
) -> pd.DataFrame:
    """The receivables behind one community's bar of `revenue_by_community`: issued in the
    same window, newest first. Columns: number, contract, issue_date, due_date, status,
    amount, org_share (amount × (1 − CSS %)), currency, id (the record id).
    """
    params = _issued_window(today, months) | {"currency": currency, "community": community}
    df = frame(
        settings,
        f"""
        SELECT i.number, coalesce(c.name, '{NO_CONTRACT}') AS contract, i.issue_date,
               i.due_date, i.status, i.amount,
               round(i.amount * (1 - coalesce(c.css_pct, 0)), 2) AS org_share,
               coalesce(i.currency, 'USD') AS currency, i.id
        FROM receivables AS i LEFT JOIN contracts AS c ON c.id = i.contract_id
        WHERE {RECEIVABLE} AND {ISSUED} AND coalesce(i.currency, 'USD') = $currency
          AND i.issue_date >= $first AND i.issue_date <= $today
          AND coalesce(c.community, '{NO_CONTRACT}') = $community
        ORDER BY i.issue_date DESC, i.number
        """,
        params,
    )
    return money_column(df, "amount", "org_share")


def revenue_share(
    settings: Settings, currency: str, today: date, months: int = 12
) -> dict[str, Decimal]:
    """Totals over the same window as `revenue_by_community`: invoiced, sponsor and org share."""
    params = _issued_window(today, months) | {"currency": currency}
    df = frame(
        settings,
        f"""
        SELECT sum({SIGNED_AMOUNT}) AS invoiced,
               round(sum({ORG_SHARE}), 2) AS org_share
        FROM receivables AS i LEFT JOIN contracts AS c ON c.id = i.contract_id
        {PASS_THROUGH_JOIN}
        WHERE {REVENUE} AND {ISSUED} AND coalesce(i.currency, 'USD') = $currency
          AND i.issue_date >= $first AND i.issue_date <= $today
        """,
        params,
    )
    invoiced = rounded(df["invoiced"].iloc[0], currency)
    org = rounded(df["org_share"].iloc[0], currency)
    return {"invoiced": invoiced, "sponsor_share": invoiced - org, "org_share": org}


def renewal_radar(settings: Settings, today: date) -> pd.DataFrame:
    """Active contracts ending within 180 days, or already past their End Date.

    Columns: bucket, position, name, community, end_date, days_left, monthly_fee, currency,
    billing_email, id (the record id); soonest first.
    """
    df = frame(
        settings,
        """
        SELECT CASE WHEN c.end_date < $today THEN 0
                    WHEN c.end_date <= $today + 30 THEN 1
                    WHEN c.end_date <= $today + 90 THEN 2 ELSE 3 END AS position,
               c.name, c.community, c.end_date, datediff('day', $today, c.end_date) AS days_left,
               c.monthly_fee, coalesce(c.currency, 'USD') AS currency, c.billing_email, c.id
        FROM contracts AS c
        WHERE c.status = $active_contract AND c.end_date IS NOT NULL AND c.end_date <= $today + 180
        ORDER BY c.end_date, c.name
        """,
        {"today": today},
    )
    df.insert(0, "bucket", [RENEWAL_BUCKETS[int(p)] for p in df["position"]])
    return df


def revenue_currencies(settings: Settings) -> list[str]:
    """Currencies of contracts and invoices, the most used first."""
    return currencies(settings, ("contracts", *INVOICE_TABLES))
