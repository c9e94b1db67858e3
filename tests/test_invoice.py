"""The invoice type: its total is its lines, and its states move only as the table allows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from sales_core.errors import BillingError, SalesError
from sales_core.invoice import (
    TRANSITIONS,
    Invoice,
    InvoiceLine,
    allowed_targets,
    check_transition,
    reachable,
)
from sales_core.vocabulary import InvoiceStatus, LineKind


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        ("Draft", "Authorized", True),
        ("Authorized", "Paid", True),
        ("Draft", "Void", True),
        ("Authorized", "Void", True),
        ("Draft", "Paid", False),
        ("Paid", "Void", False),
        ("Void", "Draft", False),
        ("Authorized", "Draft", False),
        ("Paid", "Authorized", False),
    ],
)
def test_transitions(current: str, target: str, allowed: bool) -> None:
    if allowed:
        check_transition(current, target)
    else:
        with pytest.raises(BillingError):
            check_transition(current, target)


def test_every_state_has_a_row_in_the_table() -> None:
    assert set(TRANSITIONS) == set(InvoiceStatus)
    assert allowed_targets("Unheard of") == ()
    with pytest.raises(SalesError, match="Unknown invoice status"):
        check_transition("Unheard of", "Paid")


@pytest.mark.parametrize(
    ("current", "target", "expected"),
    [
        ("Draft", "Paid", True),  # two steps at once, as AirTable may show it
        ("Draft", "Authorized", True),
        ("Authorized", "Void", True),
        ("Paid", "Authorized", False),
        ("Void", "Draft", False),
        ("Authorized", "Draft", False),
        ("Paid", "Paid", False),
    ],
)
def test_reachable(current: str, target: str, expected: bool) -> None:
    assert reachable(current, target) is expected


def test_the_total_is_the_sum_of_the_lines_and_the_fee_line_describes_it() -> None:
    fee = InvoiceLine(
        LineKind.FEE,
        "Hub service, November",
        Decimal("1000.00"),
        date(2026, 11, 1),
        date(2026, 11, 30),
        30,
        "full month",
    )
    cloud = InvoiceLine(
        LineKind.CHARGE, "Cloud costs, October", Decimal("234.56"), charge_id="recC1"
    )
    invoice = Invoice(
        invoice_key="recA/2026-11-01/2026-11-30",
        contract_id="recA",
        contract_name="Hub",
        community="Community",
        billing_email=None,
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30),
        currency="USD",
        issue_date=date(2026, 11, 1),
        due_date=date(2026, 12, 1),
        lines=(cloud, fee),
    )
    assert invoice.amount == Decimal("1234.56")
    assert (invoice.description, invoice.proration) == ("Hub service, November", "full month")
    assert (invoice.days, invoice.payment_terms_days) == (30, 30)
    assert isinstance(BillingError("x"), SalesError)
