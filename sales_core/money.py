"""Money: minor units, rounding and formatting in one place, and a `Money` that keeps its currency.

Amounts are `Decimal` from AirTable's JSON number onwards (see records.py); no float touches
one. Rounding is always HALF_UP (halves away from zero), once, to the currency's minor unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from sales_core.errors import SalesError

# ISO 4217 minor units of the currencies we expect; anything else is "unknown currency".
MINOR_UNITS: dict[str, int] = {
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "CAD": 2,
    "AUD": 2,
    "NZD": 2,
    "CHF": 2,
    "SEK": 2,
    "NOK": 2,
    "DKK": 2,
    "INR": 2,
    "BRL": 2,
    "MXN": 2,
    "ZAR": 2,
    "JPY": 0,
    "KRW": 0,
}
CURRENCIES = tuple(MINOR_UNITS)
DEFAULT_CURRENCY = "USD"
# DuckDB's DECIMAL(18, 2) holds 16 digits before the point.
LIMIT = Decimal("1e16")
ZERO = Decimal(0)


class CurrencyMismatch(SalesError, ValueError):
    """Two amounts in different currencies were combined; nothing is ever converted."""


def places(currency: str) -> int:
    """Decimals of the currency's minor unit (2 for one we do not know)."""
    return MINOR_UNITS.get(currency, 2)


def _round(amount: Decimal, decimals: int) -> Decimal:
    return Decimal(amount).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def quantize(amount: Decimal, currency: str) -> Decimal:
    """The amount rounded once to the currency's minor unit, HALF_UP."""
    return _round(amount, places(currency))


def round_exact(value: Fraction, currency: str) -> Decimal:
    """An exact fraction rounded once to the currency's minor unit, halves away from zero."""
    scaled = value * 10 ** places(currency)
    whole, remainder = divmod(abs(scaled.numerator), scaled.denominator)
    if 2 * remainder >= scaled.denominator:
        whole += 1
    sign = -1 if scaled < 0 else 1
    return Decimal(sign * whole).scaleb(-places(currency))


def plain(amount: Decimal, currency: str) -> str:
    """A decimal string in the currency's minor unit, for JSON, CSV and AirTable: '1387.10'."""
    return f"{quantize(amount, currency):f}"


def plain_number(number: Decimal) -> str:
    """A quantity or unit price as given, without trailing zeros: '1.5', '0.0425', '12'."""
    text = f"{number:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def grouped(amount: Decimal, currency: str) -> str:
    """Thousands separated, the currency's decimals, no code: '1,387.10', '66,666'."""
    return f"{quantize(amount, currency):,}"


def text(
    amount: Decimal | None, currency: str, *, signed: bool = False, whole: bool = False
) -> str:
    """As people read it: '12,000.00 USD', '99,999 JPY'; None reads '–'.

    `signed` puts a `+` before positive amounts (for changes); `whole` rounds to whole units
    (for tiles, where cents do not fit).
    """
    if amount is None:
        return "–"
    value = _round(amount, 0 if whole else places(currency))
    shown = f"{value:+,}" if signed else f"{value:,}"
    return f"{shown} {currency}"


_LARGE = ((Decimal(1_000_000_000), "B"), (Decimal(1_000_000), "M"))


def tile(amount: Decimal | None, currency: str, *, signed: bool = False) -> str:
    """A short amount for a tile: whole units, or millions (M) and billions (B), 2 decimals.

    `237,060,501` does not fit a tile; `237.06 M USD` does.
    """
    if amount is None:
        return "–"
    for size, suffix in _LARGE:
        if abs(amount) >= size:
            value = _round(Decimal(amount) / size, 2)
            shown = f"{value:+,}" if signed else f"{value:,}"
            return f"{shown} {suffix} {currency}"
    return text(amount, currency, signed=signed, whole=True)


@dataclass(frozen=True, slots=True)
class Money:
    """An amount with its currency: adding or comparing across currencies is an error."""

    amount: Decimal
    currency: str

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(ZERO, currency)

    def _same(self, other: Money) -> None:
        if self.currency != other.currency:
            raise CurrencyMismatch(
                f"Cannot combine {self} with {other}: amounts in different currencies are "
                "never added or compared (nothing is converted)."
            )

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def quantized(self) -> Money:
        return Money(quantize(self.amount, self.currency), self.currency)

    def __str__(self) -> str:
        return text(self.amount, self.currency)


def total(amounts: list[Money], currency: str) -> Money:
    """The sum of amounts that must all be in `currency` (an empty list is zero)."""
    result = Money.zero(currency)
    for amount in amounts:
        result = result + amount
    return result
