"""The invoice run's plan: contracts + known invoices + month -> invoice drafts (pure, Decimal).

The rules are those of specs/billing.md. Nothing here touches a database or a clock: the same
inputs always give the same plan, so the worked examples are plain tests.
"""

from __future__ import annotations

import calendar
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import NamedTuple, Protocol

from sales_core import money, schema
from sales_core.errors import BillingError
from sales_core.invoice import Invoice, InvoiceLine
from sales_core.models import Charge, Contract
from sales_core.vocabulary import (
    BILLED_CONTRACT_STATUSES,
    BillingFrequency,
    ContractStatus,
    InvoiceStatus,
    LineKind,
)

NOT_BILLED_STATUSES = (ContractStatus.DRAFT, ContractStatus.CANCELLED)
# A due date is the issue date plus these many days at the most (the declared sensible range).
TERMS_RANGE = tuple(int(n) for n in schema.sensible(Contract, "payment_terms"))

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_NUMBER = re.compile(r"^INV-(\d{4})-(\d+)$")


# Days of each month in a common year (index 0 unused).
_MONTH_DAYS = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month, written YYYY-MM."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """'2026-11' -> Month(2026, 11); anything else is a BillingError in words."""
        found = _MONTH.match(text.strip())
        if not found or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < 1900:
            raise BillingError(f"'{text}' is not a month: write it as YYYY-MM, e.g. 2026-11.")
        return cls(int(found.group(1)), int(found.group(2)))

    @classmethod
    def of(cls, day: date) -> Month:
        """The month a date falls in."""
        return cls(day.year, day.month)

    @property
    def first(self) -> date:
        """Its first day."""
        return date(self.year, self.month, 1)

    @property
    def last(self) -> date:
        """Its last day."""
        return date(self.year, self.month, self.days)

    @property
    def days(self) -> int:
        """How many days it has (without `calendar.monthrange`, which also works out a weekday:
        a run of 1,000 invoices asks this some 20,000 times)."""
        if self.month == 2 and calendar.isleap(self.year):
            return 29
        return _MONTH_DAYS[self.month]

    def next(self) -> Month:
        """The month after."""
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True)
class KnownInvoice:
    """An invoice that already exists (synced from AirTable or generated here)."""

    contract_id: str
    period_start: date | None
    period_end: date | None
    status: str | None
    number: str | None = None
    invoice_key: str | None = None
    waived: bool = False  # voided and waived: its period stays covered

    @property
    def covers_its_period(self) -> bool:
        """True unless it was voided to be billed again: a waived void still covers it."""
        return self.status != InvoiceStatus.VOID or self.waived

    @property
    def bills_a_period(self) -> bool:
        """False for an invoice of charges alone: its period is the charges' span, and it never
        stops a fee period from being billed."""
        return CHARGES_KEY_PART not in (self.invoice_key or "")


# The key of an invoice of charges alone: {contract}/charges/{YYYY-MM}.
CHARGES_KEY_PART = "/charges/"


@dataclass(frozen=True)
class Skipped:
    """A contract the run does not bill this month, and why."""

    contract_id: str
    contract_name: str
    reason: str


@dataclass(frozen=True)
class Plan:
    """What run M would do: the drafts (numbered or not yet) and the skipped contracts."""

    month: Month
    issue_date: date
    drafts: tuple[Invoice, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    totals: dict[str, Decimal] = field(default_factory=dict)


def anniversary(start: date, years: int) -> date:
    """The start's month and day `years` later; 29 February is 1 March in other years."""
    year = start.year + years
    if start.month == 2 and start.day == 29 and not calendar.isleap(year):
        return date(year, 3, 1)
    return date(year, start.month, start.day)


