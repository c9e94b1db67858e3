"""Payments on every receivable: partial payments, Paid at zero, no overpayment, and AirTable
hears of them (by key for invoices made here, by record id for synced ones)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from sales_core import ledger, payments, reconcile, writeback
from sales_core.access import AccessDenied, Actor
from sales_core.config import Settings
from sales_core.errors import BillingError
from sales_core.invoicing import generate
from sales_core.ledger import Change, change_status
from sales_core.payments import Payment
from sales_core.sync import run_sync
from tests.conftest import NOVEMBER, use_in_environment
from tests.fake_airtable import FakeAirtable
from tests.test_reconcile import edit_in_airtable, here, in_airtable

BILLER = Actor("a@example.org", "biller")
TODAY = date(2026, 11, 25)


def pay(settings: Settings, number: str, amount: str, on: date = TODAY, ref: str = "") -> Any:
    return payments.record(
        settings, Payment(number, Decimal(amount), on, ref or None), actor=BILLER, today=TODAY
    )


def authorized_made_here(settings: Settings) -> Any:
    made = generate(settings, NOVEMBER, actor=BILLER).created[0]
    change_status(settings, Change(str(made.number), "Authorized"), actor=BILLER, today=TODAY)
    return made


def synced_receivable(server: FakeAirtable) -> dict[str, Any]:
    """An Authorized receivable the fiscal sponsor entered in AirTable, unpaid."""
    for record in server.records("Invoices"):
        fields = record["fields"]
        if (
            fields.get("Status") == "Authorized"
            and fields.get("Type", "ACCREC") == "ACCREC"
            and fields.get("Currency", "USD") == "USD"
            and not fields.get("Amount Paid")
        ):
            return record
    raise AssertionError("the demo has an Authorized synced receivable")


def test_partial_payments_add_up_to_paid_and_an_overpayment_is_refused(
    airtable: tuple[FakeAirtable, Settings],
) -> None:
    server, settings = airtable
    made = authorized_made_here(settings)
    number, amount = str(made.number), made.amount
    first = pay(settings, number, "1000", date(2026, 11, 10), "wire 42")
    assert (first.status, first.balance) == ("Authorized", amount - 1000)
    with pytest.raises(BillingError, match="overpayment is refused"):
        pay(settings, number, str(amount))
    assert payments.payments(settings, number)["amount"].tolist() == [Decimal(1000)]
    writeback.push_pending(settings, actor=BILLER)
    fields = in_airtable(server, made.invoice_key)
    assert (fields["Amount Paid"], fields["Status"]) == (1000, "Authorized")
    assert "Paid Date" not in fields  # not paid yet

    last = pay(settings, number, str(amount - 1000), date(2026, 11, 20))
    assert (last.status, last.balance, last.amount_paid) == ("Paid", 0, amount)
    row = here(settings, number)
    assert (row["status"], row["paid_date"].date()) == ("Paid", date(2026, 11, 20))
    writeback.push_pending(settings, actor=BILLER)
    fields = in_airtable(server, made.invoice_key)
    assert (fields["Amount Paid"], fields["Status"], fields["Paid Date"]) == (
        float(amount),
        "Paid",
        "2026-11-20",
    )
    run_sync(settings)
    assert reconcile.conflicts(settings).empty
    with pytest.raises(BillingError, match="is Paid: payments are recorded on Authorized"):
        pay(settings, number, "1")


@pytest.mark.parametrize(
    ("amount", "why"),
    [
        ("0", "more than zero"),
        ("-5", "more than zero"),
        ("1.234", "at most 2 decimals"),
        ("abc", "is not a number"),
        ("1e20", "too large"),
        ("NaN", "more than zero"),
    ],
)
def test_a_bad_amount_is_refused_in_words(amount: str, why: str) -> None:
    with pytest.raises(BillingError, match=why):
        payments.parse_amount(amount, "USD")


def test_amounts_follow_the_currency() -> None:
    assert payments.parse_amount("1,200.5", "USD") == Decimal("1200.50")
    with pytest.raises(BillingError, match="no decimals"):
        payments.parse_amount("12.5", "JPY")


def test_dates_drafts_and_strangers_are_refused(demo: Settings) -> None:
    made = generate(demo, NOVEMBER, actor=BILLER).created[0]
    number = str(made.number)
    with pytest.raises(BillingError, match="is Draft"):
        pay(demo, number, "1")
    change_status(demo, Change(number, "Authorized"), actor=BILLER, today=TODAY)
    with pytest.raises(BillingError, match="in the future"):
        pay(demo, number, "1", date(2026, 12, 1))
    with pytest.raises(BillingError, match="before the issue date"):
        pay(demo, number, "1", date(2026, 10, 1))
    with pytest.raises(BillingError, match="No receivable INV-1999-0001"):
        pay(demo, "INV-1999-0001", "1")
    with pytest.raises(AccessDenied):
        payments.record(
            demo, Payment(number, Decimal(1), TODAY), actor=Actor("v", "viewer"), today=TODAY
        )
    assert payments.payments(demo).empty


def test_a_payment_on_a_synced_invoice_goes_to_its_record_and_shows_at_once(
    airtable: tuple[FakeAirtable, Settings],
) -> None:
    server, settings = airtable
    record = synced_receivable(server)
    number, amount = record["fields"]["Invoice Number"], Decimal(str(record["fields"]["Amount"]))
    pay(settings, number, "100")
    open_now = payments.open_receivables(settings).set_index("number")
    assert open_now.loc[number, "balance"] == amount - 100  # before AirTable hears of it
    count = len(server.records("Invoices"))
    outcome = writeback.push_pending(settings, actor=BILLER)
    assert outcome.error is None
    [now] = [r for r in server.records("Invoices") if r["id"] == record["id"]]
    assert (now["fields"]["Amount Paid"], now["fields"]["Status"]) == (100, "Authorized")
    assert now["fields"].get("Invoice Key") == record["fields"].get("Invoice Key")
    assert len(server.records("Invoices")) == count  # written to its record, by id

    pay(settings, number, str(amount - 100))
    writeback.push_pending(settings, actor=BILLER)
    [now] = [r for r in server.records("Invoices") if r["id"] == record["id"]]
    assert (now["fields"]["Status"], now["fields"]["Paid Date"]) == ("Paid", TODAY.isoformat())
    run_sync(settings)
    assert payments.open_receivables(settings).query("number == @number").empty
    assert reconcile.conflicts(settings).empty


def test_a_synced_invoice_changed_in_airtable_meanwhile_is_held_for_a_person(
    airtable: tuple[FakeAirtable, Settings],
) -> None:
    server, settings = airtable
    record = synced_receivable(server)
    number = record["fields"]["Invoice Number"]
    pay(settings, number, "100")
    # Meanwhile the sponsor records another payment in AirTable itself.
    records = server.records("Invoices")
    [same] = [r for r in records if r["id"] == record["id"]]
    same["fields"]["Amount Paid"] = 250
    server.set_records("Invoices", records)
    outcome = writeback.push_pending(settings, actor=BILLER)
    assert outcome.held == 1
    [now] = [r for r in server.records("Invoices") if r["id"] == record["id"]]
    assert now["fields"]["Amount Paid"] == 250  # never overwritten
    [conflict] = reconcile.conflicts(settings).to_dict("records")
    assert (conflict["number"], conflict["field"]) == (number, "Amount Paid")
    assert (conflict["here"], conflict["there"]) == ("100.00", "250.00")
    run_sync(settings)
    assert len(reconcile.conflicts(settings)) == 1  # still there after a sync
    reconcile.resolve(settings, number, "airtable", actor=BILLER)
    assert reconcile.conflicts(settings).empty
    assert writeback.push_pending(settings, actor=BILLER).attempted == 0
    shown = payments.open_receivables(settings).set_index("number")
    assert shown.loc[number, "amount_paid"] == 250
    assert "payment" in set(ledger.audit_log(settings)["action"])


def test_the_cli_records_a_payment(
    airtable: tuple[FakeAirtable, Settings],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from sales_core.cli import main

    server, settings = airtable
    made = authorized_made_here(settings)
    use_in_environment(monkeypatch, server, settings, SALES_OPERATOR="a@example.org")
    capsys.readouterr()
    number = str(made.number)
    argv = ["invoices", "pay", number, "--amount", "500", "--date", "2026-11-20"]
    assert main([*argv, "--reference", "wire 7", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["balance"] == str(made.amount - 500) and out["status"] == "Authorized"
    assert in_airtable(server, made.invoice_key)["Amount Paid"] == 500
    assert main([*argv[:3], "--amount", str(made.amount), "--date", "2026-11-20"]) == 1
    assert "overpayment is refused" in capsys.readouterr().err
    assert main([*argv[:3], "--amount", "5", "--date", "20-11-2026"]) == 1
    assert "is not a date" in capsys.readouterr().err


def test_marking_paid_records_the_balance_as_paid(demo: Settings) -> None:
    made = authorized_made_here(demo)
    number = str(made.number)
    pay(demo, number, "100")
    change_status(demo, Change(number, "Paid", paid_date=TODAY), actor=BILLER, today=TODAY)
    row = here(demo, number)
    assert row["amount_paid"] == made.amount
    assert payments.payments(demo, number)["amount"].sum() == made.amount


def test_edits_of_amount_paid_in_airtable_are_taken_for_invoices_made_here(
    airtable: tuple[FakeAirtable, Settings],
) -> None:
    server, settings = airtable
    made = authorized_made_here(settings)
    writeback.push_pending(settings, actor=BILLER)
    edit_in_airtable(server, made.invoice_key, **{"Amount Paid": 300})
    run_sync(settings)
    assert here(settings, str(made.number))["amount_paid"] == 300
    assert reconcile.conflicts(settings).empty


def test_the_pickers_search_by_community_and_skip_a_deleted_contract_only_then(
    demo: Settings,
) -> None:
    from sales_core import corrections, store

    owed = payments.open_receivables(demo)
    row = owed[owed["community"] != ""].iloc[0]
    community, number = str(row["community"]), str(row["number"])
    found = payments.open_receivables(demo, community.upper(), 500)
    assert number in set(found["number"]) and set(found["community"]) == {community}
    assert number in set(corrections.creditable(demo, community[:5].lower(), 500)["number"])
    with store.connect(demo.db_path) as con:  # a sync dropped the contract (deleted there)
        con.execute(
            "DELETE FROM contracts WHERE id = (SELECT contract_id FROM receivables "
            "WHERE number = ?)",
            [number],
        )
    unfound = payments.open_receivables(demo)
    assert unfound.set_index("number").loc[number, "community"] == ""  # listed, without one
    assert number not in set(payments.open_receivables(demo, community, 500)["number"])
    assert number in set(payments.open_receivables(demo, number.lower(), 500)["number"])
