"""How a table is declared: each column once, with its AirTable name, reader, SQL and Arrow type.

A synced table is a pydantic model in models.py whose fields carry a `Col`:

    monthly_fee: Annotated[Decimal | None, Col("Monthly Fee", MONEY, drop_on_error=True)] = None

From that one line come the model's attribute, the reader used by the sync (records.py), the
default AirTable field name (config.DEFAULT_FIELDS), the store's column and Arrow type
(store.arrow_table) and the name the demo generator writes. The column itself reaches existing
databases through a migration (migrations.py); tests/test_schema.py checks that a fresh
database has exactly the declared columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from functools import cache
from typing import Any

import pyarrow as pa
from pydantic import BaseModel

from sales_core import money, parsers
from sales_core.parsers import Parser, Select


@dataclass(frozen=True)
class Kind:
    """A kind of column: how AirTable's JSON is read and how the store keeps it."""

    sql: str  # DuckDB's own spelling of the type, as duckdb_columns() reports it
    arrow: pa.DataType
    parse: Parser


TEXT = Kind("VARCHAR", pa.string(), parsers.as_text)
MONEY = Kind("DECIMAL(18,2)", pa.decimal128(18, 2), parsers.as_money)
FRACTION = Kind("DECIMAL(9,6)", pa.decimal128(9, 6), parsers.as_fraction)
# A charge's quantity and unit price: printed as given (a unit price may have more decimals
# than the currency, e.g. 0.0425 per core-hour); only the line's amount is in minor units.
QUANTITY = Kind("DECIMAL(18,4)", pa.decimal128(18, 4), parsers.as_quantity)
PRICE = Kind("DECIMAL(18,6)", pa.decimal128(18, 6), parsers.as_unit_price)
INT = Kind("INTEGER", pa.int32(), parsers.as_int)
RATING = Kind("INTEGER", pa.int32(), parsers.as_rating)
DATE = Kind("DATE", pa.date32(), parsers.as_date)
TIMESTAMP = Kind("TIMESTAMP", pa.timestamp("us"), parsers.as_text)
LINKS = Kind("VARCHAR[]", pa.list_(pa.string()), parsers.as_links)
COLLABORATOR = Kind("VARCHAR", pa.string(), parsers.as_collaborator)


def select(options: type[StrEnum] | tuple[str, ...]) -> Kind:
    """A single select with the options we know (others are kept, with a warning)."""
    return Kind("VARCHAR", pa.string(), Select(tuple(str(o) for o in options)))


CURRENCY = select(money.CURRENCIES)


@dataclass(frozen=True)
class Col:
    """One column of a synced table.

    `airtable` is the default AirTable field name (None: the column does not come from a field,
    like the record id). `key` is the name a mapping file uses when it differs from the
    attribute: two columns with one key read one field, `part` saying which item of the
    reader's tuple each keeps (the Owner collaborator gives a name and an email). `first_of`
    makes a column the first item of a link column, for joins.
    """

    airtable: str | None
    kind: Kind
    required: bool = False  # missing -> rejected
    needed_for: str | None = None  # missing -> warning naming what cannot be done
    drop_on_error: bool = False  # unreadable -> warning, value dropped (not rejected)
    key: str | None = None
    part: int | None = None
    first_of: str | None = None
    minor_unit: bool = False  # a money column rounded to its record's currency
    # The range a value may sensibly have (docs/airtable-schema.md): outside it the sync warns
    # and drops the value, or keeps it with `keep_outside` (for the invoice run to refuse).
    sensible: tuple[Decimal, Decimal] | None = None
    keep_outside: bool = False


@dataclass(frozen=True)
class Column:
    """A declared column with its attribute name."""

    attr: str
    col: Col

    @property
    def key(self) -> str:
        return self.col.key or self.attr


ID = Col(None, TEXT)
CREATED = Col(None, Kind("TIMESTAMP", pa.timestamp("us"), parsers.as_text))


@cache
def columns(model: type[BaseModel]) -> tuple[Column, ...]:
    """The model's declared columns, in the order of its fields (the store's column order)."""
    found: list[Column] = []
    for attr, info in model.model_fields.items():
        col = next((m for m in info.metadata if isinstance(m, Col)), None)
        if col is None:
            raise TypeError(f"{model.__name__}.{attr} has no Col(...) declaration")
        found.append(Column(attr, col))
    return tuple(found)


def sensible(model: type[BaseModel], attr: str) -> tuple[Decimal, Decimal]:
    """The declared sensible range of one column (a TypeError when it has none: a code bug)."""
    col = next(c.col for c in columns(model) if c.attr == attr)
    if col.sensible is None:
        raise TypeError(f"{model.__name__}.{attr} declares no sensible range")
    return col.sensible


def airtable_names(model: type[BaseModel]) -> dict[str, str]:
    """Mapping key -> default AirTable field name, for the fields read from AirTable."""
    return {c.key: c.col.airtable for c in columns(model) if c.col.airtable is not None}


def arrow_schema(model: type[BaseModel]) -> pa.Schema:
    return pa.schema([pa.field(c.attr, c.col.kind.arrow) for c in columns(model)])


def arrow_table(model: type[BaseModel], rows: list[dict[str, Any]]) -> pa.Table:
    """Rows (attribute -> Python value) as an Arrow table with the store's exact types."""
    data = {c.attr: [row.get(c.attr) for row in rows] for c in columns(model)}
    return pa.Table.from_pydict(data, schema=arrow_schema(model))