def _quarter_of(month: Month) -> tuple[date, date]:
    first_month = 3 * ((month.month - 1) // 3) + 1
    first = date(month.year, first_month, 1)
    last = Month(month.year, first_month + 2).last
    return first, last


class Schedule(Protocol):
    """What deciding whether and when a contract bills reads of it (`months_with_drafts`):
    a `Contract`, or a `ScheduleRow` read with these fields alone."""

    @property
    def id(self) -> str: ...
    @property
    def status(self) -> str | None: ...
    @property
    def start_date(self) -> date | None: ...
    @property
    def end_date(self) -> date | None: ...
    @property
    def billing_frequency(self) -> str: ...
    @property
    def monthly_fee(self) -> Decimal | None: ...
    @property
    def currency(self) -> str: ...
    @property
    def payment_terms(self) -> int: ...


class ScheduleRow(NamedTuple):
    """A contract's schedule fields as the store holds them (see `Schedule`): thousands are
    read at once, and a tuple is made in a fraction of a model's time."""

    id: str
    status: str | None
    start_date: date | None
    end_date: date | None
    billing_frequency: str
    monthly_fee: Decimal | None
    currency: str
    payment_terms: int


def service_period(contract: Schedule, month: Month) -> tuple[date, date] | None:
    """The period run `month` bills for this contract, or None when no block begins in it.

    The contract must have a Start Date and a known frequency (checked by the caller).
    """
    assert contract.start_date is not None
    return block_period(contract.billing_frequency, contract.start_date, contract.end_date, month)


def block_period(
    frequency: str, start: date, end_date: date | None, month: Month
) -> tuple[date, date] | None:
    """The covered part of the frequency's block that begins in `month`, or None.

    Coverage is `start` to `end_date` (None: open-ended). An Upfront block without an end is
    the whole future, which billing.md does not bill: the caller skips it with a reason.
    """
    end = end_date or date.max
    block: tuple[date, date] | None = None
    if frequency == BillingFrequency.UPFRONT:
        block = (start, end)
    elif frequency == BillingFrequency.ANNUAL:
        for years in (month.year - start.year - 1, month.year - start.year):
            if years < 0:
                continue
            begins = anniversary(start, years)
            if Month.of(begins) == month:
                block = (begins, anniversary(start, years + 1) - timedelta(days=1))
    elif frequency == BillingFrequency.QUARTERLY:
        block = _quarter_of(month)
    else:  # Monthly
        block = (month.first, month.last)
    if block is None:
        return None
    period_start = max(block[0], start)
    period_end = min(block[1], end)
    if period_start > period_end or Month.of(period_start) != month:
        return None
    return period_start, period_end


def covered_days(start: date, end: date) -> Iterable[tuple[Month, int]]:
    """(month, days of [start, end] inside it) for each calendar month the period touches."""
    month = Month.of(start)
    while month.first <= end:
        first = max(month.first, start)
        last = min(month.last, end)
        yield month, (last - first).days + 1
        month = month.next()


def _index(month: Month) -> int:
    return month.year * 12 + month.month - 1


def fee_days_by_month(
    fees: Iterable[tuple[Decimal, date, date]], first: Month, last: Month
) -> tuple[dict[Month, Decimal], dict[Month, int]]:
    """For each month from `first` to `last`: the sum of fee × the days of [start, end] in it
    (exactly what summing `covered_days` over every (fee, start, end) gives), and how many of
    the periods touch it. Periods are clipped to those months; one that ends before it begins
    covers no day.

    A period adds fee × days to its first and last month and fee per day of every month
    between: the months between are counted with a running sum, so that 3,000 contracts over
    three years cost 3,000 steps, not 100,000.
    """
    base, size = _index(first), _index(last) - _index(first) + 1
    months = [first]
    while len(months) < size:
        months.append(months[-1].next())
    edge = [Decimal(0)] * size  # fee × days in a period's first and last month
    rate = [Decimal(0)] * (size + 1)  # changes in the sum of fees of months wholly covered
    touch = [0] * (size + 1)  # changes in the number of periods touching the month
    for fee, start, end in fees:
        start, end = max(start, first.first), min(end, last.last)
        if start > end:
            continue
        at, to = _index(Month.of(start)) - base, _index(Month.of(end)) - base
        touch[at] += 1
        touch[to + 1] -= 1
        if at == to:
            edge[at] += fee * ((end - start).days + 1)
            continue
        edge[at] += fee * ((months[at].last - start).days + 1)
        edge[to] += fee * end.day
        rate[at + 1] += fee
        rate[to] -= fee
    fee_days: dict[Month, Decimal] = {}
    counted: dict[Month, int] = {}
    fees_now, touching = Decimal(0), 0
    for at, month in enumerate(months):
        fees_now += rate[at]
        touching += touch[at]
        if touching:
            fee_days[month] = edge[at] + fees_now * month.days
            counted[month] = touching
    return fee_days, counted


def month_share(fee_days: Decimal, month: Month) -> Fraction:
    """The proration rule, exactly: a fee × the days it covers in `month` ÷ the month's days.

    `fee_days` may be a sum over contracts (MRR) or one contract's fee × days (an invoice).
    """
    return Fraction(fee_days) / month.days


def prorated_amount(fee: Decimal, start: date, end: date, currency: str) -> Decimal:
    """Sum over the months m that [start, end] touches of fee x days in m / days of m, rounded once.

    Exact: the sum is a Fraction; it is rounded to the currency's minor unit with ROUND_HALF_UP.
    A whole month adds the fee itself (fee × days ÷ the same days), without a Fraction.
    """
    exact = Fraction(0)
    whole = 0
    for month, days in covered_days(start, end):
        if days == month.days:
            whole += 1
        else:
            exact += month_share(fee * days, month)
    if not exact:  # whole months only: a Decimal product, rounded the same way
        return money.quantize(fee * whole, currency)
    return money.round_exact(exact + Fraction(fee * whole), currency)


def proration_text(start: date, end: date) -> str:
    """'15 of 30 days' for a part month, 'full month' for one, '12 of 31 days + 1 month' beyond."""
    parts: list[str] = []
    full = 0
    for month, days in covered_days(start, end):
        if days == month.days:
            full += 1
        else:
            if full:
                parts.append(f"{full} month{'s' if full > 1 else ''}")
                full = 0
            parts.append(f"{days} of {month.days} days")
    if full:
        parts.append(
            "full month" if not parts and full == 1 else f"{full} month{'s' if full > 1 else ''}"
        )
    return " + ".join(parts)


def _skip(contract: Contract, reason: str) -> Skipped:
    return Skipped(contract_id=contract.id, contract_name=contract.name, reason=reason)


_FREQUENCIES = frozenset(BillingFrequency)


def _blocking_invoice(
    contract_id: str, start: date, end: date, known: Sequence[KnownInvoice]
) -> str | None:
    """Why an existing invoice forbids billing [start, end] again, or None."""
    for invoice in known:
        if invoice.contract_id != contract_id or not invoice.covers_its_period:
            continue
        if not invoice.bills_a_period:
            continue
        if invoice.period_start is None or invoice.period_end is None:
            continue
        if invoice.period_start <= end and start <= invoice.period_end:
            name = invoice.number or invoice.invoice_key or "an invoice"
            same = invoice.period_start == start and invoice.period_end == end
            period = f"{invoice.period_start} – {invoice.period_end}"
            if invoice.waived:
                return f"waived: {name} ({period}) was voided and the period waived"
            if same:
                return f"already invoiced: {name} ({period})"
            return (
                f"overlaps {name} ({period}): a person must check it; "
                f"the run never bills a remainder by itself"
            )
    return None


def _billable_at_all(contract: Schedule) -> bool:
    """True when the month-independent checks of `plan_run` let the contract be billed."""
    low, high = TERMS_RANGE
    return (
        contract.status in BILLED_CONTRACT_STATUSES
        and contract.start_date is not None
        and not (contract.end_date is not None and contract.end_date < contract.start_date)
        and contract.billing_frequency in _FREQUENCIES
        and contract.currency in money.MINOR_UNITS
        and low <= contract.payment_terms <= high
        and contract.monthly_fee is not None
        and contract.monthly_fee > 0
        and not (
            contract.billing_frequency == BillingFrequency.UPFRONT and contract.end_date is None
        )
    )


Covered = dict[str, list[tuple[date, date]]]


def covered_periods(known: Iterable[KnownInvoice]) -> Covered:
    """Contract id -> the fee periods its invoices cover (not a void billed again, not an
    invoice of charges alone): what stops a run from billing a period."""
    covered: Covered = {}
    for invoice in known:
        if not invoice.covers_its_period or not invoice.bills_a_period:
            continue
        if invoice.period_start is None or invoice.period_end is None:
            continue
        covered.setdefault(invoice.contract_id, []).append(
            (invoice.period_start, invoice.period_end)
        )
    return covered


def islands(periods: Iterable[tuple[date, date]]) -> list[tuple[date, date]]:
    """The same days as `periods`, as disjoint spans in order: overlapping periods and periods
    that follow each other day after day become one span. A period overlaps one of `periods`
    exactly when it overlaps one of the spans (days are whole).

    A period that ends before it begins (a synced invoice may say so) holds no day, and is not
    in the spans: `reversed_periods` keeps it for the run's own test."""
    spans: list[tuple[date, date]] = []
    for start, end in sorted(p for p in periods if p[0] <= p[1]):
        if spans and (start - spans[-1][1]).days <= 1:
            if end > spans[-1][1]:
                spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


def reversed_periods(periods: Iterable[tuple[date, date]]) -> list[tuple[date, date]]:
    """The periods that end before they begin. The run compares such an invoice's dates as
    they are (`_blocking_invoice`): it refuses a period that begins on or before the invoice's
    end and ends on or after its start, so these are checked one by one, not as spans."""
    return [p for p in periods if p[0] > p[1]]


def _overlaps(
    spans: Sequence[tuple[date, date]], starts: Sequence[date], period: tuple[date, date]
) -> bool:
    """Whether `period` shares a day with one of the disjoint, ordered `spans` (`starts` are
    their first days): only the last span beginning on or before the period's end can."""
    at = bisect_right(starts, period[1])
    return at > 0 and spans[at - 1][1] >= period[0]


def months_with_drafts(
    contracts: Iterable[Schedule], known: Iterable[KnownInvoice] | Covered, months: Sequence[Month]
) -> list[Month]:
    """The months among `months` whose run would make at least one draft: exactly those for
    which `plan_run(...).drafts` is not empty, without building any draft.

    `known` is the known invoices, or their covered periods by contract (`covered_periods`, or
    read straight from the store as spans: `islands` and `reversed_periods`). A month that
    lies wholly inside one covered span cannot bill the contract (its period begins in that
    month, so it overlaps the span), and only the months the contract covers can bill it: for
    a contract billed month after month, no period is worked out at all.
    """
    covered = known if isinstance(known, dict) else covered_periods(known)
    ordered = sorted(set(months))
    firsts = [m.first for m in ordered]
    lasts = [m.last for m in ordered]
    found = [False] * len(ordered)  # by position in `ordered`
    left = len(ordered)
    for contract in contracts:
        if not left:
            break
        if not _billable_at_all(contract):
            continue
        assert contract.start_date is not None
        begin = bisect_left(ordered, Month.of(contract.start_date))
        stop = (
            len(ordered)
            if contract.end_date is None
            else bisect_right(ordered, Month.of(contract.end_date))
        )
        periods = covered.get(contract.id, ())
        spans = islands(periods)
        starts = [s for s, _ in spans]
        odd = reversed_periods(periods)
        for at in range(begin, stop):
            if found[at]:
                continue
            inside = bisect_right(starts, firsts[at])
            if inside and spans[inside - 1][1] >= lasts[at]:
                continue  # the whole month is covered
            period = service_period(contract, ordered[at])
            if period is None or _overlaps(spans, starts, period):
                continue
            if not any(s <= period[1] and period[0] <= e for s, e in odd):
                found[at] = True
                left -= 1
    return [month for month, billed in zip(ordered, found, strict=True) if billed]


def _refusal(contract: Contract) -> str | None:
    """Why the contract cannot be billed at all (the same in every month), or None."""
    if contract.status in NOT_BILLED_STATUSES:
        return f"the contract is {contract.status}: only Active and Ended contracts are billed"
    if contract.status not in BILLED_CONTRACT_STATUSES:
        status = f"status '{contract.status}'" if contract.status else "no Status"
        return f"{status}: only Active and Ended contracts are billed"
    if contract.start_date is None:
        return "no Start Date: cannot tell what to bill"
    if contract.end_date is not None and contract.end_date < contract.start_date:
        return f"End Date {contract.end_date} is before Start Date {contract.start_date}"
    if contract.billing_frequency not in _FREQUENCIES:
        return f"unknown Billing Frequency '{contract.billing_frequency}'"
    if contract.currency not in money.MINOR_UNITS:
        return f"unknown Currency '{contract.currency}'"
    low, high = TERMS_RANGE
    if not low <= contract.payment_terms <= high:
        return (
            f"Payment Terms of {contract.payment_terms} days is outside {low}–{high}: "
            f"correct it in AirTable"
        )
    if contract.monthly_fee is None or contract.monthly_fee <= 0:
        return "no Monthly Fee above zero: the run never guesses"
    if contract.billing_frequency == BillingFrequency.UPFRONT and contract.end_date is None:
        return "Upfront without an End Date: the whole period is unknown"
    return None


def _refusal_is_news(contract: Contract, month: Month) -> bool:
    """Whether run `month` lists a refused contract that has no charges waiting: never a Draft
    or Cancelled one, and an Upfront one without an End Date only in its start month."""
    if contract.status in NOT_BILLED_STATUSES:
        return False
    if (
        contract.billing_frequency == BillingFrequency.UPFRONT
        and contract.end_date is None
        and contract.start_date is not None
        and contract.monthly_fee is not None
        and contract.monthly_fee > 0
    ):
        return Month.of(contract.start_date) == month
    return True


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


def charge_line(charge: Charge) -> InvoiceLine:
    """The line that bills one charge: its own amount, service period and record id."""
    start, end = charge.service_start, charge.service_end or charge.service_start
    detail = ""
    if charge.quantity is not None and charge.unit_price is not None:
        detail = f"{money.plain_number(charge.quantity)} × {money.plain_number(charge.unit_price)}"
    return InvoiceLine(
        kind=LineKind.CHARGE,
        description=charge.description,
        amount=charge.amount,
        period_start=start,
        period_end=end,
        days=(end - start).days + 1 if start is not None and end is not None else None,
        detail=detail,
        charge_id=charge.id,
        charge_kind=charge.kind,
        quantity=charge.quantity,
        unit_price=charge.unit_price,
    )


def _charge_problem(charge: Charge, contract: Contract) -> str | None:
    """Why this charge cannot go on the contract's invoice, or None."""
    name = f"charge '{charge.description}' ({charge.id})"
    if charge.currency != contract.currency:
        return (
            f"{name} is in {charge.currency} and the contract bills in {contract.currency}: "
            f"nothing is converted; correct the charge in AirTable"
        )
    if (
        charge.service_start is not None
        and charge.service_end is not None
        and charge.service_end < charge.service_start
    ):
        return f"{name} ends ({charge.service_end}) before it starts ({charge.service_start})"
    return None


def _charges_span(charges: Sequence[Charge]) -> tuple[date, date]:
    """An invoice of charges alone covers the span of the charges' service periods (a charge
    without one counts as its Bill In month)."""
    starts: list[date] = []
    ends: list[date] = []
    for charge in charges:
        assert charge.bill_in is not None
        bill_month = Month.of(charge.bill_in)
        start = charge.service_start or bill_month.first
        starts.append(start)
        ends.append(charge.service_end or charge.service_start or bill_month.last)
    return min(starts), max(ends)


def plan_run(
    contracts: Iterable[Contract],
    known: Iterable[KnownInvoice],
    month: Month,
    issue_date: date | None = None,
    charges: Iterable[Charge] = (),
) -> Plan:
    """The drafts and skipped contracts of run `month` (numbers are assigned by the caller).

    `charges` are the charges no invoice bills yet (billed once: the caller leaves out those
    on an invoice); those whose Bill In month is after `month` wait for a later run.
    """
    issued = issue_date or month.first
    known_by_contract: dict[str, list[KnownInvoice]] = {}
    for invoice in known:
        known_by_contract.setdefault(invoice.contract_id, []).append(invoice)
    pending: dict[str, list[Charge]] = {}
    for charge in charges:
        if charge.contract_id is None or charge.bill_in is None or charge.bill_in > month.last:
            continue
        pending.setdefault(charge.contract_id, []).append(charge)
    drafts: list[Invoice] = []
    skipped: list[Skipped] = []
    for contract in contracts:
        waiting = sorted(
            pending.get(contract.id, []),
            key=lambda c: (c.service_start or date.min, c.description, c.id),
        )
        refusal = _refusal(contract)
        if refusal is not None:
            if waiting:
                skipped.append(
                    _skip(contract, f"{refusal} ({_plural(len(waiting), 'charge')} wait with it)")
                )
            elif _refusal_is_news(contract, month):
                skipped.append(_skip(contract, refusal))
            continue
        billable: list[Charge] = []
        for charge in waiting:
            problem = _charge_problem(charge, contract)
            if problem:
                skipped.append(_skip(contract, problem))
            else:
                billable.append(charge)
        lines: list[InvoiceLine] = []
        note = ""
        period = service_period(contract, month)
        if period is not None:
            start, end = period
            earlier = known_by_contract.get(contract.id, [])
            blocker = _blocking_invoice(contract.id, start, end, earlier)
            if blocker:
                skipped.append(_skip(contract, blocker))
            else:
                lines.append(_fee_line(contract, start, end))
                voided = [
                    k.number or k.invoice_key or "an invoice"
                    for k in earlier
                    if not k.covers_its_period
                    and k.bills_a_period
                    and k.period_start is not None
                    and k.period_end is not None
                    and k.period_start <= end
                    and start <= k.period_end
                ]
                note = f"bills again the period of voided {', '.join(voided)}" if voided else ""
        if not lines and not billable:
            continue
        lines.extend(charge_line(c) for c in billable)
        fee = lines[0]
        if fee.kind == LineKind.FEE and fee.period_start and fee.period_end:
            start, end = fee.period_start, fee.period_end
            key = f"{contract.id}/{start.isoformat()}/{end.isoformat()}"
        else:
            start, end = _charges_span(billable)
            key = f"{contract.id}{CHARGES_KEY_PART}{month}"
        total = sum((line.amount for line in lines), Decimal("0"))
        if total < 0:
            skipped.append(
                _skip(
                    contract,
                    f"its lines add up to {money.plain(total, contract.currency)} "
                    f"{contract.currency}, below zero: an invoice is never negative; the "
                    f"{_plural(len(billable), 'charge')} wait for a later run (or a credit note)",
                )
            )
            continue
        drafts.append(
            Invoice(
                invoice_key=key,
                contract_id=contract.id,
                contract_name=contract.name,
                community=contract.community or contract.name,
                billing_email=contract.billing_email,
                period_start=start,
                period_end=end,
                currency=contract.currency,
                issue_date=issued,
                due_date=issued + timedelta(days=contract.payment_terms),
                lines=tuple(lines),
                note=note,
                billing_contact=contract.billing_contact,
                billing_address=contract.billing_address,
                po_number=contract.po_number,
                customer_tax_id=contract.customer_tax_id,
            )
        )
    drafts.sort(key=lambda d: (d.community, d.contract_name, d.contract_id))
    skipped.sort(key=lambda s: (s.contract_name, s.contract_id))
    totals: dict[str, Decimal] = {}
    for draft in drafts:
        totals[draft.currency] = totals.get(draft.currency, Decimal("0")) + draft.amount
    return Plan(
        month=month,
        issue_date=issued,
        drafts=tuple(drafts),
        skipped=tuple(skipped),
        totals=dict(sorted(totals.items())),
    )


def _fee_line(contract: Contract, start: date, end: date) -> InvoiceLine:
    """The contract's fee for [start, end], prorated by days (billing.md, "The amount")."""
    assert contract.monthly_fee is not None
    proration = proration_text(start, end)
    label = contract.service_type or "Service"
    return InvoiceLine(
        kind=LineKind.FEE,
        description=f"{label} ({contract.name}), {start} – {end}: {proration}",
        amount=prorated_amount(contract.monthly_fee, start, end, contract.currency),
        period_start=start,
        period_end=end,
        days=(end - start).days + 1,
        detail=proration,
    )


# Invoices are numbered INV-YYYY-NNNN, credit notes CN-YYYY-NNNN: two gapless sequences.
INVOICE_PREFIX = "INV"
CREDIT_NOTE_PREFIX = "CN"


def highest_number(numbers: Iterable[str | None], year: int, prefix: str = INVOICE_PREFIX) -> int:
    """The highest NNNN among {prefix}-{year}-NNNN numbers (0 when there is none)."""
    pattern = _NUMBER if prefix == INVOICE_PREFIX else re.compile(rf"^{prefix}-(\d{{4}})-(\d+)$")
    highest = 0
    for number in numbers:
        found = pattern.match(number or "")
        if found and int(found.group(1)) == year:
            highest = max(highest, int(found.group(2)))
    return highest


def format_number(year: int, sequence: int, prefix: str = INVOICE_PREFIX) -> str:
    """INV-2026-0001 (or CN-2026-0001): four digits at least."""
    return f"{prefix}-{year:04d}-{sequence:04d}"
