"""What every metric query shares: a short connection, the stage table and money rounding."""

from __future__ import annotations

import calendar
from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd
import pyarrow as pa

from sales_core import money, store
from sales_core.config import Settings
from sales_core.vocabulary import bind

ZERO = Decimal("0.00")
UNKNOWN_STAGE_POSITION = 99

# An invoice counts as revenue when it is a receivable (a missing Type means ACCREC) and it was
# issued: Draft is not sent yet and Void never counts.
# The words are bound parameters (vocabulary.SQL_WORDS), filled in by `frame`.
RECEIVABLE = "coalesce(i.type, $receivable) = $receivable"
# Revenue is the receivables less the credit notes, each in the month it is issued.
REVENUE = "coalesce(i.type, $receivable) IN ($receivable, $credit_note)"
SIGNED_AMOUNT = "CASE WHEN i.type = $credit_note THEN -i.amount ELSE i.amount END"
ISSUED = "list_contains($issued, i.status)"


def frame(settings: Settings, sql: str, params: list[Any] | dict[str, Any]) -> pd.DataFrame:
    """Run one read query on a short connection; DECIMAL columns come back as `Decimal`.

    Integers come back as pandas' nullable Int64, dates as `datetime.date`.
    """
    with store.connect(settings.db_path, lock_timeout=settings.lock_timeout) as con:
        bound = params if isinstance(params, list) else bind(sql, params)
        table = con.sql(sql, params=bound).to_arrow_table()
    return table.to_pandas(types_mapper=_NULLABLE_INTEGERS.get)


# Integer columns with gaps (a score not given) stay integers instead of becoming floats.
_NULLABLE_INTEGERS = {
    pa.int8(): pd.Int64Dtype(),
    pa.int16(): pd.Int64Dtype(),
    pa.int32(): pd.Int64Dtype(),
    pa.int64(): pd.Int64Dtype(),
}


def stage_values(settings: Settings) -> tuple[str, dict[str, Any]]:
    """A `stages(stage, position, default_probability)` CTE and its bound parameters.

    The order and default probabilities come from the settings (airtable-schema.md); a stage
    the schema does not know gets no row, so queries place it last and give it no default.
    """
    rows = []
    params: dict[str, Any] = {}
    for n, (stage, probability) in enumerate(settings.stage_probability.items()):
        rows.append(f"($stage_{n}, {n}, CAST($probability_{n} AS DECIMAL(9, 6)))")
        params[f"stage_{n}"] = stage
        params[f"probability_{n}"] = probability
    return f"stages(stage, position, default_probability) AS (VALUES {', '.join(rows)})", params


# value × probability: the rating (1–5) ÷ 5 when given, else the stage's default, else nothing.
WEIGHTED = "o.value * coalesce(o.probability_rating * 0.20, s.default_probability)"
PROBABILITY = "coalesce(o.probability_rating * 0.20, s.default_probability)"
IS_OPEN = "(o.stage IS NULL OR NOT list_contains($closed_stages, o.stage))"


# The tables with a currency column (each row's currency, the default when empty). The
# invoices are read from their three tables, not the `receivables` view: the same currencies
# (a made-here invoice synced back counts twice, which only weighs on the order), without the
# view's joins over every invoice (18 ms to 2 ms with 100,000 invoices).
INVOICE_TABLES = ("invoices", "generated_invoices", "credit_notes")
CURRENCY_TABLES = ("opportunities", "contracts", *INVOICE_TABLES)


def currencies(settings: Settings, tables: tuple[str, ...] = CURRENCY_TABLES) -> list[str]:
    """Every currency in these tables, the most used first (for the currency pickers)."""
    union = " UNION ALL ".join(
        f"SELECT coalesce(currency, $default_currency) AS currency FROM {table}" for table in tables
    )
    df = frame(
        settings,
        f"SELECT currency, count(*) AS n FROM ({union}) GROUP BY currency "
        "ORDER BY n DESC, currency",
        {"default_currency": money.DEFAULT_CURRENCY},
    )
    return [str(c) for c in df["currency"]]


def same_day_months_ago(day: date, months: int) -> date:
    """The same day `months` earlier, clamped to the end of a shorter month."""
    first = add_months(day, -months)
    return first.replace(day=min(day.day, days_in_month(first)))


def month_start(day: date) -> date:
    """The first day of `day`'s month."""
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    """The first day of the month `months` after `day`'s month."""
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month0 + 1, 1)


def days_in_month(day: date) -> int:
    """How many days `day`'s month has."""
    return calendar.monthrange(day.year, day.month)[1]


def rounded(value: Decimal | None, currency: str) -> Decimal:
    """A sum rounded once to the currency's minor unit; nothing is zero."""
    return money.quantize(ZERO if value is None or value != value else value, currency)


def money_column(df: pd.DataFrame, *names: str, currency: str | None = None) -> pd.DataFrame:
    """Missing sums become zero, each rounded to its row's currency (in place; returned).

    The currency is the frame's `currency` column, else `currency`, else the default.
    """
    codes = (
        list(df["currency"])
        if currency is None and "currency" in df
        else [currency or money.DEFAULT_CURRENCY] * len(df)
    )
    for name in names:
        df[name] = [rounded(v, c) for v, c in zip(df[name], codes, strict=True)]
    return df
