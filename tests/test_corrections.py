"""Corrections (docs/billing.md, section 9): void and bill again, void and waive, credit notes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from sales_core import corrections, payments, store, writeback
from sales_core.access import Actor
from sales_core.config import Settings
from sales_core.errors import BillingError
from sales_core.invoicing import generate, preview
from sales_core.ledger import Change, authorize_many, change_status
from sales_core.metrics.revenue import revenue_share
from sales_core.payments import Payment
from sales_core.sync import run_sync
from tests.conftest import NOVEMBER
from tests.fake_airtable import FakeAirtable
from tests.test_pdf import pdf_text

BILLER = Actor("biller@example.org", "biller")
TODAY = date(2026, 11, 25)


def made_with_charges(settings: Settings) -> Any:
    made = generate(settings, NOVEMBER, actor=BILLER, push=False).created
    return next(d for d in made if d.fee is not None and d.charges)


def test_void_and_bill_again_sends_the_period_and_the_charges_back_to_the_next_run(
    demo: Settings,
) -> None:
    invoice = made_with_charges(demo)
    corrections.void(demo, str(invoice.number), reason="wrong fee", mode="rebill", actor=BILLER)
    (again,) = [d for d in preview(demo, NOVEMBER).drafts if d.contract_id == invoice.contract_id]
    assert again.note == f"bills again the period of voided {invoice.number}"
    assert [c.charge_id for c in again.charges] == [c.charge_id for c in invoice.charges]
    rebilled = generate(demo, NOVEMBER, actor=BILLER, push=False).created
    assert [d.invoice_key for d in rebilled] == [f"{invoice.invoice_key}/2"]
    # The voided invoice still shows the charges it billed (its PDF, its lines).
    with store.connect(demo.db_path) as con:
        released = con.execute(
            "SELECT released_charge_id FROM invoice_lines WHERE invoice_key = ? "
            "AND released_charge_id IS NOT NULL ORDER BY position",
            [invoice.invoice_key],
        ).fetchall()
    assert [r[0] for r in released] == [c.charge_id for c in invoice.charges]


def test_void_and_waive_keeps_the_period_and_the_charges_covered(demo: Settings) -> None:
    invoice = made_with_charges(demo)
    corrections.void(demo, str(invoice.number), reason="goodwill", mode="waive", actor=BILLER)
    plan = preview(demo, NOVEMBER)
    assert not [d for d in plan.drafts if d.contract_id == invoice.contract_id]
    reasons = [s.reason for s in plan.skipped if s.contract_id == invoice.contract_id]
    assert any(r.startswith(f"waived: {invoice.number}") for r in reasons), reasons
    assert generate(demo, NOVEMBER, actor=BILLER, push=False).created == []


def test_a_void_needs_a_reason_and_a_mode_and_never_touches_a_paid_part(demo: Settings) -> None:
    invoice = made_with_charges(demo)
    number = str(invoice.number)
    with pytest.raises(BillingError, match="reason"):
        corrections.void(demo, number, reason="  ", mode="waive", actor=BILLER)
    with pytest.raises(BillingError, match="rebill"):
        corrections.void(demo, number, reason="x", mode="delete", actor=BILLER)
    authorize_many(demo, [number], actor=BILLER)
    payments.record(demo, Payment(number, Decimal("10"), TODAY), actor=BILLER, today=TODAY)
    with pytest.raises(BillingError, match="credit note"):
        corrections.void(demo, number, reason="x", mode="rebill", actor=BILLER)


def test_credit_notes_number_apart_lower_the_balance_and_the_months_revenue(
    demo: Settings,
) -> None:
    made = generate(demo, NOVEMBER, actor=BILLER, push=False).created
    first, second = made[0], made[1]
    with pytest.raises(BillingError, match="Void it instead"):
        corrections.credit(demo, str(first.number), "1", reason="x", actor=BILLER, today=TODAY)
    authorize_many(demo, [str(first.number), str(second.number)], actor=BILLER)
    currency = first.currency
    before = revenue_share(demo, currency, TODAY)["invoiced"]
    one = corrections.credit(demo, str(first.number), "1.00", reason="a", actor=BILLER, today=TODAY)
    two = corrections.credit(demo, str(second.number), "2", reason="b", actor=BILLER, today=TODAY)
    three = corrections.credit(demo, str(first.number), "3", reason="c", actor=BILLER, today=TODAY)
    assert [one.number, two.number, three.number] == [
        "CN-2026-0001",
        "CN-2026-0002",
        "CN-2026-0003",
    ]
    assert three.invoice_key == f"{first.invoice_key}/credit/2"
    assert three.remaining == first.amount - Decimal("4.00")
    with pytest.raises(BillingError, match="more than"):
        corrections.credit(
            demo,
            str(first.number),
            str(three.remaining + 1),
            reason="d",
            actor=BILLER,
            today=TODAY,
        )
    with pytest.raises(BillingError, match="reason"):
        corrections.credit(demo, str(first.number), "1", reason="", actor=BILLER, today=TODAY)
    open_ = payments.open_receivables(demo).set_index("number")
    assert open_.loc[str(first.number), "balance"] == first.amount - Decimal("4.00")
    after = revenue_share(demo, currency, TODAY)["invoiced"]
    expected = Decimal("4.00") + (Decimal("2") if second.currency == currency else 0)
    assert before - after == expected
    # Paying the rest settles it: what was credited is not owed.
    rest = first.amount - Decimal("4.00")
    done = payments.record(demo, Payment(str(first.number), rest, TODAY), actor=BILLER, today=TODAY)
    assert done.status == "Paid" and done.balance == 0
    with pytest.raises(BillingError, match=r"Paid: payments are recorded on Authorized"):
        payments.record(
            demo, Payment(str(first.number), Decimal(1), TODAY), actor=BILLER, today=TODAY
        )


def test_credit_note_numbers_stay_gapless_under_concurrency(demo: Settings, tmp_path: Path) -> None:
    made = generate(demo, NOVEMBER, actor=BILLER, push=False).created[:6]
    numbers = [str(d.number) for d in made]
    authorize_many(demo, numbers, actor=BILLER)
    barrier = threading.Barrier(3)
    issued: list[str] = []

    def click(number: str) -> None:
        barrier.wait()
        note = corrections.credit(demo, number, "1", reason="t", actor=BILLER, today=TODAY)
        issued.append(note.number)

    threads = [threading.Thread(target=click, args=(n,)) for n in numbers[:3]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Two processes at once (the CLI), beside each other: the store serialises them.
    env = {**os.environ, "SALES_DB": str(demo.db_path), "INVOICE_DIR": str(tmp_path / "pdf")}
    env.pop("AIRTABLE_API_KEY", None)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sales_core",
                "invoices",
                "credit",
                number,
                "--amount",
                "1",
                "--reason",
                "cron",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for number in numbers[3:5]
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        issued.append(out.split(":")[0])
    assert sorted(issued) == [f"CN-2026-{n:04d}" for n in range(1, 6)]


def test_a_credit_note_goes_to_airtable_linked_to_its_invoice_and_is_counted_once(
    airtable: tuple[FakeAirtable, Settings],
) -> None:
    server, settings = airtable
    invoice = generate(settings, NOVEMBER, actor=BILLER).created[0]
    number = str(invoice.number)
    authorize_many(settings, [number], actor=BILLER)
    note = corrections.credit(settings, number, "5", reason="hub down", actor=BILLER, today=TODAY)
    outcome = writeback.push_pending(settings, actor=BILLER)
    assert outcome.error is None
    records = {r["fields"].get("Invoice Key"): r for r in server.records("Invoices")}
    credited = records[invoice.invoice_key]
    sent = records[note.invoice_key]["fields"]
    assert sent["Type"] == "ACCRECCREDIT" and sent["Invoice Number"] == note.number
    assert sent["Credited Invoice"] == [credited["id"]] and sent["Amount"] == 5
    balance = payments.open_receivables(settings).set_index("number").loc[number, "balance"]
    run_sync(settings)  # the credit note comes back from AirTable: still counted once
    again = payments.open_receivables(settings).set_index("number").loc[number, "balance"]
    assert again == balance == invoice.amount - 5


def test_the_cli_voids_credits_and_prints_a_credit_note(
    demo: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sales_core.cli import main

    invoice = made_with_charges(demo)
    number = str(invoice.number)
    with pytest.raises(SystemExit):  # --rebill or --waive is required
        main(["invoices", "void", number, "--reason", "x"])
    capsys.readouterr()
    change_status(demo, Change(number, "Authorized"), actor=BILLER, today=TODAY)
    assert main(["invoices", "credit", number, "--amount", "12.50", "--reason", "Ünïcode ✓"]) == 0
    assert "CN-2026-0001" in capsys.readouterr().out
    out = tmp_path / "cn.pdf"
    assert main(["invoices", "pdf", "CN-2026-0001", "--out", str(out)]) == 0
    text = pdf_text(out.read_bytes(), tmp_path)
    assert "CREDIT NOTE" in text and number in text and "Ünïcode ✓" in text
    assert main(["invoices", "void", number, "--reason", "x", "--waive"]) == 1
    assert "credit notes" in capsys.readouterr().err
    assert main(["invoices", "pdf", "CN-2099-0001", "--out", str(out)]) == 1
    listed = corrections.credit_notes(demo)
    assert json.loads(listed.to_json(orient="records"))[0]["number"] == "CN-2026-0001"


def test_a_credit_note_is_in_its_months_accounting_export_negative(demo: Settings) -> None:
    from sales_core import accounting
    from sales_core.billing import Month

    invoice = generate(demo, NOVEMBER, actor=BILLER, push=False).created[0]
    authorize_many(demo, [str(invoice.number)], actor=BILLER)
    note = corrections.credit(
        demo, str(invoice.number), "25", reason="outage", actor=BILLER, today=TODAY
    )
    frame = accounting.lines(demo, Month.of(TODAY)).set_index("number")
    assert frame.loc[note.number, "kind"] == "ACCRECCREDIT"
    exported = accounting.export(demo, Month.of(TODAY), "xero")
    text = exported.decode("utf-8-sig") if isinstance(exported, bytes) else str(exported)
    (row,) = [line for line in text.splitlines() if note.number in line]
    assert "-25.00" in row
