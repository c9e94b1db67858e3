"""Statements and aging per community: the open invoices, their balances and days past due.

Open means an `Authorized` receivable with a balance left (made here or synced; a payment
recorded here counts at once). Amounts stay per currency: a community billed in two currencies
has a line per currency in the summary, and its statement a total per currency.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from sales_core.config import Settings
from sales_core.metrics.common import RECEIVABLE, frame
from sales_core.metrics.revenue import (
    AGING_BUCKET_SQL,
    AGING_BUCKETS,
    DAYS_PAST_DUE_SQL,
    NO_CONTRACT,
)

_OPEN = f"""
SELECT coalesce(c.community, '{NO_CONTRACT}') AS community, i.number,
       coalesce(c.name, '{NO_CONTRACT}') AS contract, i.issue_date, i.due_date,
       greatest({DAYS_PAST_DUE_SQL}, 0) AS days_past_due, i.amount,
       coalesce(i.amount_paid, 0) AS amount_paid, i.balance,
       coalesce(i.currency, 'USD') AS currency, {AGING_BUCKET_SQL} AS position, i.id
FROM receivables AS i LEFT JOIN contracts AS c ON c.id = i.contract_id
WHERE {RECEIVABLE} AND i.status = $authorized AND i.balance > 0
"""


def open_invoices(settings: Settings, today: date, community: str | None = None) -> pd.DataFrame:
    """Every open invoice (of one community, or all), most overdue first.

    Columns: community, number, contract, issue_date, due_date, days_past_due, amount,
    amount_paid, balance, currency, id (the record id), bucket.
    """
    only = "AND coalesce(c.community, $no_contract) = $community" if community else ""
    params: dict[str, object] = {"today": today}
    if community:
        params |= {"community": community, "no_contract": NO_CONTRACT}
    df = frame(
        settings,
        f"{_OPEN} {only} ORDER BY community, days_past_due DESC, i.number",
        params,
    )
    df["bucket"] = [AGING_BUCKETS[int(p)] for p in df["position"]]
    return df.drop(columns="position")


def aging_by_community(settings: Settings, today: date) -> pd.DataFrame:
    """Per community and currency: open invoices, the balance due, the oldest days past due and
    the balance in each aging bucket. Largest balance first.

    Columns: community, currency, invoices, balance, oldest_days, then one per bucket.
    """
    buckets = ", ".join(
        f'sum(balance) FILTER (WHERE position = {n}) AS "{name}"'
        for n, name in enumerate(AGING_BUCKETS)
    )
    return frame(
        settings,
        f"""
        WITH open AS ({_OPEN})
        SELECT community, currency, count(*) AS invoices, sum(balance) AS balance,
               max(days_past_due) AS oldest_days, {buckets}
        FROM open GROUP BY community, currency
        ORDER BY balance DESC, community, currency
        """,
        {"today": today},
    )


def statement_pdf(settings: Settings, community: str, today: date) -> bytes:
    """One community's statement of account as PDF bytes (the seller from the settings)."""
    from decimal import Decimal

    from sales_core import ledger, pdf

    rows = open_invoices(settings, today, community)
    lines = [
        pdf.StatementLine(
            number=str(r["number"]),
            issue_date=r["issue_date"],
            due_date=r["due_date"],
            days_past_due=int(r["days_past_due"] or 0),
            amount=Decimal(r["amount"]),
            paid=Decimal(r["amount_paid"]),
            balance=Decimal(r["balance"]),
            currency=str(r["currency"]),
        )
        for r in rows.to_dict("records")
    ]
    return pdf.render_statement(community, lines, ledger.seller(settings), today)
