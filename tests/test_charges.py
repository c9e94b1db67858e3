"""Lines and charges (docs/billing.md): what an invoice bills besides the fee, billed once."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from sales_core import store
from sales_core.access import Actor
from sales_core.billing import KnownInvoice, Month, plan_run
from sales_core.config import Settings
from sales_core.invoicing import generate, preview
from sales_core.models import Charge, Contract
from sales_core.sync import run_sync
from sales_core.vocabulary import LineKind
from tests.conftest import NOVEMBER
from tests.fake_airtable import FakeAirtable

BILLER = Actor("biller@example.org", "biller")


def contract(**fields: Any) -> Contract:
    values: dict[str, Any] = {
        "id": "recA",
        "name": "Hub contract",
        "community": "Community A",
        "status": "Active",
        "start_date": date(2026, 1, 1),
        "monthly_fee": Decimal("1000.00"),
        "currency": "USD",
        "billing_frequency": "Monthly",
    }
    values.update(fields)
    return Contract(**values)


def charge(record_id: str = "recCH1", **fields: Any) -> Charge:
    values: dict[str, Any] = {
        "id": record_id,
        "description": "Cloud costs, October",
        "contract_ids": ("recA",),
        "contract_id": "recA",
        "kind": "Pass-through",
        "amount": Decimal("234.56"),
        "currency": "USD",
        "service_start": date(2026, 10, 1),
        "service_end": date(2026, 10, 31),
        "bill_in": date(2026, 11, 1),
    }
    values.update(fields)
    return Charge(**values)


def plan(c: Contract, charges: list[Charge], month: str = "2026-11", known: Any = ()) -> Any:
    return plan_run([c], list(known), Month.parse(month), charges=charges)


def test_charges_go_on_the_contract_invoice_with_their_own_period_and_the_sum_is_the_amount() -> (
    None
):
    cloud = charge()
    workshop = charge(
        "recCH2",
        description="Workshop",
        kind="Service",
        amount=Decimal("3000.00"),
        quantity=Decimal(2),
        unit_price=Decimal("1500.00"),
        service_start=date(2026, 11, 10),
        service_end=date(2026, 11, 11),
    )
    discount = charge(
        "recCH3", description="Discount", kind="Discount", amount=Decimal("-250.00"), **_no_dates()
    )
    result = plan(contract(), [workshop, discount, cloud])
    (invoice,) = result.drafts
    assert invoice.invoice_key == "recA/2026-11-01/2026-11-30"
    assert [line.kind for line in invoice.lines] == [LineKind.FEE] + [LineKind.CHARGE] * 3
    # Charges follow the fee, by service start (none first), then description.
    assert [line.charge_id for line in invoice.lines[1:]] == ["recCH3", "recCH1", "recCH2"]
    assert invoice.amount == Decimal("1000.00") + Decimal("3000.00") - Decimal("250.00") + Decimal(
        "234.56"
    )
    assert invoice.lines[2].period_start == date(2026, 10, 1)  # billed in arrears
    assert invoice.lines[3].detail == "2 × 1500"
    assert result.skipped == ()


def _no_dates() -> dict[str, Any]:
    return {"service_start": None, "service_end": None}


def test_a_charge_waits_for_its_bill_in_month() -> None:
    later = charge(bill_in=date(2026, 12, 15))
    assert plan(contract(), [later]).drafts[0].lines[1:] == ()
    (december,) = plan(contract(), [later], "2026-12").drafts
    assert [line.charge_id for line in december.lines] == [None, "recCH1"]


def test_a_charge_in_another_currency_is_skipped_with_the_reason() -> None:
    result = plan(contract(), [charge(currency="EUR")])
    assert [line.kind for line in result.drafts[0].lines] == [LineKind.FEE]
    (skipped,) = result.skipped
    assert "recCH1" in skipped.reason and "EUR" in skipped.reason and "converted" in skipped.reason


def test_a_quarterly_contract_gets_an_invoice_of_charges_alone_when_no_quarter_begins() -> None:
    quarterly = contract(billing_frequency="Quarterly", start_date=date(2026, 1, 1))
    september = charge(
        "recCH0",
        service_start=date(2026, 9, 1),
        service_end=date(2026, 9, 30),
        bill_in=date(2026, 10, 1),
    )
    result = plan(quarterly, [charge(), september])
    (invoice,) = result.drafts
    assert invoice.invoice_key == "recA/charges/2026-11"
    assert invoice.fee is None and len(invoice.charges) == 2
    assert (invoice.period_start, invoice.period_end) == (date(2026, 9, 1), date(2026, 10, 31))
    assert invoice.amount == Decimal("469.12")
    assert invoice.description.startswith("2 charges (Hub contract)")


def test_an_ended_contract_still_bills_its_last_cloud_costs() -> None:
    ended = contract(status="Ended", end_date=date(2026, 9, 30))
    (invoice,) = plan(ended, [charge()]).drafts
    assert invoice.invoice_key == "recA/charges/2026-11" and invoice.amount == Decimal("234.56")


def test_an_invoice_of_charges_alone_never_blocks_the_fee_period() -> None:
    known = [
        KnownInvoice(
            "recA",
            date(2026, 10, 1),
            date(2026, 11, 30),
            "Authorized",
            "INV-2026-0001",
            "recA/charges/2026-10",
        ),
    ]
    (invoice,) = plan(contract(), [], known=known).drafts
    assert invoice.fee is not None


def test_a_discount_larger_than_the_invoice_is_not_billed_and_waits() -> None:
    big = charge(kind="Discount", amount=Decimal("-1200.00"), **_no_dates())
    result = plan(contract(), [big])
    assert result.drafts == ()
    assert "below zero" in result.skipped[0].reason


def test_charges_of_a_contract_that_is_never_billed_are_listed_not_lost() -> None:
    result = plan(contract(status="Cancelled"), [charge()])
    assert result.drafts == ()
    assert "Cancelled" in result.skipped[0].reason and "1 charge wait" in result.skipped[0].reason
    # Without charges a Cancelled contract is not listed at all (as before).
    assert plan(contract(status="Cancelled"), []).skipped == ()


def test_already_invoiced_fee_but_a_new_charge_gets_an_invoice_of_its_own() -> None:
    known = [
        KnownInvoice(
            "recA",
            date(2026, 11, 1),
            date(2026, 11, 30),
            "Draft",
            "INV-2026-0009",
            "recA/2026-11-01/2026-11-30",
        )
    ]
    result = plan(contract(), [charge()], known=known)
    (invoice,) = result.drafts
    assert invoice.invoice_key == "recA/charges/2026-11"
    assert result.skipped[0].reason.startswith("already invoiced: INV-2026-0009")


# --- the run, against the store -----------------------------------------------------------


def _charged(settings: Settings) -> list[tuple[str, str]]:
    with store.connect(settings.db_path) as con:
        return con.execute(
            "SELECT charge_id, invoice_key FROM invoice_lines WHERE charge_id IS NOT NULL "
            "ORDER BY charge_id"
        ).fetchall()


def test_demo_charges_are_billed_once_across_two_concurrent_generates(demo: Settings) -> None:
    planned = preview(demo, NOVEMBER)
    expected = sorted(
        line.charge_id for d in planned.drafts for line in d.charges if line.charge_id
    )
    assert len(expected) >= 10, "the demo has cloud costs, a discount and charges alone"
    assert any(d.fee is None for d in planned.drafts), "an invoice of charges alone"
    assert any("converted" in s.reason for s in planned.skipped), "the wrong-currency charge"
    barrier = threading.Barrier(2)
    results: list[Any] = []

    def click() -> None:
        barrier.wait()
        results.append(generate(demo, NOVEMBER, actor=BILLER, push=False))

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(len(r.created) for r in results) == [0, len(planned.drafts)]
    assert [c for c, _ in _charged(demo)] == expected
    # December bills the workshop (Bill In December) and nothing billed in November again.
    december = generate(demo, Month(2026, 12), actor=BILLER, push=False)
    again = [line.charge_id for d in december.created for line in d.charges]
    assert again and not set(again) & set(expected)
    billed = [c for c, _ in _charged(demo)]
    assert len(billed) == len(set(billed)) == len(expected) + len(again)


def test_the_json_lines_add_up_and_name_their_charges(
    demo: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    from sales_core.cli import main

    assert (
        main(["invoices", "generate", "--month", "2026-11", "--json", "--no-push", "--allow-gaps"])
        == 0
    )
    made = json.loads(capsys.readouterr().out)["invoices"]
    with_charges = [i for i in made if any(line["kind"] == "charge" for line in i["lines"])]
    assert with_charges
    for invoice in made:
        assert sum(Decimal(line["amount"]) for line in invoice["lines"]) == Decimal(
            invoice["amount"]
        )
    lines = [line for i in with_charges for line in i["lines"] if line["kind"] == "charge"]
    assert {line["charge_id"] for line in lines} == {c for c, _ in _charged(demo)}
    assert all(line["period_start"] for line in lines if "Cloud costs" in line["description"])


def test_a_base_with_a_charges_table_is_synced_and_one_without_still_bills(
    loopback_settings: Any,
) -> None:
    from tests.conftest import BASE, TOKEN, serve_demo

    with FakeAirtable(token=TOKEN, base_id=BASE) as server:
        serve_demo(server)
        settings = loopback_settings(server, AIRTABLE_REQUESTS_PER_SECOND="200")
        result = run_sync(settings)
        assert result.counts["charges"] == 20 and result.missing_tables == []
        assert any(d.charges for d in preview(settings, NOVEMBER).drafts)
        server.drop_table("Charges")
        result = run_sync(settings)
        assert result.missing_tables == ["charges"] and "no Charges table" in result.missing_text
        drafts = preview(settings, NOVEMBER).drafts
        assert drafts and not any(d.charges for d in drafts)


def test_cloud_costs_passed_through_carry_no_fiscal_sponsor_share(demo: Settings) -> None:
    from sales_core import ledger
    from sales_core.metrics.revenue import revenue_share

    made = generate(demo, NOVEMBER, actor=BILLER, push=False).created
    invoice = next(
        d
        for d in made
        if d.fee is not None and any(c.charge_kind == "Pass-through" for c in d.charges)
    )
    with store.connect(demo.db_path) as con:
        css = con.execute(
            "SELECT css_pct FROM contracts WHERE id = ?", [invoice.contract_id]
        ).fetchall()[0][0]
    assert css
    today = date(2026, 11, 25)
    before = revenue_share(demo, invoice.currency, today)
    ledger.authorize_many(demo, [str(invoice.number)], actor=BILLER)
    after = revenue_share(demo, invoice.currency, today)
    passed = sum(c.amount for c in invoice.charges if c.charge_kind == "Pass-through")
    sponsor = (invoice.amount - passed) * css
    assert after["invoiced"] - before["invoiced"] == invoice.amount
    assert abs((after["sponsor_share"] - before["sponsor_share"]) - sponsor) <= Decimal("0.01")


def test_charges_are_not_counted_against_a_contracts_amount(demo: Settings) -> None:
    from sales_core import burndown

    plan = preview(demo, NOVEMBER)
    alone = [d for d in plan.drafts if d.fee is None]
    assert alone
    over = burndown.excesses(demo, plan)
    assert not any(d.invoice_key in over for d in alone)
    fees_only = burndown.excesses(
        demo, replace(plan, drafts=tuple(d for d in plan.drafts if d.fee))
    )
    assert {k: v for k, v in over.items()} == fees_only
