"""The invoice PDF: identical bytes for an identical invoice, fonts chosen by the text."""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from sales_core import pdf
from sales_core.errors import SalesError, UnprintableTextError
from sales_core.invoice import Invoice, InvoiceLine
from sales_core.pdf import Seller, render_invoice
from sales_core.vocabulary import InvoiceStatus, LineKind

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
        status=InvoiceStatus.AUTHORIZED,
        billing_contact="Chloé Martin",
        billing_address=(
            "Accounts Payable\n2900 boul. Édouard-Montpetit\nMontréal QC H3T 1J4\nCanada"
        ),
        po_number="PO-2026-04711",
        customer_tax_id="CA 123456789 RT0001",
    )


GOLDEN_SELLER = Seller(
    name="Managed Hubs Collaborative",
    address="1 Example Street\nSpringfield",
    tax_id="EIN 12-3456789",
    email="billing@managedhubs.example",
    bank_name="Example Community Bank",
    account_name="Managed Hubs Collaborative",
    iban="DE89370400440532013000",
    bic="COBADEFFXXX",
    remittance_email="remittance@managedhubs.example",
    payment_instructions="€ accepted; quote the invoice number.",
    notes="Thank you for supporting open science.",
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


def numbered(count: int) -> list[Invoice]:
    return [replace(golden_document(), number=f"INV-2026-{n:04d}") for n in range(1, count + 1)]


def test_workers_keep_their_job_data_inside_invoice_dir_and_leave_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    system_temp = tmp_path / "system-temp"
    system_temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_temp))
    out = tmp_path / "invoices"
    paths = pdf.write_invoices(numbered(pdf.PARALLEL_FROM), GOLDEN_SELLER, out, workers=2)
    assert all(p.exists() for p in paths) and len(paths) == pdf.PARALLEL_FROM
    assert list(system_temp.iterdir()) == []
    assert list((out / pdf.JOBS_FOLDER).iterdir()) == []


def test_a_worker_whose_run_has_died_stops_before_its_next_pdf(tmp_path: Path) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a process id that is no longer this worker's parent
    job = tmp_path / "share-1.pickle"
    job.write_bytes(pickle.dumps((numbered(3), GOLDEN_SELLER, tmp_path / "out")))
    worker = subprocess.run(
        [sys.executable, "-m", "sales_core.pdf_worker", str(job), str(gone.pid)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert worker.returncode == 3 and "has ended" in worker.stderr
    assert not job.exists()  # the invoice data is gone with it
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").rglob("*.pdf"))


def test_stale_job_folders_of_a_killed_run_are_removed(tmp_path: Path) -> None:
    jobs = tmp_path / "invoices" / pdf.JOBS_FOLDER
    stale, fresh = jobs / "run-old", jobs / "run-new"
    for folder in (stale, fresh):
        folder.mkdir(parents=True)
        (folder / "share-1.pickle").write_bytes(b"invoice data")
    old = time.time() - pdf.STALE_JOBS_SECONDS - 60
    os.utime(stale, (old, old))
    pdf.write_invoices(numbered(1), GOLDEN_SELLER, tmp_path / "invoices")
    assert not stale.exists() and fresh.exists()  # a running run's folder is left alone


# Every script: names in each of them print, shaped, right-to-left runs right to left.
NAMES = {
    "Japanese": "東京大学 情報基盤センター",
    "Chinese": "清华大学 数据科学研究院",
    "Korean": "서울대학교 연구 허브",
    "Arabic": "جامعة القاهرة",
    "Hebrew": "האוניברסיטה העברית",
    "Greek": "Εθνικό Μετσόβιο Πολυτεχνείο",
    "Cyrillic": "Новосибирский университет",
}


def readable(data: bytes, tmp_path: Path) -> str:
    """The PDF's text as pdftotext gives it, without the embedding marks it puts around a
    right-to-left run (U+202B before, U+202C after), whose letters it gives in logical order."""
    return pdf_text(data, tmp_path).replace("\u202b", "").replace("\u202c", "")


@pytest.mark.parametrize("script", NAMES)
def test_pdf__a_name_in_each_script_prints(script: str, tmp_path: Path) -> None:
    name = NAMES[script]
    doc = replace(golden_document(), community=name, contract_name=f"{name} hub")
    text = readable(render_invoice(doc, GOLDEN_SELLER), tmp_path)
    assert name in text.splitlines()
    contract = next(line for line in text.splitlines() if line.startswith("Contract:"))
    assert name in contract and "hub" in contract


def test_pdf__right_to_left_runs_come_back_in_logical_order(tmp_path: Path) -> None:
    """Laid out left to right, pdftotext would read the Arabic letters backwards."""
    arabic, hebrew = NAMES["Arabic"], NAMES["Hebrew"]
    doc = replace(golden_document(), community=arabic, contract_name=f"Hub for {hebrew} 2026")
    raw = pdf_text(render_invoice(doc, GOLDEN_SELLER), tmp_path)
    assert f"\u202b{arabic}\u202c" in raw  # one right-to-left run, in reading order
    assert arabic[::-1] not in raw
    contract = next(line for line in raw.splitlines() if line.startswith("Contract: Hub for"))
    assert f"\u202b{hebrew}\u202c" in contract and contract.endswith("2026")  # in a Latin line


def test_pdf__a_document_embeds_only_the_fonts_its_text_needs() -> None:
    korean = render_invoice(replace(golden_document(), community=NAMES["Korean"]), GOLDEN_SELLER)
    assert b"+NotoSansCJKKR" in korean and b"+DejaVuSans" in korean
    assert b"+NotoSansCJKJP" not in korean and b"+NotoSansArabic" not in korean


def test_pdf__a_statement_prints_every_script(tmp_path: Path) -> None:
    community = f"{NAMES['Japanese']} / {NAMES['Arabic']}"
    produced = pdf.render_statement(community, [], GOLDEN_SELLER, date(2026, 5, 1))
    text = readable(produced, tmp_path)
    assert NAMES["Japanese"] in text and NAMES["Arabic"] in text


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("Bill to name", {"community": "Card club 🂡"}),
        ("contract name", {"contract_name": "Party hub 🎉"}),
    ],
)
def test_pdf__a_character_no_font_has_fails_naming_invoice_and_field(
    field: str, change: dict[str, str]
) -> None:
    doc = replace(golden_document(), number="INV-2026-0007", **change)  # type: ignore[arg-type]
    with pytest.raises(UnprintableTextError) as raised:
        render_invoice(doc, GOLDEN_SELLER)
    character = next(iter(change.values()))[-1]
    assert str(raised.value) == (
        f"INV-2026-0007: the {field} has characters no font can print: "
        f"{character} (U+{ord(character):04X})"
    )
    assert isinstance(raised.value, SalesError)


