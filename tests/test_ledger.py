"""The invoices made here: lines, guarded state changes, AirTable's changes adopted."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from sales_core import ledger, money, store
from sales_core.access import Actor
from sales_core.billing import BillingError
from sales_core.config import Settings
from sales_core.errors import SalesError
from sales_core.invoice import InvoiceLine
from sales_core.invoicing import generate, preview
from sales_core.ledger import Change, change_status
from sales_core.sync import run_sync
from sales_core.vocabulary import LineKind
from tests.conftest import NOVEMBER, numbers_of, sequence
from tests.fake_airtable import FakeAirtable
from tests.test_pdf import pdf_text


def test_transitions__guarded_and_audited(demo: Settings) -> None:
    result = generate(demo, NOVEMBER, actor=Actor("a", "biller"))
    first, second = numbers_of(result)[:2]
    today = date(2026, 11, 25)
    with pytest.raises(BillingError, match="Authorize"):
        change_status(
            demo, Change(first, "Paid", paid_date=today), actor=Actor("b", "biller"), today=today
        )
    change_status(demo, Change(first, "Authorized"), actor=Actor("b", "biller"), today=today)
    with pytest.raises(BillingError, match="future"):
        change_status(
            demo,
            Change(first, "Paid", paid_date=date(2026, 12, 1)),
            actor=Actor("b", "biller"),
            today=today,
        )
    with pytest.raises(BillingError, match="before the issue date"):
        change_status(
            demo,
            Change(first, "Paid", paid_date=date(2026, 10, 1)),
            actor=Actor("b", "biller"),
            today=today,
        )
    change_status(
        demo,
        Change(first, "Paid", paid_date=date(2026, 11, 20)),
        actor=Actor("b", "biller"),
        today=today,
    )
    with pytest.raises(BillingError, match="cannot change"):
        change_status(
            demo, Change(first, "Void", reason="oops"), actor=Actor("b", "biller"), today=today
        )
    with pytest.raises(BillingError, match="reason"):
        change_status(
            demo, Change(second, "Void", reason="  "), actor=Actor("b", "biller"), today=today
        )
    change_status(
        demo, Change(second, "Void", reason="wrong fee"), actor=Actor("c", "biller"), today=today
    )
    with pytest.raises(BillingError, match="No invoice"):
        change_status(
            demo, Change("INV-1999-0001", "Authorized"), actor=Actor("c", "biller"), today=today
        )
    table = ledger.generated_invoices(demo).set_index("number")
    assert table.loc[first, "status"] == "Paid"
    assert table.loc[first, "paid_date"].date() == date(2026, 11, 20)
    assert table.loc[second, "status"] == "Void" and table.loc[second, "void_reason"] == "wrong fee"
    actions = ledger.audit_log(demo)[["actor", "action"]].values.tolist()[:4]
    assert actions == [["c", "void"], ["b", "paid"], ["b", "authorized"], ["a", "generate"]]


def test_void_then_run_again__a_new_number_never_reused(demo: Settings) -> None:
    result = generate(demo, NOVEMBER, actor=Actor("a", "biller"))
    voided = next(d for d in result.created if d.fee is not None and not d.charges)
    assert voided.number is not None
    change_status(
        demo,
        Change(voided.number, "Void", reason="wrong"),
        actor=Actor("a", "biller"),
        today=date(2026, 11, 25),
    )
    (note,) = [d.note for d in preview(demo, NOVEMBER).drafts]
    assert note == f"bills again the period of voided {voided.number}"
    again = generate(demo, NOVEMBER, actor=Actor("a", "biller"))
    # The voided invoice keeps its key; the new one for the same period gets a suffix.
    assert [d.invoice_key for d in again.created] == [f"{voided.invoice_key}/2"]
    assert sequence(numbers_of(again)[0]) == sequence(numbers_of(result)[-1]) + 1


def set_airtable_status(
    server: FakeAirtable, key: str, status: str, paid: str | None = None
) -> None:
    for record in server.records("Invoices"):
        if record["fields"].get("Invoice Key") == key:
            record["fields"]["Status"] = status
            if paid:
                record["fields"]["Paid Date"] = paid
            server.set_records(
                "Invoices",
                [r if r["id"] != record["id"] else record for r in server.records("Invoices")],
            )
            return
    raise AssertionError(f"{key} not in AirTable")


def test_sync_adopts_paid_from_airtable_and_nothing_is_billed_or_voided_over_it(
    airtable: Any,
) -> None:
    server, settings = airtable
    result = generate(settings, NOVEMBER, actor=Actor("a", "biller"))
    paid, voided = result.created[0], result.created[1]
    set_airtable_status(server, paid.invoice_key, "Paid", "2026-11-20")
    set_airtable_status(server, voided.invoice_key, "Void")
    run_sync(settings)
    table = ledger.generated_invoices(settings).set_index("number")
    assert table.loc[paid.number, "status"] == "Paid"
    assert table.loc[voided.number, "status"] == "Void"
    with pytest.raises(BillingError, match="cannot change"):
        change_status(
            settings,
            Change(str(paid.number), "Void", reason="x"),
            actor=Actor("a", "biller"),
            today=date(2026, 11, 25),
        )
    again = generate(settings, NOVEMBER, actor=Actor("a", "biller"))
    # Only the period voided in AirTable is billed again, under a key of its own.
    assert [d.invoice_key for d in again.created] == [f"{voided.invoice_key}/2"]
    assert "adopt" in set(ledger.audit_log(settings)["action"])


def test_dashboards_count_invoices_made_here(demo: Settings) -> None:
    from sales_core.metrics.overview import overview_tiles

    today = date(2026, 11, 25)
    before = overview_tiles(demo, today).set_index("currency")
    result = generate(demo, NOVEMBER, actor=Actor("a", "biller"))
    first = result.created[0]
    assert first.currency == "USD"
    change_status(
        demo,
        Change(str(first.number), "Authorized"),
        actor=Actor("a", "biller"),
        today=today,
    )
    after = overview_tiles(demo, today).set_index("currency")
    # A Draft is not invoiced yet; the authorized one is, and is owed.
    expected = (before.loc["USD", "invoiced_this_month"] or 0) + first.amount
    assert after.loc["USD", "invoiced_this_month"] == expected
    assert after.loc["USD", "receivables"] == before.loc["USD", "receivables"] + first.amount


def test_overview_counts_include_invoices_made_here(demo: Settings) -> None:
    from sales_core.health import sync_status

    before = sync_status(demo.db_path)
    result = generate(demo, NOVEMBER, actor=Actor("a", "biller"))
    after = sync_status(demo.db_path)
    assert after.counts["invoices"] == before.counts["invoices"]  # the synced copy
    assert after.total("invoices") == before.total("invoices") + len(result.created)


def test_an_invoice_with_two_lines_is_stored_loaded_and_printed_whole(
    demo: Settings, tmp_path: Path
) -> None:
    [planned] = [d for d in preview(demo, NOVEMBER).drafts if not d.charges][:1]
    charge = InvoiceLine(
        LineKind.CHARGE,
        "Cloud costs passed through at cost, October 2026",
        Decimal("234.56"),
        date(2026, 10, 1),
        date(2026, 10, 31),
        charge_id="recCHARGE1",
    )
    invoice = replace(planned, number="INV-2026-9001", lines=(*planned.lines, charge))
    with store.write_transaction(demo.db_path) as con:
        ledger.insert(con, [invoice], run_month=str(NOVEMBER), actor="test")
    with store.connect(demo.db_path) as con:
        [loaded] = ledger.load(con, ["INV-2026-9001"])
        stored_amount = con.execute(
            "SELECT amount FROM generated_invoices WHERE number = 'INV-2026-9001'"
        ).fetchall()
    assert loaded == replace(invoice, note="")
    assert stored_amount == [(planned.amount + Decimal("234.56"),)]
    text = pdf_text(ledger.invoice_pdf(demo, "INV-2026-9001"), tmp_path)
    assert planned.contract_name.split(":")[0] in text
    assert "Cloud costs passed through at cost, October 2026" in text
    assert money.grouped(loaded.amount, loaded.currency) in text

    # A charge is billed once: its record id is unique among all lines.
    again = replace(invoice, invoice_key="another", number="INV-2026-9002")
    with pytest.raises(SalesError), store.write_transaction(demo.db_path) as con:
        ledger.insert(con, [again], run_month=str(NOVEMBER), actor="test")
