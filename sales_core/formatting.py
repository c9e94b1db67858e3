"""Amounts as people read them: `12,000.00 USD`, `99,999 JPY`, with the currency's minor unit."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

from sales_core.models import CURRENCY_MINOR_UNITS


def money(
    amount: Decimal | None, currency: str, *, signed: bool = False, whole: bool = False
) -> str:
    """The amount with thousands separators, the currency's decimals and its code.

    `signed` puts a `+` before positive amounts (for changes); `whole` rounds to whole units
    (HALF_UP; for tiles, where cents do not fit); None reads "–".
    """
    if amount is None:
        return "–"
    places = 0 if whole else CURRENCY_MINOR_UNITS.get(currency, 2)
    value = Decimal(amount).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = f"{value:+,}" if signed else f"{value:,}"
    return f"{text} {currency}"


_LARGE = ((Decimal(1_000_000_000), "B"), (Decimal(1_000_000), "M"))


def money_tile(amount: Decimal | None, currency: str, *, signed: bool = False) -> str:
    """A short amount for a tile: whole units, or millions (M) and billions (B) with 2 decimals.

    `237,060,501` does not fit a tile; `237.06 M USD` does.
    """
    if amount is None:
        return "–"
    for size, suffix in _LARGE:
        if abs(amount) >= size:
            value = (Decimal(amount) / size).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            text = f"{value:+,}" if signed else f"{value:,}"
            return f"{text} {suffix} {currency}"
    return money(amount, currency, signed=signed, whole=True)


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
        out[name] = [money(v, c) for v, c in zip(out[name], codes, strict=True)]
    return out
