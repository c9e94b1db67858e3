"""Readers of AirTable's JSON values: one function per kind of field, each raising
`FieldProblem` with a reason in words when the value cannot be read.

The table declarations (models.py, through schema.py) pick a reader per column; records.py
applies them to whole records.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sales_core import money
from sales_core.errors import SalesError

Parser = Callable[[object], Any]


class FieldProblem(SalesError, ValueError):
    """A value that cannot be read; the message says why."""


def raw_text(value: object) -> str:
    """A short printable form of a raw JSON value, for the quarantine table."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 500 else text[:497] + "..."


def error_object(value: object) -> str | None:
    if isinstance(value, dict):
        if "error" in value:
            return f"formula error {value['error']}"
        if "specialValue" in value:
            return f"formula value {value['specialValue']}"
    return None


def as_text(value: object) -> str:
    """Text fields; lookups can send a list of strings, which we join."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        raise FieldProblem("expected text, got a checkbox value")
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ", ".join(value)
    raise FieldProblem("expected text")


def as_decimal(value: object) -> Decimal:
    """A JSON number as an exact Decimal (through its shortest text)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FieldProblem("expected a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise FieldProblem("expected a finite number")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise FieldProblem("expected a number") from None
    if abs(number) >= money.LIMIT:
        raise FieldProblem("number too large")
    return number


def as_money(value: object) -> Decimal:
    """Money: an exact Decimal. Rounding to the currency's minor unit happens once the record's
    currency is known (records.parse_values), so 1234 JPY is never read as 1234.00."""
    return as_decimal(value)


def as_fraction(value: object) -> Decimal:
    """A percent field: AirTable sends 0.15 for 15 %."""
    number = as_decimal(value)
    if not Decimal(0) <= number <= Decimal(1):
        raise FieldProblem("expected a fraction between 0 and 1 (a percent field)")
    return number.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


def _scaled(value: object, places: int, limit: Decimal) -> Decimal:
    number = as_decimal(value)
    if abs(number) >= limit:
        raise FieldProblem("number too large")
    return number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def as_quantity(value: object) -> Decimal:
    """A charge's quantity (printed on its line), kept to 4 decimals."""
    return _scaled(value, 4, Decimal(10) ** 13)


def as_unit_price(value: object) -> Decimal:
    """A charge's unit price (printed on its line), kept to 6 decimals: a price per core-hour
    may be finer than the currency's minor unit; only the line's amount is rounded to it."""
    return _scaled(value, 6, Decimal(10) ** 11)


def as_int(value: object) -> int:
    """A whole number; a float with no fraction is accepted."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FieldProblem("expected a whole number")
    if isinstance(value, float) and (not math.isfinite(value) or not value.is_integer()):
        raise FieldProblem("expected a whole number")
    return int(value)


def as_rating(value: object) -> int:
    """A rating field (1-5 stars)."""
    number = as_int(value)
    if not 1 <= number <= 5:
        raise FieldProblem("expected a rating from 1 to 5")
    return number


def as_date(value: object) -> date:
    """A date field (`YYYY-MM-DD`); a date-time field's ISO text gives its date."""
    if not isinstance(value, str):
        raise FieldProblem("expected a date")
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        raise FieldProblem("not a valid date (expected YYYY-MM-DD)") from None


def as_links(value: object) -> tuple[str, ...]:
    """A link field: a list of record ids."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise FieldProblem("expected a list of linked record ids")
    return tuple(value)


def as_collaborator(value: object) -> tuple[str | None, str | None]:
    """A collaborator object -> (name, email); a multiple-collaborator list gives its first."""
    if isinstance(value, list):
        if not value:
            return None, None
        value = value[0]
    if isinstance(value, str):
        return value, None
    if isinstance(value, dict):
        name = value.get("name")
        email = value.get("email")
        return (
            name if isinstance(name, str) else None,
            email if isinstance(email, str) else None,
        )
    raise FieldProblem("expected a collaborator")


@dataclass(frozen=True)
class Select:
    """A single select with the options we know; other values are kept and warned about."""

    options: tuple[str, ...]

    def __call__(self, value: object) -> str:
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if not isinstance(value, str):
            raise FieldProblem("expected a single select option")
        return value
