"""Raw AirTable records -> domain models, plus the problems found on the way.

The same code reads records from AirTable and from the demo files. What the real API sends and
how each case is treated:

- a key left out (empty field): the attribute's default;
- a formula or rollup error (`{"error": "#ERROR!"}`, `{"specialValue": "NaN"}`) or a value of the
  wrong type in a typed field: the record is *rejected* (quarantined, not loaded);
- a select value we do not know (renamed or new option): kept as it is, with a *warning*;
- a missing value that some later step needs (a contract's Start Date): loaded, with a warning;
- linked records: a tuple of record ids; links to records that do not exist are found by the sync
  once every table is in, and reported as warnings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from sales_core import money
from sales_core.config import FieldMapping
from sales_core.models import SYNCED, Entity, Problem
from sales_core.parsers import FieldProblem, Parser, Select, error_object, raw_text
from sales_core.schema import Col, columns


def _created_time(raw: object) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00")).replace(tzinfo=None)
    except ValueError:
        return None


@dataclass(frozen=True)
class CompiledField:
    """One AirTable field of a table, its name resolved once per sync, not once per record.

    `targets` are the attributes it fills: (attribute, part of the reader's tuple or None).
    """

    col: Col
    name: str
    parse: Parser
    targets: tuple[tuple[str, int | None], ...]
    options: tuple[str, ...] | None  # the known options of a single select


@dataclass(frozen=True)
class Compiled:
    """A table's fields ready for `parse_values`, and what is derived after reading them."""

    fields: tuple[CompiledField, ...]
    first_of: tuple[tuple[str, str], ...]  # (attribute, link attribute it is the first of)
    minor_unit: tuple[str, ...]  # money attributes rounded to the record's currency


def compile_fields(table_key: str, mapping: FieldMapping) -> Compiled:
    """The fields of one table as this base names them, from the table's declaration."""
    names = mapping.fields[table_key]
    by_key: dict[str, list[tuple[str, Col]]] = {}
    for column in columns(SYNCED[table_key]):
        if column.col.airtable is not None:
            by_key.setdefault(column.key, []).append((column.attr, column.col))
    fields = []
    for key, targets in by_key.items():
        col = targets[0][1]
        parse = col.kind.parse
        fields.append(
            CompiledField(
                col=col,
                name=names[key],
                parse=parse,
                targets=tuple((attr, c.part) for attr, c in targets),
                options=parse.options if isinstance(parse, Select) else None,
            )
        )
    declared = columns(SYNCED[table_key])
    return Compiled(
        fields=tuple(fields),
        first_of=tuple((c.attr, c.col.first_of) for c in declared if c.col.first_of),
        minor_unit=tuple(c.attr for c in declared if c.col.minor_unit),
    )


def parse_values(
    table_key: str, record: Mapping[str, Any], compiled: Compiled
) -> tuple[dict[str, Any] | None, list[Problem]]:
    """Read one raw record into attribute values; None when it is rejected, and the problems.

    The hot loop of a sync (100k records): one dict lookup per field, and no work for the
    fields a record leaves out.
    """
    record_id = record.get("id")
    if not isinstance(record_id, str) or not record_id:
        return None, [
            Problem(
                table=table_key,
                record_id="(none)",
                field="id",
                problem="record has no id",
                raw_value=raw_text(dict(record)),
            )
        ]
    fields = record.get("fields")
    if not isinstance(fields, dict):
        return None, [
            Problem(
                table=table_key,
                record_id=record_id,
                field="fields",
                problem="record has no fields object",
                raw_value=raw_text(fields),
            )
        ]

    problems: list[Problem] = []
    values: dict[str, Any] = {
        "id": record_id,
        "created_time": _created_time(record.get("createdTime")),
    }
    rejected = False
    get = fields.get

    def problem(field: str, text: str, raw: Any = None, *, warning: bool = False) -> None:
        problems.append(
            Problem(
                table=table_key,
                record_id=record_id,
                field=field,
                problem=text,
                raw_value=None if raw is None else raw_text(raw),
                severity="warning" if warning else "rejected",
            )
        )

    for field in compiled.fields:
        spec = field.col
        raw = get(field.name)
        if raw is None or raw == "":
            if spec.required:
                rejected = True
                problem(field.name, "required field is empty")
            elif spec.needed_for:
                problem(
                    field.name,
                    f"empty: the record cannot be used for {spec.needed_for}",
                    warning=True,
                )
            continue
        try:
            if type(raw) is dict and (error := error_object(raw)):
                raise FieldProblem(error)
            value = field.parse(raw)
        except FieldProblem as exc:
            if spec.drop_on_error:
                problem(field.name, f"{exc}; value ignored", raw, warning=True)
                continue
            rejected = True
            problem(field.name, str(exc), raw)
            continue
        if spec.sensible is not None and not spec.sensible[0] <= value <= spec.sensible[1]:
            low, high = spec.sensible
            if not spec.keep_outside:
                problem(
                    field.name,
                    f"outside the sensible range {low} to {high}; value ignored",
                    raw,
                    warning=True,
                )
                continue
            problem(
                field.name,
                f"outside the sensible range {low} to {high}; kept, never billed",
                raw,
                warning=True,
            )
        if field.options is not None and value not in field.options:
            problem(field.name, f"unknown option '{value}', kept as it is", raw, warning=True)
        for attr, part in field.targets:
            values[attr] = value if part is None else value[part]
    if rejected:
        return None, problems
    for attr, links in compiled.first_of:
        first = values.get(links)
        values[attr] = first[0] if first else None
    if compiled.minor_unit:
        _round_to_minor_unit(table_key, record_id, values, compiled, problems)
    return values, problems


def _round_to_minor_unit(
    table_key: str,
    record_id: str,
    values: dict[str, Any],
    compiled: Compiled,
    problems: list[Problem],
) -> None:
    """Amounts in the record's currency's minor unit; one that had to be rounded says so."""
    currency = values.get("currency") or money.DEFAULT_CURRENCY
    for attr in compiled.minor_unit:
        amount = values.get(attr)
        if amount is None:
            continue
        rounded = money.quantize(amount, currency)
        if rounded != amount:
            name = next(f.name for f in compiled.fields if any(a == attr for a, _ in f.targets))
            problems.append(
                Problem(
                    table=table_key,
                    record_id=record_id,
                    field=name,
                    problem=f"more decimals than {currency} has; rounded to {rounded}",
                    raw_value=str(amount),
                    severity="warning",
                )
            )
        values[attr] = rounded


def build_entity(
    table_key: str, values: dict[str, Any], mapping: FieldMapping
) -> tuple[Entity | None, list[Problem]]:
    """The pydantic model of parsed values; a constraint the parsers missed rejects it."""
    try:
        return SYNCED[table_key](**values), []
    except ValidationError as exc:
        problems = []
        for detail in exc.errors():
            attr = str(detail["loc"][0]) if detail["loc"] else "(record)"
            problems.append(
                Problem(
                    table=table_key,
                    record_id=str(values.get("id")),
                    field=mapping.fields[table_key].get(attr, attr),
                    problem=str(detail["msg"]),
                    raw_value=raw_text(detail.get("input")),
                )
            )
        return None, problems


def parse_record(
    table_key: str, record: Mapping[str, Any], mapping: FieldMapping
) -> tuple[Entity | None, list[Problem]]:
    """Read one raw record of `table_key`; None when it is rejected, with the problems found."""
    values, problems = parse_values(table_key, record, compile_fields(table_key, mapping))
    if values is None:
        return None, problems
    entity, more = build_entity(table_key, values, mapping)
    return entity, problems + more
