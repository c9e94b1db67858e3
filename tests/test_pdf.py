"""The invoice PDF: identical bytes for an identical invoice, fonts chosen by the text."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

from sales_core.invoice import Invoice, InvoiceLine
from sales_core.pdf import Seller, render_invoice
from sales_core.vocabulary import LineKind

GOLDEN = Path(__file__).resolve().parent / "golden"


def golden_document() -> Invoice:
    fee = InvoiceLine(
        kind=LineKind.FEE,
        description=(
            "Hub service (UdeM hub service 2026), 2026-05-20 – 2026-06-30: 12 of 31 days + 1 month"
        ),
        amount=Decimal("1387.10"),
        period_start=date(2026, 5, 20),
        period_end=date(2026, 6, 30),
        days=42,
        detail="12 of 31 days + 1 month",
    )
    return Invoice(
        invoice_key="recUdeM/2026-05-20/2026-06-30",
        contract_id="recUdeM",
        number="INV-2026-0042",
        issue_date=date(2026, 5, 1),
        due_date=date(2026, 5, 31),
        community="Université de Montréal – Research Hub",
        contract_name="UdeM hub service 2026",
        billing_email="factures@umontreal.example",
        period_start=date(2026, 5, 20),
        period_end=date(2026, 6, 30),
        currency="EUR",
        lines=(fee,),
    )


GOLDEN_SELLER = Seller(
    "Managed Hubs Collaborative",
    "1 Example Street\nSpringfield",
    "Pay to IBAN XX00 0000 (€ accepted).",
)


def test_pdf__golden_bytes() -> None:
    produced = render_invoice(golden_document(), GOLDEN_SELLER)
    golden = GOLDEN / "invoice-INV-2026-0042.pdf"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_bytes(produced)
    assert produced == golden.read_bytes(), "rerun with UPDATE_GOLDEN=1 after a deliberate change"
    assert render_invoice(golden_document(), GOLDEN_SELLER) == produced


def pdf_text(data: bytes, tmp_path: Path) -> str:
    source = tmp_path / "invoice.pdf"
    source.write_bytes(data)
    return subprocess.run(
        ["pdftotext", str(source), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_pdf__western_text_needs_no_embedded_font(tmp_path: Path) -> None:
    produced = render_invoice(golden_document(), GOLDEN_SELLER)
    assert b"/FontFile2" not in produced  # Windows-1252 covers é, – and €
    if shutil.which("pdftotext"):
        text = pdf_text(produced, tmp_path)
        assert "Université de Montréal – Research Hub" in text
        assert "EUR 1,387.10" in text and "€ accepted" in text


def test_pdf__other_scripts_embed_dejavu(tmp_path: Path) -> None:
    doc = replace(golden_document(), community="Uniwersytet Łódzki – Ελληνικό Ανοικτό Πανεπιστήμιο")
    produced = render_invoice(doc, GOLDEN_SELLER)
    assert b"/FontFile2" in produced and b"DejaVu" in produced
    if shutil.which("pdftotext"):
        assert "Uniwersytet Łódzki – Ελληνικό Ανοικτό" in pdf_text(produced, tmp_path)
