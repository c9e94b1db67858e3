"""What the Invoices page shows: the plan's rows, totals per currency, the contracts, a zip."""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace
from datetime import date

from sales_core import invoice_views, invoicing, schema
from sales_core.access import Actor
from sales_core.config import Settings
from sales_core.models import Contract
from sales_core.sync import run_sync
from tests.conftest import NOVEMBER, numbers_of
from tests.fake_airtable import FakeAirtable


def test_the_plan_as_rows_and_totals_per_currency(demo: Settings) -> None:
    plan = invoicing.preview(demo, NOVEMBER)
    frame = invoice_views.plan_frame(plan)
    # The demo's November run bills charges too: their sum has a column of its own.
    assert list(frame.columns) == ["Contract", "Amount", "Charges", *invoice_views.PLAN_COLUMNS[2:]]
    fees_only = [d for d in plan.drafts if not d.charges]
    without = invoice_views.plan_frame(replace(plan, drafts=tuple(fees_only)))
    assert list(without.columns) == invoice_views.PLAN_COLUMNS
    charges = invoice_views.charges_frame(plan)
    assert list(charges.columns) == invoice_views.CHARGE_COLUMNS
    assert len(charges) == sum(len(d.charges) for d in plan.drafts) > 0
    assert len(frame) == len(plan.drafts) > 0
    totals = invoice_views.totals(plan)
    assert set(totals) == {d.currency for d in plan.drafts}
    assert totals["JPY"].replace(",", "").isdigit()  # no minor unit for yen


def test_the_run_preview_holds_what_its_pieces_say(demo: Settings) -> None:
    from contextlib import nullcontext

    from sales_core import burndown, store

    for held in (False, True):  # the second thread opens the file itself, or joins the held one
        with store.held(demo.db_path) if held else nullcontext():
            view = invoice_views.run_preview(demo, NOVEMBER, date(2026, 11, 3))
        plan = invoicing.preview(demo, NOVEMBER, date(2026, 11, 3))
        over = burndown.excesses(demo, plan)
        assert view.count == len(plan.drafts) > 0 and view.over == len(over) > 0
        assert view.drafts.equals(invoice_views.plan_frame(plan, over))
        assert view.totals == invoice_views.totals(plan)
        assert view.charge_count == len(view.charges) > 0
        assert view.skipped.equals(invoice_views.skipped_frame(plan))
        assert set(view.contract_ids) == {d.contract_id for d in plan.drafts}
        assert (
            list(view.gaps) == invoicing.unbilled_months(demo, NOVEMBER) == ["2026-01", "2026-05"]
        )


def test_the_receivables_view_holds_what_its_pieces_say(demo: Settings) -> None:
    from sales_core import corrections, delivery, payments, store

    today = date(2026, 11, 25)
    with store.held(demo.db_path):
        view = invoice_views.receivables_view(demo, today, 3)
    assert view.owed.equals(payments.open_receivables(demo, "", 3)) and len(view.owed) == 3
    assert view.creditable.equals(corrections.creditable(demo, "", 3))
    assert len(view.creditable) == 3
    assert view.sends == delivery.plan_sends(demo)
    assert view.reminders == delivery.plan_reminders(demo, today) and view.reminders[0]
    assert view.credit_notes.equals(corrections.credit_notes(demo))
    with store.held(demo.db_path):
        viewer = invoice_views.receivables_view(demo, today, 0)  # no pickers to fill
    assert viewer.owed.empty and viewer.creditable.empty and viewer.sends == view.sends


def test_the_contracts_table_is_derived_from_the_declaration(demo: Settings) -> None:
    plan = invoicing.preview(demo, NOVEMBER)
    contracts = invoicing.contracts_of(demo, (d.contract_id for d in plan.drafts))
    assert {c.id for c in contracts} == {d.contract_id for d in plan.drafts}
    frame = invoice_views.contracts_frame(contracts)
    declared = [
        c.col.airtable
        for c in schema.columns(Contract)
        if c.col.airtable and c.col.kind is not schema.LINKS
    ]
    assert list(frame.columns) == ["Record id", *declared]
    row = frame.set_index("Record id").loc[contracts[0].id]
    assert row["Contract Name"] == contracts[0].name
    fee = contracts[0].monthly_fee
    assert fee is not None and row["Monthly Fee"].replace(",", "") == str(fee)


def test_month_choices_run_from_two_years_back_to_three_months_ahead() -> None:
    months = invoice_views.month_choices(date(2026, 11, 15))
    assert months[:4] == ["2027-02", "2027-01", "2026-12", "2026-11"]
    assert months[-1] == "2024-11" and len(months) == 28


def test_the_zip_holds_every_pdf(demo: Settings) -> None:
    made = invoicing.generate(demo, NOVEMBER, actor=Actor("a", "biller"), push=False)
    numbers = numbers_of(made)[:3]
    archive = zipfile.ZipFile(io.BytesIO(invoice_views.zip_of_pdfs(demo, numbers)))
    assert archive.namelist() == [f"{n}.pdf" for n in numbers]
    assert all(archive.read(f"{n}.pdf").startswith(b"%PDF") for n in numbers)


def test_a_po_number_typed_in_airtable_reaches_the_contracts_table(
    airtable: tuple[FakeAirtable, Settings],
) -> None:
    server, settings = airtable
    plan = invoicing.preview(settings, NOVEMBER)
    billed = plan.drafts[0].contract_id
    records = server.records("Contracts")
    for record in records:
        if record["id"] == billed:
            record["fields"]["PO Number"] = "PO-4711 / Ünï"
    server.set_records("Contracts", records)
    run_sync(settings)
    frame = invoice_views.contracts_frame(
        invoicing.contracts_of(settings, (d.contract_id for d in plan.drafts))
    )
    shown = dict(zip(frame["Record id"], frame["PO Number"], strict=True))
    assert shown[billed] == "PO-4711 / Ünï"
    assert shown != {k: "" for k in shown}  # the demo gives about half its contracts one
    assert all(v == "" or v.startswith("PO-") for k, v in shown.items() if k != billed)
