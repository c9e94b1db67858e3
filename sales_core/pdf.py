"""Invoice PDFs (fpdf2): the PDF boundary.

Labels are printed in the PDF core font Helvetica (nothing to embed). The data (names,
descriptions, addresses) too when it fits Windows-1252, which most Western names and €/– do;
otherwise in the fonts shipped in `sales_core/fonts`, shaped, right-to-left scripts laid out
right to left. A character that no font has stops that document's PDF with a message naming
the field (`sales_core.fonts.printing`).

The same invoice always gives the same bytes: the creation date is the issue date, and nothing
else in the file depends on the clock.
"""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from sales_core import money
from sales_core.errors import BillingError, PdfError, UnprintableTextError
from sales_core.fonts.printing import CORE_ENCODING, check_printable, use_fonts
from sales_core.invoice import Invoice
from sales_core.vocabulary import InvoiceStatus


@dataclass(frozen=True)
class Seller:
    """Who sends the invoice and how to pay it (from the settings)."""

    name: str
    address: str
    payment_instructions: str


def _seller_fields(seller: Seller) -> tuple[tuple[str, str], ...]:
    return (
        ("seller name", seller.name),
        ("seller address", seller.address),
        ("payment instructions", seller.payment_instructions),
    )


def _invoice_fields(doc: Invoice, seller: Seller) -> tuple[tuple[str, str], ...]:
    """Each text the invoice prints from data, with the field's name for an error message."""
    return (
        ("Bill to name", doc.community),
        ("contract name", doc.contract_name),
        ("billing email", doc.billing_email or ""),
        *((f"description of line {n}", line.description) for n, line in enumerate(doc.lines, 1)),
        *((f"detail of line {n}", line.detail) for n, line in enumerate(doc.lines, 1)),
        *_seller_fields(seller),
    )


class _InvoicePDF(FPDF):
    def __init__(self, footer_text: str) -> None:
        super().__init__(format="A4", unit="mm")
        self._footer_text = footer_text
        self.footer_font = "helvetica"  # the data font when the footer quotes data (a name)
        self.core_fonts_encoding = CORE_ENCODING  # €, – and “quotes” without embedding a font

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font(self.footer_font, size=8)
        self.set_text_color(120, 120, 120)
        self.cell(0, 5, self._footer_text, align="C")


def _document(
    name: str,
    footer: str,
    title: str,
    seller: Seller,
    dated: date,
    fields: tuple[tuple[str, str], ...],
) -> tuple[_InvoicePDF, str]:
    """A new A4 document on its first page, and the font its data prints in.

    Dated `dated` (nothing depends on the clock, so the same content gives the same bytes).
    Raises `UnprintableTextError`, naming the document `name` and the field, when a field has
    a character no font can print. Text that fits Windows-1252 embeds no font.
    """
    for field, text in fields:
        check_printable(name, field, text)
    pdf = _InvoicePDF(footer)
    pdf.set_creation_date(datetime(dated.year, dated.month, dated.day, tzinfo=UTC))
    pdf.set_title(title)
    pdf.set_author(seller.name)
    pdf.set_producer("sales-core")
    data_font = use_fonts(pdf, (text for _, text in fields))
    pdf.footer_font = data_font
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()
    return pdf, data_font


def _number_of(doc: Invoice) -> str:
    if doc.number is None:
        raise BillingError(f"Invoice {doc.invoice_key} has no number yet: it cannot be printed.")
    return doc.number


