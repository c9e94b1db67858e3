"""billing.md's rules: the worked examples, the edge cases and properties over any contract."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sales_core import money
from sales_core.billing import (
    BillingError,
    KnownInvoice,
    Month,
    anniversary,
    covered_days,
    covered_periods,
    fee_days_by_month,
    format_number,
    highest_number,
    islands,
    months_with_drafts,
    plan_run,
    prorated_amount,
    reversed_periods,
)
from sales_core.models import Contract


def contract(**fields: Any) -> Contract:
    values: dict[str, Any] = {
        "id": "recA",
        "name": "Hub contract",
        "community": "Community A",
        "status": "Active",
        "monthly_fee": Decimal("1000.00"),
        "currency": "USD",
        "billing_frequency": "Monthly",
    }
    values.update(fields)
    return Contract(**values)


def run(c: Contract, month: str, known: list[KnownInvoice] | None = None) -> Any:
    return plan_run([c], known or [], Month.parse(month))


@pytest.mark.parametrize(
    ("fields", "month", "period", "amount", "proration"),
    [
        (
            {"start_date": date(2026, 11, 16)},
            "2026-11",
            ("2026-11-16", "2026-11-30"),
            "500.00",
            "15 of 30 days",
        ),
        (
            {"start_date": date(2026, 1, 1), "end_date": date(2026, 2, 10)},
            "2026-02",
            ("2026-02-01", "2026-02-10"),
            "357.14",
            "10 of 28 days",
        ),
        (
            {"billing_frequency": "Quarterly", "start_date": date(2026, 5, 20)},
            "2026-05",
            ("2026-05-20", "2026-06-30"),
            "1387.10",
            "12 of 31 days + 1 month",
        ),
        (
            {"billing_frequency": "Quarterly", "start_date": date(2026, 5, 20)},
            "2026-07",
            ("2026-07-01", "2026-09-30"),
            "3000.00",
            "3 months",
        ),
        (
            {"billing_frequency": "Annual", "start_date": date(2026, 9, 15)},
            "2026-09",
            ("2026-09-15", "2027-09-14"),
            "12000.00",
            "16 of 30 days + 11 months + 14 of 30 days",
        ),
        (
            {"monthly_fee": Decimal("99999"), "currency": "JPY", "start_date": date(2026, 4, 11)},
            "2026-04",
            ("2026-04-11", "2026-04-30"),
            "66666",
            "20 of 30 days",
        ),
    ],
)
def test_worked_examples(
    fields: dict[str, Any], month: str, period: tuple[str, str], amount: str, proration: str
) -> None:
    plan = run(contract(**fields), month)
    [draft] = plan.drafts
    assert (draft.period_start.isoformat(), draft.period_end.isoformat()) == period
    assert str(draft.amount) == amount
    assert draft.proration == proration
    assert draft.invoice_key == f"recA/{period[0]}/{period[1]}"


def test_worked_example__quarterly_mid_quarter_month_bills_nothing() -> None:
    plan = run(contract(billing_frequency="Quarterly", start_date=date(2026, 5, 20)), "2026-06")
    assert plan.drafts == () and plan.skipped == ()


def test_dates_and_totals() -> None:
    plan = plan_run(
        [contract(start_date=date(2026, 1, 1), payment_terms=45)], [], Month.parse("2026-12")
    )
    [draft] = plan.drafts
    assert draft.issue_date == date(2026, 12, 1)
    assert draft.due_date == date(2027, 1, 15)
    assert plan.totals == {"USD": Decimal("1000.00")}
    other = plan_run(
        [contract(start_date=date(2026, 1, 1))],
        [],
        Month.parse("2026-12"),
        issue_date=date(2026, 12, 5),
    )
    assert other.drafts[0].due_date == date(2027, 1, 4)


@pytest.mark.parametrize(
    ("fields", "month", "expected"),
    [
        # February, leap and common years
        ({"start_date": date(2028, 2, 15)}, "2028-02", ("2028-02-15", "2028-02-29", "517.24")),
        ({"start_date": date(2027, 2, 15)}, "2027-02", ("2027-02-15", "2027-02-28", "500.00")),
        # a contract ending on the 1st, one starting on the last day of a month
        (
            {"start_date": date(2026, 1, 1), "end_date": date(2026, 3, 1)},
            "2026-03",
            ("2026-03-01", "2026-03-01", "32.26"),
        ),
        ({"start_date": date(2026, 1, 31)}, "2026-01", ("2026-01-31", "2026-01-31", "32.26")),
        # a 31-day month, in full
        ({"start_date": date(2025, 6, 3)}, "2026-07", ("2026-07-01", "2026-07-31", "1000.00")),
        # quarterly ending mid-quarter
        (
            {
                "billing_frequency": "Quarterly",
                "start_date": date(2026, 1, 1),
                "end_date": date(2026, 11, 15),
            },
            "2026-10",
            ("2026-10-01", "2026-11-15", "1500.00"),
        ),
        # annual anchored on 29 February: 1 March in common years
        (
            {"billing_frequency": "Annual", "start_date": date(2024, 2, 29)},
            "2025-03",
            ("2025-03-01", "2026-02-28", "12000.00"),
        ),
        (
            {
                "billing_frequency": "Annual",
                "start_date": date(2024, 2, 29),
                "end_date": date(2026, 8, 31),
            },
            "2026-03",
            ("2026-03-01", "2026-08-31", "6000.00"),
        ),
        # upfront: the whole coverage in the start month
        (
            {
                "billing_frequency": "Upfront",
                "start_date": date(2026, 3, 16),
                "end_date": date(2026, 6, 15),
            },
            "2026-03",
            ("2026-03-16", "2026-06-15", "3016.13"),
        ),
        # an Ended contract is billed for the days it covers
        (
            {"status": "Ended", "start_date": date(2025, 1, 1), "end_date": date(2026, 4, 10)},
            "2026-04",
            ("2026-04-01", "2026-04-10", "333.33"),
        ),
    ],
)
def test_edge_cases(fields: dict[str, Any], month: str, expected: tuple[str, str, str]) -> None:
    [draft] = run(contract(**fields), month).drafts
    assert (
        draft.period_start.isoformat(),
        draft.period_end.isoformat(),
        str(draft.amount),
    ) == expected


@pytest.mark.parametrize(
    ("fields", "month"),
    [
        ({"billing_frequency": "Annual", "start_date": date(2026, 9, 15)}, "2026-10"),
        (
            {
                "billing_frequency": "Upfront",
                "start_date": date(2026, 3, 16),
                "end_date": date(2026, 6, 15),
            },
            "2026-04",
        ),
        ({"start_date": date(2026, 1, 1), "end_date": date(2026, 2, 10)}, "2026-03"),
        ({"start_date": date(2027, 1, 1)}, "2026-12"),
        ({"status": "Draft", "start_date": date(2026, 1, 1)}, "2026-02"),
        ({"status": "Cancelled", "start_date": date(2026, 1, 1)}, "2026-02"),
    ],
)
def test_nothing_to_bill(fields: dict[str, Any], month: str) -> None:
    plan = run(contract(**fields), month)
    assert plan.drafts == () and plan.skipped == ()


def test_half_a_cent_rounds_up() -> None:
    # 1000.01 x 15/30 = 500.005 exactly
    [draft] = run(
        contract(monthly_fee=Decimal("1000.01"), start_date=date(2026, 11, 16)), "2026-11"
    ).drafts
    assert draft.amount == Decimal("500.01")
    assert money.round_exact(Fraction(-1, 200), "USD") == Decimal("-0.01")
    assert money.round_exact(Fraction(1, 3), "USD") == Decimal("0.33")
    assert money.round_exact(Fraction(1, 2), "JPY") == Decimal("1")


@given(
    fee=st.decimals(Decimal("0.01"), Decimal("99999.99"), places=2),
    start=st.dates(date(2023, 1, 1), date(2027, 12, 31)),
    days=st.integers(0, 800),
    currency=st.sampled_from(["USD", "JPY", "KRW"]),
)
def test_proration_is_the_exact_sum_of_each_months_share_rounded_once(
    fee: Decimal, start: date, days: int, currency: str
) -> None:
    # The definition, month by month as a Fraction (whole months take a shortcut in the code).
    end = start + timedelta(days=days)
    exact = sum((Fraction(fee * d) / m.days for m, d in covered_days(start, end)), Fraction(0))
    assert prorated_amount(fee, start, end, currency) == money.round_exact(exact, currency)


def test_jpy_has_no_minor_unit() -> None:
    amount = prorated_amount(Decimal("1000"), date(2026, 1, 1), date(2026, 1, 15), "JPY")
    assert amount == Decimal("484") and amount.as_tuple().exponent == 0


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"start_date": None}, "no Start Date"),
        ({"start_date": date(2026, 1, 1), "monthly_fee": None}, "no Monthly Fee"),
        ({"start_date": date(2026, 1, 1), "monthly_fee": Decimal("0")}, "no Monthly Fee"),
        ({"start_date": date(2026, 5, 1), "end_date": date(2026, 4, 1)}, "is before Start Date"),
        (
            {"start_date": date(2026, 1, 1), "billing_frequency": "Fortnightly"},
            "unknown Billing Frequency",
        ),
        ({"start_date": date(2026, 1, 1), "currency": "BTC"}, "unknown Currency"),
        ({"start_date": date(2026, 1, 1), "status": "Paused"}, "status 'Paused'"),
        ({"start_date": date(2026, 1, 1), "status": None}, "no Status"),
        (
            {"start_date": date(2026, 1, 10), "billing_frequency": "Upfront"},
            "Upfront without an End Date",
        ),
    ],
)
def test_bad_data_is_skipped_with_its_reason(fields: dict[str, Any], reason: str) -> None:
    plan = run(contract(**fields), "2026-01")
    assert plan.drafts == ()
    [skipped] = plan.skipped
    assert reason in skipped.reason and skipped.contract_id == "recA"


def test_never_twice__same_period_names_the_invoice() -> None:
    known = [KnownInvoice("recA", date(2026, 11, 1), date(2026, 11, 30), "Paid", "INV-2026-0007")]
    plan = run(contract(start_date=date(2026, 1, 1)), "2026-11", known)
    assert plan.drafts == ()
    assert "already invoiced: INV-2026-0007" in plan.skipped[0].reason


def test_never_twice__partial_overlap_is_flagged_not_billed() -> None:
    known = [
        KnownInvoice("recA", date(2026, 10, 15), date(2026, 11, 14), "Authorized", "INV-2026-0003")
    ]
    plan = run(contract(start_date=date(2026, 1, 1)), "2026-11", known)
    assert plan.drafts == ()
    assert "overlaps INV-2026-0003" in plan.skipped[0].reason
    assert "a person must check" in plan.skipped[0].reason


def test_never_twice__void_and_other_contracts_do_not_block() -> None:
    known = [
        KnownInvoice("recA", date(2026, 11, 1), date(2026, 11, 30), "Void", "INV-2026-0001"),
        KnownInvoice("recB", date(2026, 11, 1), date(2026, 11, 30), "Paid", "INV-2026-0002"),
        KnownInvoice("recA", None, None, "Paid", "INV-2026-0003"),
    ]
    plan = run(contract(start_date=date(2026, 1, 1)), "2026-11", known)
    assert len(plan.drafts) == 1


def test_order_follows_community_name_and_id() -> None:
    contracts = [
        contract(id="rec3", community="B", name="x", start_date=date(2026, 1, 1)),
        contract(id="rec2", community="A", name="z", start_date=date(2026, 1, 1)),
        contract(id="rec1", community="A", name="z", start_date=date(2026, 1, 1)),
        contract(id="rec0", community="A", name="y", start_date=date(2026, 1, 1)),
    ]
    plan = plan_run(contracts, [], Month.parse("2026-02"))
    assert [d.contract_id for d in plan.drafts] == ["rec0", "rec1", "rec2", "rec3"]


def test_numbers() -> None:
    numbers = [
        "INV-2026-0009",
        "INV-2025-0100",
        "INV-2026-12345",
        None,
        "X-2026-9999",
        "INV-2026-0010",
    ]
    assert highest_number(numbers, 2026) == 12345
    assert highest_number(numbers, 2027) == 0
    assert format_number(2026, 7) == "INV-2026-0007"
    assert format_number(2026, 12346) == "INV-2026-12346"


@pytest.mark.parametrize("text", ["2026-13", "26-11", "2026/11", "", "November", "2026-00"])
def test_month_parse_errors(text: str) -> None:
    with pytest.raises(BillingError, match="YYYY-MM"):
        Month.parse(text)


def test_month_days_and_last_day_across_leap_years() -> None:
    for year in (1900, 2000, 2024, 2026, 2100):
        for number in range(1, 13):
            month = Month(year, number)
            assert month.last.month == number and (month.last + timedelta(days=1)).day == 1
            assert month.days == month.last.day
    assert [Month(y, 2).days for y in (1900, 2000, 2024, 2026)] == [28, 29, 29, 28]


_day = st.dates(min_value=date(2023, 1, 1), max_value=date(2028, 12, 31))
_months_2026 = [Month(2026, m) for m in range(1, 13)]


@given(
    st.sampled_from(["Monthly", "Quarterly", "Annual", "Upfront"]),
    st.dates(min_value=date(2025, 10, 1), max_value=date(2026, 12, 31)),
    st.lists(
        st.tuples(
            st.dates(min_value=date(2025, 12, 1), max_value=date(2027, 1, 31)),
            st.dates(min_value=date(2025, 12, 1), max_value=date(2027, 1, 31)),
            st.sampled_from(["Authorized", "Void"]),
            st.booleans(),
        ),
        max_size=6,
    ),
)
@settings(max_examples=300, deadline=None)
def test_property__the_fast_unbilled_months_are_the_months_the_run_bills(
    frequency: str,
    start: date,
    invoices: list[tuple[date, date, str, bool]],
) -> None:
    # Periods may end before they begin: a synced invoice can say so, and the run compares
    # its dates as they are.
    c = contract(billing_frequency=frequency, start_date=start, end_date=date(2027, 3, 31))
    known = [
        KnownInvoice("recA", a, b, status, waived=waived and status == "Void")
        for a, b, status, waived in invoices
    ]
    slow = [m for m in _months_2026 if plan_run([c], known, m).drafts]
    assert months_with_drafts([c], known, _months_2026) == slow
    spans = {c: islands(p) + reversed_periods(p) for c, p in covered_periods(known).items()}
    assert months_with_drafts([c], spans, _months_2026) == slow


def test_a_period_ending_before_it_begins_still_blocks_what_the_run_refuses() -> None:
    c = contract(start_date=date(2026, 1, 1))
    known = [
        KnownInvoice("recA", date(2026, 3, 1), date(2026, 3, 10), "Authorized"),
        KnownInvoice("recA", date(2026, 3, 20), date(2026, 2, 5), "Authorized"),
    ]
    march = [Month(2026, 3)]
    assert not plan_run([c], known, march[0]).drafts
    assert months_with_drafts([c], known, march) == []
    assert islands([(date(2026, 3, 20), date(2026, 2, 5))]) == []


@given(
    st.lists(
        st.tuples(st.decimals(min_value=0, max_value=10_000, places=2), _day, _day),
        max_size=12,
    ),
    _day,
    st.integers(min_value=0, max_value=30),
)
@settings(max_examples=200, deadline=None)
def test_property__fee_days_by_month_is_the_sum_of_covered_days(
    periods: list[tuple[Decimal, date, date]], begin: date, months: int
) -> None:
    first = Month.of(begin)
    last = first
    for _ in range(months):
        last = last.next()
    fees = [(fee, min(a, b), max(a, b)) for fee, a, b in periods]
    slow: dict[Month, Decimal] = {}
    touched: dict[Month, int] = {}
    for fee, start, end in fees:
        start, end = max(start, first.first), min(end, last.last)
        if start > end:
            continue
        for month, days in covered_days(start, end):
            slow[month] = slow.get(month, Decimal(0)) + fee * days
            touched[month] = touched.get(month, 0) + 1
    assert fee_days_by_month(fees, first, last) == (slow, touched)


def test_anniversary() -> None:
    assert anniversary(date(2024, 2, 29), 1) == date(2025, 3, 1)
    assert anniversary(date(2024, 2, 29), 4) == date(2028, 2, 29)


# Properties over any contract ------------------------------------------------------------------

contracts = st.builds(
    lambda start, length, fee, currency, terms: contract(
        start_date=start,
        end_date=None if length is None else start + timedelta(days=length),
        monthly_fee=fee,
        currency=currency,
        payment_terms=terms,
    ),
    start=st.dates(date(2024, 1, 1), date(2026, 12, 31)),
    length=st.none() | st.integers(0, 800),
    fee=st.decimals(Decimal("0.01"), Decimal("100000"), places=2),
    currency=st.sampled_from(["USD", "EUR", "JPY"]),
    terms=st.integers(0, 90),
)


def months(first: Month, count: int) -> list[Month]:
    out = [first]
    while len(out) < count:
        out.append(out[-1].next())
    return out


@settings(max_examples=150, deadline=None)
@given(c=contracts, year=st.integers(2024, 2027))
def test_property__monthly_runs_over_a_year_bill_what_quarterly_runs_would(
    c: Contract, year: int
) -> None:
    minor = Decimal(1) if c.currency == "JPY" else Decimal("0.01")
    monthly_c = c.model_copy(update={"billing_frequency": "Monthly"})
    quarterly_c = c.model_copy(update={"billing_frequency": "Quarterly"})
    year_months = months(Month(year, 1), 12)
    monthly = [d for m in year_months for d in plan_run([monthly_c], [], m).drafts]
    quarterly = [d for m in year_months for d in plan_run([quarterly_c], [], m).drafts]
    difference = abs(sum(d.amount for d in monthly) - sum(d.amount for d in quarterly))
    assert difference <= minor * (len(monthly) + len(quarterly)) / 2 + minor


@settings(max_examples=150, deadline=None)
@given(
    c=contracts,
    frequency=st.sampled_from(["Monthly", "Quarterly", "Annual", "Upfront"]),
    run_months=st.lists(st.sampled_from(months(Month(2024, 1), 40)), max_size=30),
    voids=st.sets(st.integers(0, 30)),
)
def test_property__any_sequence_of_runs_never_overlaps(
    c: Contract, frequency: str, run_months: list[Month], voids: set[int]
) -> None:
    c = c.model_copy(update={"billing_frequency": frequency})
    known: list[KnownInvoice] = []
    for i, month in enumerate(run_months):
        for draft in plan_run([c], known, month).drafts:
            status = "Void" if i in voids else "Draft"
            known.append(KnownInvoice(c.id, draft.period_start, draft.period_end, status))
    live = sorted((k.period_start, k.period_end) for k in known if k.status != "Void")
    for (_, end), (start, _) in itertools.pairwise(live):
        assert end is not None and start is not None and end < start


@pytest.mark.parametrize("terms", [1_000_000_000, -30, 366])
def test_payment_terms_outside_the_sensible_range_skip_only_that_contract(terms: int) -> None:
    absurd = contract(id="recBAD", start_date=date(2026, 1, 1), payment_terms=terms)
    fine = contract(id="recOK", start_date=date(2026, 1, 1))
    plan = plan_run([absurd, fine], [], Month.parse("2026-11"))
    assert [d.contract_id for d in plan.drafts] == ["recOK"]
    [skipped] = plan.skipped
    assert skipped.contract_id == "recBAD"
    assert skipped.reason == (
        f"Payment Terms of {terms} days is outside 0–365: correct it in AirTable"
    )
