"""Invoice PDFs (fpdf2): the PDF boundary.

Labels are printed in the PDF core font Helvetica (ASCII, nothing to embed); everything that
comes from the data (names, descriptions, addresses) in DejaVu Sans, cut down to the scripts we
expect and embedded, with the full font as a fallback for any other character (see
`sales_core/fonts`). One embedded font per document keeps a page at about 0.01 s.

The same invoice always gives the same bytes: the creation date is the issue date, and nothing
else in the file depends on the clock.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from sales_core.fonts import FALLBACK, INVOICE_CODEPOINTS, REGULAR
from sales_core.models import CURRENCY_MINOR_UNITS

_COVERED = frozenset(INVOICE_CODEPOINTS) | {0x0A, 0x0D}
DATA_FONT = "DejaVu"
WIDE_FONT = "DejaVuFull"


@dataclass(frozen=True)
class Seller:
    """Who sends the invoice and how to pay it (from the settings)."""

    name: str
    address: str
    payment_instructions: str


@dataclass(frozen=True)
class InvoiceDocument:
    """Everything printed on one invoice."""

    number: str
    issue_date: date
    due_date: date
    payment_terms_days: int
    community: str
    contract_name: str
    billing_email: str | None
    description: str
    period_start: date
    period_end: date
    days: int
    proration: str
    amount: Decimal
    currency: str
    status: str = "Draft"


def format_amount(amount: Decimal, currency: str) -> str:
    """'1,387.10' (or '66,666' for JPY): the currency's minor unit, thousands separated."""
    places = CURRENCY_MINOR_UNITS.get(currency, 2)
    return f"{amount:,.{places}f}"


def _needs_full_font(doc: InvoiceDocument, seller: Seller) -> bool:
    texts = (
        doc.community,
        doc.contract_name,
        doc.billing_email or "",
        doc.description,
        seller.name,
        seller.address,
        seller.payment_instructions,
    )
    return any(ord(ch) not in _COVERED for text in texts for ch in text)


def _lines(pdf: FPDF, width: float, text: str) -> int:
    """How many lines `text` takes in a cell `width` wide, in the current font."""
    lines = pdf.multi_cell(width, 5, text, dry_run=True, output="LINES")
    return len(lines) if isinstance(lines, list) else 1


class _InvoicePDF(FPDF):
    def __init__(self, footer_text: str) -> None:
        super().__init__(format="A4", unit="mm")
        self._footer_text = footer_text

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("helvetica", size=8)
        self.set_text_color(120, 120, 120)
        self.cell(0, 5, self._footer_text, align="C")


