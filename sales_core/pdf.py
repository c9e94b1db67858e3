"""The PDF boundary: invoices, statements and credit notes, and writing many at once.

The page, the fonts and the seller block are `pdf_base.py`'s, the invoice document is
`pdf_invoice.py`'s; this module adds the statement and the credit note, and writes a run's
invoices to INVOICE_DIR, spread over the machine's cores.
"""

from __future__ import annotations

import os
import pickle
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from fpdf.enums import XPos, YPos

from sales_core import money
from sales_core.errors import PdfError, UnprintableTextError
from sales_core.invoice import Invoice
from sales_core.pdf_base import Seller, document, number_of, payment_block, seller_block
from sales_core.pdf_base import seller_fields as _seller_fields
from sales_core.pdf_invoice import render_invoice

__all__ = ["Seller", "render_credit_note", "render_invoice", "render_statement"]


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
    pdf, data_font = document(
        f"The statement for {community}",
        f"Statement for {community} - {on.isoformat()}",
        f"Statement of account, {community}",
        seller,
        on,
        (("community name", community), *_seller_fields(seller)),
    )
    width = pdf.epw
    seller_block(pdf, data_font, seller)
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
    if lines:
        payment_block(pdf, data_font, seller, "Please quote the invoice numbers with your payment.")
    return bytes(pdf.output())


@dataclass(frozen=True)
class CreditNoteDoc:
    """What a credit note prints: its number and date, the invoice it credits, and why."""

    number: str
    issue_date: date
    credited_number: str
    credited_issue_date: date | None
    community: str
    amount: Decimal
    currency: str
    reason: str
    remaining: Decimal  # what the invoice still holds after its credits


def render_credit_note(doc: CreditNoteDoc, seller: Seller) -> bytes:
    """One credit note as PDF bytes; the same credit note gives the same bytes."""
    fields = (("community name", doc.community), ("reason", doc.reason), *_seller_fields(seller))
    pdf, data_font = document(
        doc.number,
        f"{doc.number} - page 1",
        f"Credit note {doc.number}",
        seller,
        doc.issue_date,
        fields,
    )
    width = pdf.epw

    def data(text: str, size: float = 10, height: float = 5) -> None:
        pdf.set_font(data_font, "", size)
        pdf.multi_cell(width, height, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    seller_block(pdf, data_font, seller)
    pdf.ln(4)
    pdf.set_font("helvetica", "B", 22)
    pdf.cell(width / 2, 12, "CREDIT NOTE")
    pdf.set_font("helvetica", "B", 12)
    pdf.cell(width / 2, 12, doc.number, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    pdf.set_font("helvetica", "", 9)
    credited = doc.credited_number + (
        f" of {doc.credited_issue_date.isoformat()}" if doc.credited_issue_date else ""
    )
    for name, value in (
        ("Credit note", doc.number),
        ("Date", doc.issue_date.isoformat()),
        ("Credits invoice", credited),
        ("Currency", doc.currency),
    ):
        pdf.cell(width * 0.25, 5.5, name)
        pdf.cell(width * 0.75, 5.5, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)
    pdf.set_font("helvetica", "B", 9)
    pdf.cell(0, 5, "CREDITED TO", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    data(doc.community, size=11, height=5.5)
    pdf.ln(3)
    pdf.set_font("helvetica", "B", 9)
    pdf.cell(0, 5, "REASON", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    data(doc.reason, size=10)
    pdf.ln(4)
    pdf.set_font("helvetica", "B", 11)
    totals: tuple[tuple[str, Decimal], ...] = (
        ("Amount credited", doc.amount),
        (f"{doc.credited_number} still holds", doc.remaining),
    )
    for name, amount in totals:
        pdf.cell(width * 0.7, 8, name, align="R")
        pdf.cell(
            width * 0.3,
            8,
            f"{doc.currency} {money.grouped(amount, doc.currency)}",
            align="R",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
    pdf.ln(6)
    pdf.set_font("helvetica", "", 9)
    pdf.multi_cell(
        width,
        4.5,
        "This credit note reduces the balance of the invoice it credits. No payment is due for it.",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    return bytes(pdf.output())


def pdf_path(directory: Path, number: str, issue_date: date) -> Path:
    """Where an invoice's PDF lives: `directory/<year of issue>/<number>.pdf`."""
    return directory / str(issue_date.year) / f"{number}.pdf"


def write_invoice(doc: Invoice, seller: Seller, directory: Path) -> Path:
    """Render one invoice to `directory/<year>/<number>.pdf` (written atomically).

    Each writer has a temporary file of its own: two runs may write the same PDF at once (one
    generating, the other repairing the PDFs an earlier run left missing), and the second
    rename must not find the first one's file gone. Both write the same document.
    """
    target = pdf_path(directory, number_of(doc), doc.issue_date)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}.partial")
    try:
        partial.write_bytes(render_invoice(doc, seller))
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
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
    return [pdf_path(directory, number_of(d), d.issue_date) for d in documents]
