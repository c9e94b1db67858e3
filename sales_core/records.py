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

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from sales_core.config import CRITERIA, FieldMapping, criterion_attr
from sales_core.errors import SalesError
from sales_core.models import (
    ANSWERS,
    BILLING_FREQUENCIES,
    CATEGORIES,
    CONTRACT_STATUSES,
    CURRENCY_MINOR_UNITS,
    INVOICE_STATUSES,
    INVOICE_TYPES,
    OPPORTUNITY_STAGES,
    RECOMMENDATIONS,
    SERVICE_TYPES,
    Contract,
    Entity,
    Invoice,
    Opportunity,
    Problem,
    Qualification,
)

MONEY_LIMIT = Decimal("1e16")  # DECIMAL(18, 2) holds 16 digits before the point
CENT = Decimal("0.01")


class FieldProblem(SalesError, ValueError):
    """A value that cannot be read; the message says why."""


def raw_text(value: object) -> str:
    """A short printable form of a raw JSON value, for the quarantine table."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 500 else text[:497] + "..."


def _error_object(value: object) -> str | None:
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
    """A JSON number as an exact Decimal (through its shortest text), rounded to cents."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FieldProblem("expected a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise FieldProblem("expected a finite number")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise FieldProblem("expected a number") from None
    if abs(number) >= MONEY_LIMIT:
        raise FieldProblem("number too large")
    return number


def as_money(value: object) -> Decimal:
    """Money: an exact Decimal with two decimals (DuckDB stores DECIMAL(18, 2))."""
    return as_decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def as_fraction(value: object) -> Decimal:
    """A percent field: AirTable sends 0.15 for 15 %."""
    number = as_decimal(value)
    if not Decimal(0) <= number <= Decimal(1):
        raise FieldProblem("expected a fraction between 0 and 1 (a percent field)")
    return number.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


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


Parser = Callable[[object], Any]

CURRENCY = Select(tuple(CURRENCY_MINOR_UNITS))


@dataclass(frozen=True)
class FieldSpec:
    """How one field of one table is read."""

    attr: str
    parse: Parser
    required: bool = False  # missing -> rejected
    needed_for: str | None = None  # missing -> warning that names what cannot be done
    drop_on_error: bool = False  # unreadable -> warning, value dropped (not rejected)


OPPORTUNITY_FIELDS = (
    FieldSpec("name", as_text, required=True),
    FieldSpec("organization", as_text),
    FieldSpec("stage", Select(OPPORTUNITY_STAGES)),
    FieldSpec("value", as_money),
    FieldSpec("currency", CURRENCY),
    FieldSpec("probability_rating", as_rating, drop_on_error=True),
    FieldSpec("expected_close", as_date),
    FieldSpec("target_start", as_date),
    FieldSpec("target_end", as_date),
    FieldSpec("category", Select(CATEGORIES)),
    FieldSpec("owner", as_collaborator),
    FieldSpec("last_activity", as_date),
    FieldSpec("lost_reason", as_text),
)

CONTRACT_FIELDS = (
    FieldSpec("name", as_text, required=True),
    FieldSpec("community", as_text),
    FieldSpec("opportunity_ids", as_links),
    FieldSpec("status", Select(CONTRACT_STATUSES)),
    FieldSpec("start_date", as_date, needed_for="billing"),
    FieldSpec("end_date", as_date),
    FieldSpec("billing_frequency", Select(BILLING_FREQUENCIES)),
    # An unreadable fee loads as no fee: the invoice run then lists the contract as skipped
    # with the reason, rather than the contract vanishing from the run.
    FieldSpec("monthly_fee", as_money, drop_on_error=True),
    FieldSpec("amount", as_money),
    FieldSpec("currency", CURRENCY),
    FieldSpec("css_pct", as_fraction),
    FieldSpec("service_type", Select(SERVICE_TYPES)),
    FieldSpec("payment_terms", as_int),
    FieldSpec("billing_email", as_text),
)

# An invoice is never rejected for one bad field: its number, key and period must stay known,
# or the invoice run could reuse its number or bill its period again. The field is dropped
# with a warning instead.
INVOICE_FIELDS = (
    FieldSpec("number", as_text, drop_on_error=True),
    FieldSpec("invoice_key", as_text, drop_on_error=True),
    FieldSpec("contract_ids", as_links, drop_on_error=True),
    FieldSpec("period_start", as_date, drop_on_error=True),
    FieldSpec("period_end", as_date, drop_on_error=True),
    FieldSpec("issue_date", as_date, drop_on_error=True),
    FieldSpec("due_date", as_date, drop_on_error=True),
    FieldSpec("amount", as_money, drop_on_error=True),
    FieldSpec("currency", CURRENCY, drop_on_error=True),
    FieldSpec("status", Select(INVOICE_STATUSES), drop_on_error=True),
    FieldSpec("paid_date", as_date, drop_on_error=True),
    FieldSpec("type", Select(INVOICE_TYPES), drop_on_error=True),
)