def render_invoice(doc: InvoiceDocument, seller: Seller) -> bytes:
    """One invoice as PDF bytes; identical bytes for an identical invoice."""
    pdf = _InvoicePDF(f"{doc.number} - page 1")
    pdf.set_creation_date(
        datetime(doc.issue_date.year, doc.issue_date.month, doc.issue_date.day, tzinfo=UTC)
    )
    pdf.set_title(f"Invoice {doc.number}")
    pdf.set_author(seller.name)
    pdf.set_producer("sales-core")
    pdf.add_font(DATA_FONT, "", str(REGULAR))
    if _needs_full_font(doc, seller):
        pdf.add_font(WIDE_FONT, "", str(FALLBACK))
        pdf.set_fallback_fonts([WIDE_FONT], exact_match=False)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()
    width = pdf.epw

    def label(text: str, size: float = 9, bold: bool = False) -> None:
        pdf.set_font("helvetica", "B" if bold else "", size)
        pdf.set_text_color(90, 90, 90)
        pdf.cell(0, 5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0, 0, 0)

    def data(text: str, size: float = 10, height: float = 5) -> None:
        pdf.set_font(DATA_FONT, "", size)
        pdf.multi_cell(width, height, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    # Seller and title
    data(seller.name, size=14, height=7)
    data(seller.address, size=9, height=4.5)
    pdf.ln(4)
    pdf.set_font("helvetica", "B", 22)
    pdf.cell(width / 2, 12, "INVOICE")
    pdf.set_font("helvetica", "B", 12)
    pdf.cell(width / 2, 12, doc.number, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if doc.status == "Void":
        pdf.set_text_color(180, 0, 0)
        pdf.set_font("helvetica", "B", 12)
        pdf.cell(0, 7, "VOID", align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0, 0, 0)
    pdf.ln(2)

    # Dates and buyer, side by side
    top = pdf.get_y()
    facts = [
        ("Invoice number", doc.number),
        ("Issue date", doc.issue_date.isoformat()),
        ("Due date", doc.due_date.isoformat()),
        ("Terms", f"Net {doc.payment_terms_days} days"),
        ("Currency", doc.currency),
    ]
    pdf.set_xy(pdf.l_margin + width * 0.55, top)
    for name, value in facts:
        pdf.set_x(pdf.l_margin + width * 0.55)
        pdf.set_font("helvetica", "", 9)
        pdf.cell(width * 0.2, 5.5, name)
        pdf.set_font(DATA_FONT, "", 9)
        pdf.cell(width * 0.25, 5.5, value, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    after_facts = pdf.get_y()
    pdf.set_xy(pdf.l_margin, top)
    label("BILL TO", bold=True)
    pdf.set_font(DATA_FONT, "", 11)
    pdf.multi_cell(width * 0.5, 5.5, doc.community, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(DATA_FONT, "", 9)
    pdf.multi_cell(
        width * 0.5,
        5,
        f"Contract: {doc.contract_name}",
        align="L",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    if doc.billing_email:
        pdf.multi_cell(
            width * 0.5, 5, doc.billing_email, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
    pdf.set_y(max(pdf.get_y(), after_facts) + 8)

    # The line
    columns = (0.52, 0.26, 0.07, 0.15)
    pdf.set_fill_color(236, 242, 242)
    pdf.set_font("helvetica", "B", 9)
    for title, share, align in zip(
        ("Description", "Service period", "Days", "Amount"),
        columns,
        ("L", "L", "R", "R"),
        strict=True,
    ):
        pdf.cell(width * share, 7, title, align=align, fill=True)
    pdf.ln(7)
    pdf.set_font(DATA_FONT, "", 9)
    period = f"{doc.period_start} – {doc.period_end}\n{doc.proration}"
    widths = [width * share for share in columns]
    rows = max(_lines(pdf, widths[0], doc.description), _lines(pdf, widths[1], period))
    line_top = pdf.get_y()
    pdf.multi_cell(widths[0], 5, doc.description, align="L", new_x=XPos.RIGHT, new_y=YPos.TOP)
    pdf.multi_cell(widths[1], 5, period, align="L", new_x=XPos.RIGHT, new_y=YPos.TOP)
    pdf.cell(widths[2], 5, str(doc.days), align="R")
    pdf.cell(widths[3], 5, format_amount(doc.amount, doc.currency), align="R")
    pdf.set_y(line_top + 5 * rows + 3)
    pdf.set_draw_color(180, 180, 180)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + width, pdf.get_y())
    pdf.ln(3)

    # Total
    pdf.set_font("helvetica", "B", 11)
    pdf.cell(width * 0.7, 8, "Amount due", align="R")
    pdf.cell(
        width * 0.3,
        8,
        f"{doc.currency} {format_amount(doc.amount, doc.currency)}",
        align="R",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.ln(10)

    # Payment
    label("PAYMENT", bold=True)
    data(seller.payment_instructions, size=9, height=4.5)
    data(f"Please pay by {doc.due_date.isoformat()} and quote {doc.number}.", size=9, height=4.5)
    return bytes(pdf.output())


def write_invoice(doc: InvoiceDocument, seller: Seller, directory: Path) -> Path:
    """Render one invoice to `directory/<year>/<number>.pdf` (written atomically)."""
    target = directory / str(doc.issue_date.year) / f"{doc.number}.pdf"
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".pdf.partial")
    partial.write_bytes(render_invoice(doc, seller))
    partial.replace(target)
    return target


def _write_batch(batch: list[InvoiceDocument], seller: Seller, directory: Path) -> list[Path]:
    return [write_invoice(doc, seller, directory) for doc in batch]


# Below this many invoices, starting worker processes costs more than it saves.
PARALLEL_FROM = 40


def write_invoices(
    documents: list[InvoiceDocument],
    seller: Seller,
    directory: Path,
    *,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
) -> list[Path]:
    """Render many invoices, in order; on several cores, in worker processes.

    The workers are started with 'spawn' (never 'fork': the app's server has threads), and
    each renders a batch, so the fonts are read once per batch rather than once per invoice.
    """
    count = workers if workers is not None else min(4, os.cpu_count() or 1)
    if count <= 1 or len(documents) < PARALLEL_FROM:
        paths = []
        for done, doc in enumerate(documents, start=1):
            paths.append(write_invoice(doc, seller, directory))
            if progress is not None and (done % 10 == 0 or done == len(documents)):
                progress(done)
        return paths
    size = max(10, len(documents) // (count * 4))
    batches = [documents[i : i + size] for i in range(0, len(documents), size)]
    results: list[list[Path]] = [[] for _ in batches]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=count, mp_context=context) as pool:
        futures = {
            pool.submit(_write_batch, batch, seller, directory): i
            for i, batch in enumerate(batches)
        }
        done = 0
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            done += len(results[futures[future]])
            if progress is not None:
                progress(done)
    return [path for batch in results for path in batch]