def test_pdf__an_unprintable_seller_setting_fails_a_statement_too() -> None:
    seller = replace(GOLDEN_SELLER, address="1 Example Street \U000e0001")  # a language tag
    with pytest.raises(
        UnprintableTextError, match=r"statement for Hub: the seller address .*E0001"
    ):
        pdf.render_statement("Hub", [], seller, date(2026, 5, 1))


def test_an_unprintable_invoice_gets_no_pdf_and_the_others_theirs(tmp_path: Path) -> None:
    documents = numbered(pdf.PARALLEL_FROM)
    documents[1] = replace(documents[1], community="Card club 🂡")  # the worker's share
    documents[2] = replace(documents[2], contract_name="Party 🎉")  # this process's share
    out = tmp_path / "invoices"
    with pytest.raises(UnprintableTextError) as raised:
        pdf.write_invoices(documents, GOLDEN_SELLER, out, workers=2)
    assert str(raised.value) == (
        "INV-2026-0002: the Bill to name has characters no font can print: 🂡 (U+1F0A1); "
        "INV-2026-0003: the contract name has characters no font can print: 🎉 (U+1F389)"
    )
    written = sorted(path.stem for path in out.rglob("*.pdf"))
    assert written == sorted(
        d.number for d in documents if d.number not in {"INV-2026-0002", "INV-2026-0003"}
    )


@pytest.mark.parametrize(
    ("text", "families"),
    [
        ("Université de Montréal", set()),  # Windows-1252: the core font, no file opened
        ("Ελληνικό", {"dejavu"}),
        ("서울대학교", {"dejavu", "notohangul"}),
        ("똠방각하", {"dejavu", "notohangul", "notohangulrare"}),  # 똠 is not in KS X 1001
        ("東京大学", {"dejavu", "notocjk"}),
        ("東京大学 جامعة", {"dejavu", "notoarabic", "notocjk"}),
    ],
)
def test_fonts__a_document_opens_only_the_font_files_its_text_needs(
    text: str, families: set[str]
) -> None:
    from fpdf import FPDF

    from sales_core.fonts.printing import use_fonts

    document = FPDF()
    use_fonts(document, [text])
    assert set(document.fonts) == families