QUALIFICATION_FIELDS = (
    FieldSpec("assessment_key", as_text, required=True),
    FieldSpec("opportunity_ids", as_links),
    FieldSpec("assessed_by", as_text),
    FieldSpec("assessed_on", as_date),
    *(FieldSpec(criterion_attr(c), Select(ANSWERS)) for c in CRITERIA),
    *(FieldSpec(f"{criterion_attr(c)}_notes", as_text) for c in CRITERIA),
    FieldSpec("score", as_int, drop_on_error=True),
    FieldSpec("recommendation", Select(RECOMMENDATIONS)),
)

TABLE_FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    "opportunities": OPPORTUNITY_FIELDS,
    "contracts": CONTRACT_FIELDS,
    "invoices": INVOICE_FIELDS,
    "qualifications": QUALIFICATION_FIELDS,
}


def _opportunity(values: dict[str, Any]) -> Opportunity:
    return Opportunity(**values)


def _qualification(values: dict[str, Any]) -> Qualification:
    answers: dict[str, str] = {}
    notes: dict[str, str] = {}
    for criterion in CRITERIA:
        attr = criterion_attr(criterion)
        if (answer := values.pop(attr, None)) is not None:
            answers[criterion] = answer
        if (note := values.pop(f"{attr}_notes", None)) is not None:
            notes[criterion] = note
    return Qualification(answers=answers, notes=notes, **values)


BUILDERS: dict[str, Callable[[dict[str, Any]], Entity]] = {
    "opportunities": _opportunity,
    "contracts": lambda values: Contract(**values),
    "invoices": lambda values: Invoice(**values),
    "qualifications": _qualification,
}


def _created_time(raw: object) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00")).replace(tzinfo=None)
    except ValueError:
        return None


@dataclass(frozen=True)
class CompiledField:
    """A FieldSpec with its AirTable name resolved once per sync, not once per record."""

    spec: FieldSpec
    name: str
    options: tuple[str, ...] | None  # the known options of a single select


def compile_fields(table_key: str, mapping: FieldMapping) -> tuple[CompiledField, ...]:
    """The fields of one table as this base names them, ready for `parse_values`."""
    names = mapping.fields[table_key]
    return tuple(
        CompiledField(
            spec=spec,
            name=names[spec.attr],
            options=spec.parse.options if isinstance(spec.parse, Select) else None,
        )
        for spec in TABLE_FIELDS[table_key]
    )


def parse_values(
    table_key: str, record: Mapping[str, Any], compiled: tuple[CompiledField, ...]
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
    for field in compiled:
        spec = field.spec
        raw = get(field.name)
        if raw is None or raw == "":
            if spec.required:
                rejected = True
                problems.append(
                    Problem(
                        table=table_key,
                        record_id=record_id,
                        field=field.name,
                        problem="required field is empty",
                    )
                )
            elif spec.needed_for:
                problems.append(
                    Problem(
                        table=table_key,
                        record_id=record_id,
                        field=field.name,
                        problem=f"empty: the record cannot be used for {spec.needed_for}",
                        severity="warning",
                    )
                )
            continue
        try:
            if type(raw) is dict and (error := _error_object(raw)):
                raise FieldProblem(error)
            value = spec.parse(raw)
        except FieldProblem as exc:
            if spec.drop_on_error:
                problems.append(
                    Problem(
                        table=table_key,
                        record_id=record_id,
                        field=field.name,
                        problem=f"{exc}; value ignored",
                        raw_value=raw_text(raw),
                        severity="warning",
                    )
                )
                continue
            rejected = True
            problems.append(
                Problem(
                    table=table_key,
                    record_id=record_id,
                    field=field.name,
                    problem=str(exc),
                    raw_value=raw_text(raw),
                )
            )
            continue
        if field.options is not None and value not in field.options:
            problems.append(
                Problem(
                    table=table_key,
                    record_id=record_id,
                    field=field.name,
                    problem=f"unknown option '{value}', kept as it is",
                    raw_value=raw_text(raw),
                    severity="warning",
                )
            )
        values[spec.attr] = value
    if rejected:
        return None, problems
    if table_key == "opportunities":
        owner = values.pop("owner", None)
        if owner is not None:
            values["owner_name"], values["owner_email"] = owner
    return values, problems


def build_entity(
    table_key: str, values: dict[str, Any], mapping: FieldMapping
) -> tuple[Entity | None, list[Problem]]:
    """The pydantic model of parsed values; a constraint the parsers missed rejects it."""
    try:
        return BUILDERS[table_key](dict(values)), []
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
