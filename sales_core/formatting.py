"""Tables and percentages as people read them (amounts themselves: `sales_core.money`)."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from sales_core import money


def percent(share: float | None, places: int = 0) -> str:
    """0.5 -> '50 %'; None reads "–"."""
    return "–" if share is None else f"{share * 100:.{places}f} %"


def money_table(
    df: pd.DataFrame, columns: list[str], money_columns: tuple[str, ...] = (), currency: str = ""
) -> pd.DataFrame:
    """The chosen columns, amounts written out in words-and-digits for a read-only table.

    Money columns are those in `money_columns`, or every Decimal column when none are named;
    each row's currency comes from its `currency` column, else from the `currency` argument.
    """
    out = df[columns].copy()
    names = money_columns or tuple(
        c for c in columns if any(isinstance(v, Decimal) for v in out[c].head(20))
    )
    codes = list(df["currency"]) if "currency" in df else [currency] * len(df)
    for name in names:
        out[name] = [money.text(v, c) for v, c in zip(out[name], codes, strict=True)]
    return out