def test_the_document_prints_every_field_accounts_payable_asks_for(tmp_path: Path) -> None:
    workshop = InvoiceLine(
        kind=LineKind.CHARGE,
        description="Instructor training workshop",
        amount=Decimal("3000.00"),
        period_start=date(2026, 5, 10),
        period_end=date(2026, 5, 11),
        charge_id="recCH1",
        charge_kind="Service",
        quantity=Decimal(2),
        unit_price=Decimal("1500.00"),
        detail="2 × 1500",
    )
    doc = replace(
        golden_document(),
        lines=(*golden_document().lines, workshop),
        credited=Decimal("387.10"),
        amount_paid=Decimal("1000.00"),
    )
    text = pdf_text(render_invoice(doc, GOLDEN_SELLER), tmp_path)
    for shown in (
        "Managed Hubs Collaborative",
        "EIN 12-3456789",
        "billing@managedhubs.example",
        "Example Community Bank",
        "DE89 3704 0044 0532 0130 00",
        "COBADEFFXXX",
        "remittance@managedhubs.example",
        "Thank you for supporting open science.",
        "Attn: Chloé Martin",
        "2900 boul. Édouard-Montpetit",
        "PO-2026-04711",
        "Tax ID: CA 123456789 RT0001",
        "factures@umontreal.example",
        "Net 30 days",
        "Instructor training workshop",
        "1500",
        "2026-05-10 – 2026-05-11",
        "12 of 31 days + 1 month",
    ):
        assert shown in text, shown
    # Subtotal 4,387.10, credits −387.10, total 4,000.00, paid 1,000.00, balance 3,000.00.
    order = ["Subtotal", "Credits", "Total", "Amount paid", "Balance due"]
    assert [text.index(word) for word in order] == sorted(text.index(word) for word in order)
    for amount in ("EUR 4,387.10", "EUR -387.10", "EUR 4,000.00", "EUR 1,000.00", "EUR 3,000.00"):
        assert amount in text, amount
    assert "Please pay EUR 3,000.00 by 2026-05-31 and quote INV-2026-0042." in text


def test_the_state_shows_draft_void_and_paid_and_only_authorized_asks_for_payment(
    tmp_path: Path,
) -> None:
    base = golden_document()
    draft = pdf_text(
        render_invoice(replace(base, status=InvoiceStatus.DRAFT), GOLDEN_SELLER), tmp_path
    )
    assert "DRAFT" in draft and "asks for no payment" in draft and "Please pay" not in draft
    assert "IBAN" not in draft  # no payment details on a draft
    void = replace(base, status=InvoiceStatus.VOID, void_reason="Billed twice – see INV-2026-0043")
    text = pdf_text(render_invoice(void, GOLDEN_SELLER), tmp_path)
    assert "VOID" in text and "Billed twice – see INV-2026-0043" in text
    assert "Please pay" not in text and "Balance due" not in text and "nothing is due" in text
    paid = replace(
        base, status=InvoiceStatus.PAID, paid_date=date(2026, 6, 10), amount_paid=Decimal("1387.10")
    )
    text = pdf_text(render_invoice(paid, GOLDEN_SELLER), tmp_path)
    assert "PAID" in text and "Paid on 2026-06-10" in text and "Please pay" not in text
    assert text.index("Balance due") < text.index("EUR 0.00", text.index("Amount paid"))
    # The same state gives the same bytes; another state other bytes.
    assert render_invoice(paid, GOLDEN_SELLER) == render_invoice(paid, GOLDEN_SELLER)
    assert render_invoice(paid, GOLDEN_SELLER) != render_invoice(base, GOLDEN_SELLER)


def test_two_writers_of_the_same_pdf_at_once_both_succeed(tmp_path: Path) -> None:
    # A run repairing the PDFs an earlier run left missing may write the one another run is
    # writing: each writer renames a temporary file of its own into place.
    from concurrent.futures import ThreadPoolExecutor

    doc = golden_document()
    out = tmp_path / "invoices"
    with ThreadPoolExecutor(max_workers=4) as pool:
        paths = list(pool.map(lambda _: pdf.write_invoice(doc, GOLDEN_SELLER, out), range(8)))
    assert len(set(paths)) == 1
    assert paths[0].read_bytes() == render_invoice(doc, GOLDEN_SELLER)
    assert [p.name for p in paths[0].parent.iterdir()] == [paths[0].name]  # no file left over