def render_invoice(doc: Invoice, seller: Seller) -> bytes:
    """One invoice as PDF bytes; identical bytes for an identical invoice.

    Most invoices only need Windows-1252 (Western names, €, –): they use the core font
    Helvetica and embed nothing, which is several times faster. Others embed the fonts their
    text needs. Raises `UnprintableTextError` for a character that no font has.
    """
    number = _number_of(doc)
    pdf, data_font = _document(
        number,
        f"{number} - page 1",
        f"Invoice {number}",
        seller,
        doc.issue_date,
        _invoice_fields(doc, seller),
    )
    width = pdf.epw
    left = pdf.l_margin

    def label(text: str, size: float = 9, bold: bool = False) -> None:
        pdf.set_font("helvetica", "B" if bold else "", size)
        pdf.set_text_color(90, 90, 90)
        pdf.cell(0, 5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0, 0, 0)

    def data(text: str, size: float = 10, height: float = 5, w: float = 0) -> None:
        pdf.set_font(data_font, "", size)
        if "\n" in text or pdf.get_string_width(text) > (w or width):
            pdf.multi_cell(w or width, height, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        else:
            pdf.cell(w or width, height, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    # Seller and title
    data(seller.name, size=14, height=7)
    data(seller.address, size=9, height=4.5)
    pdf.ln(4)
    pdf.set_font("helvetica", "B", 22)
    pdf.cell(width / 2, 12, "INVOICE")
    pdf.set_font("helvetica", "B", 12)
    pdf.cell(width / 2, 12, number, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if doc.status == InvoiceStatus.VOID:
        pdf.set_text_color(180, 0, 0)
        pdf.cell(0, 7, "VOID", align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0, 0, 0)
    pdf.ln(2)

    # Dates on the right, the buyer on the left
    top = pdf.get_y()
    facts = [
        ("Invoice number", number),
        ("Issue date", doc.issue_date.isoformat()),
        ("Due date", doc.due_date.isoformat()),
        ("Terms", f"Net {doc.payment_terms_days} days"),
        ("Currency", doc.currency),
    ]
    pdf.set_font("helvetica", "", 9)
    for name, value in facts:
        pdf.set_x(left + width * 0.55)
        pdf.cell(width * 0.2, 5.5, name)
        pdf.cell(width * 0.25, 5.5, value, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    after_facts = pdf.get_y()
    pdf.set_xy(left, top)
    label("BILL TO", bold=True)
    data(doc.community, size=11, height=5.5, w=width * 0.5)
    data(f"Contract: {doc.contract_name}", size=9, w=width * 0.5)
    if doc.billing_email:
        data(doc.billing_email, size=9, w=width * 0.5)
    pdf.set_y(max(pdf.get_y(), after_facts) + 8)

    # The invoice line
    widths = [width * share for share in (0.52, 0.26, 0.07, 0.15)]
    pdf.set_fill_color(236, 242, 242)
    pdf.set_font("helvetica", "B", 9)
    for title, w, align in zip(
        ("Description", "Service period", "Days", "Amount"),
        widths,
        ("L", "L", "R", "R"),
        strict=True,
    ):
        pdf.cell(w, 7, title, align=align, fill=True)
    pdf.ln(7)
    pdf.set_font(data_font, "", 9)
    for line in doc.lines:
        line_top = pdf.get_y()
        pdf.multi_cell(
            widths[0], 5, line.description, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
        description_bottom = pdf.get_y()
        pdf.set_xy(left + widths[0], line_top)
        period = (
            f"{line.period_start} – {line.period_end}"
            if line.period_start and line.period_end
            else ""
        )
        pdf.multi_cell(
            widths[1],
            5,
            "\n".join(part for part in (period, line.detail) if part),
            align="L",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        period_bottom = pdf.get_y()
        pdf.set_xy(left + widths[0] + widths[1], line_top)
        pdf.cell(widths[2], 5, "" if line.days is None else str(line.days), align="R")
        pdf.cell(widths[3], 5, money.grouped(line.amount, doc.currency), align="R")
        pdf.set_y(max(description_bottom, period_bottom) + 3)
    pdf.set_draw_color(180, 180, 180)
    pdf.line(left, pdf.get_y(), left + width, pdf.get_y())
    pdf.ln(3)

    # Total
    pdf.set_font("helvetica", "B", 11)
    pdf.cell(width * 0.7, 8, "Amount due", align="R")
    pdf.cell(
        width * 0.3,
        8,
        f"{doc.currency} {money.grouped(doc.amount, doc.currency)}",
        align="R",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.ln(10)

    # Payment
    label("PAYMENT", bold=True)
    data(seller.payment_instructions, size=9, height=4.5)
    data(f"Please pay by {doc.due_date.isoformat()} and quote {number}.", size=9, height=4.5)
    return bytes(pdf.output())


@dataclass(frozen=True)
class StatementLine:
    """One open invoice on a statement."""

    number: str
    issue_date: date | None
    due_date: date | None
    days_past_due: int
    amount: Decimal
    paid: Decimal
    balance: Decimal
    currency: str


def render_statement(community: str, lines: list[StatementLine], seller: Seller, on: date) -> bytes:
    """A community's statement of account on day `on`: every open invoice with its balance and
    days past due, and the balance due per currency. The same statement gives the same bytes."""
    pdf, data_font = _document(
        f"The statement for {community}",
        f"Statement for {community} - {on.isoformat()}",
        f"Statement of account, {community}",
        seller,
        on,
        (("community name", community), *_seller_fields(seller)),
    )
    width = pdf.epw
    pdf.set_font(data_font, "", 14)
    pdf.cell(0, 7, seller.name, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(data_font, "", 9)
    pdf.multi_cell(width, 4.5, seller.address, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    pdf.set_font("helvetica", "B", 18)
    pdf.cell(0, 10, "STATEMENT OF ACCOUNT", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("helvetica", "", 9)
    pdf.cell(0, 5, f"As of {on.isoformat()}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    pdf.set_font(data_font, "", 11)
    pdf.multi_cell(width, 5.5, community, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    titles = ("Invoice", "Issued", "Due", "Days late", "Amount", "Paid", "Balance")
    widths = [width * w for w in (0.2, 0.12, 0.12, 0.1, 0.16, 0.14, 0.16)]
    pdf.set_fill_color(236, 242, 242)
    pdf.set_font("helvetica", "B", 9)
    for title, w in zip(titles, widths, strict=True):
        pdf.cell(
            w, 7, title, align="L" if title in ("Invoice", "Issued", "Due") else "R", fill=True
        )
    pdf.ln(7)
    pdf.set_font("helvetica", "", 9)
    totals: dict[str, Decimal] = {}
    for line in lines:
        cells = (
            line.number,
            "" if line.issue_date is None else line.issue_date.isoformat(),
            "" if line.due_date is None else line.due_date.isoformat(),
            str(line.days_past_due),
            money.grouped(line.amount, line.currency),
            money.grouped(line.paid, line.currency),
            f"{line.currency} {money.grouped(line.balance, line.currency)}",
        )
        for value, w, title in zip(cells, widths, titles, strict=True):
            pdf.cell(w, 6, value, align="L" if title in ("Invoice", "Issued", "Due") else "R")
        pdf.ln(6)
        totals[line.currency] = totals.get(line.currency, Decimal(0)) + line.balance
    pdf.set_draw_color(180, 180, 180)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + width, pdf.get_y())
    pdf.ln(3)
    pdf.set_font("helvetica", "B", 11)
    if not lines:
        pdf.cell(0, 8, "Nothing is due.", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    for currency, total in sorted(totals.items()):
        pdf.cell(width * 0.7, 8, f"Balance due ({currency})", align="R")
        pdf.cell(
            width * 0.3,
            8,
            f"{currency} {money.grouped(total, currency)}",
            align="R",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
    pdf.ln(8)
    pdf.set_font("helvetica", "B", 9)
    pdf.cell(0, 5, "PAYMENT", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(data_font, "", 9)
    pdf.multi_cell(width, 4.5, seller.payment_instructions, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())


def pdf_path(directory: Path, number: str, issue_date: date) -> Path:
    """Where an invoice's PDF lives: `directory/<year of issue>/<number>.pdf`."""
    return directory / str(issue_date.year) / f"{number}.pdf"


def write_invoice(doc: Invoice, seller: Seller, directory: Path) -> Path:
    """Render one invoice to `directory/<year>/<number>.pdf` (written atomically)."""
    target = pdf_path(directory, _number_of(doc), doc.issue_date)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".pdf.partial")
    partial.write_bytes(render_invoice(doc, seller))
    partial.replace(target)
    return target


# Below this many invoices, starting a worker costs more than it saves.
PARALLEL_FROM = 40
# The workers' job files, inside INVOICE_DIR; what a killed run left is removed after an hour.
JOBS_FOLDER = ".pdf-jobs"
STALE_JOBS_SECONDS = 3600
# A worker's exit status when some of its invoices could not be printed (one line each on stderr).
UNPRINTABLE_EXIT = 2


def _remove_stale_jobs(jobs: Path) -> None:
    cutoff = time.time() - STALE_JOBS_SECONDS
    for leftover in jobs.glob("run-*"):
        try:
            if leftover.stat().st_mtime < cutoff:
                shutil.rmtree(leftover, ignore_errors=True)
        except OSError:
            continue  # another run removed it meanwhile


def write_invoices(
    documents: list[Invoice],
    seller: Seller,
    directory: Path,
    *,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
) -> list[Path]:
    """Render many invoices, spreading them over the machine's cores.

    The extra workers are separate Python processes (`python -m sales_core.pdf_worker`), not
    multiprocessing children: under Streamlit the main module is the page script, which
    'spawn' would run again in each child, and 'fork' is unsafe in a server with threads. This
    process renders its own share meanwhile. Paths come back in the documents' order.

    An invoice whose text no font can print gets no PDF, and the others still get theirs; then
    `UnprintableTextError` names each such invoice and field.
    """
    count = workers if workers is not None else min(4, os.cpu_count() or 1)
    if count <= 1 or len(documents) < PARALLEL_FROM:
        count = 1
    shares = [documents[i::count] for i in range(count)]
    children: list[subprocess.Popen[bytes]] = []
    unprintable: list[str] = []  # one message per invoice that no font could print
    jobs = directory / JOBS_FOLDER
    jobs.mkdir(parents=True, exist_ok=True)
    _remove_stale_jobs(jobs)
    # The job files hold invoice data: they stay inside INVOICE_DIR, and each worker deletes
    # its own as soon as it has read it.
    with tempfile.TemporaryDirectory(dir=jobs, prefix="run-") as scratch:
        try:
            for index, share in enumerate(shares[1:], start=1):
                job = Path(scratch) / f"share-{index}.pickle"
                job.write_bytes(pickle.dumps((share, seller, directory)))
                children.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "sales_core.pdf_worker", str(job), str(os.getpid())],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE,
                    )
                )
            own = shares[0]
            for done, doc in enumerate(own, start=1):
                try:
                    write_invoice(doc, seller, directory)
                except UnprintableTextError as exc:
                    unprintable.append(str(exc))
                if progress is not None and (done % 10 == 0 or done == len(own)):
                    progress(done * count)
            for child in children:
                _, errors = child.communicate()
                said = errors.decode(errors="replace")
                if child.returncode == UNPRINTABLE_EXIT:
                    unprintable.extend(said.splitlines())
                elif child.returncode != 0:
                    raise PdfError(f"A PDF worker failed: {said[-500:]}")
        finally:
            for child in children:  # after an error here, no worker outlives the run
                if child.poll() is None:
                    child.kill()
                    child.wait()
    if unprintable:
        raise UnprintableTextError("; ".join(sorted(unprintable)))
    if progress is not None:
        progress(len(documents))
    return [pdf_path(directory, _number_of(d), d.issue_date) for d in documents]
