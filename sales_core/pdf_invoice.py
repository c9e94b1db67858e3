"""The invoice document (docs/billing.md, section 10): what an accounts-payable clerk needs.

Seller, bill to, the invoice's facts, one row per line, subtotal, credits, total, amount paid
and balance due, and its state drawn from where the invoice stands now: a Draft says DRAFT and
asks for no payment; a Void says VOID with its reason and asks for no payment; a Paid one shows
its payment date and a zero balance. The same invoice in the same state gives the same bytes.
"""

from __future__ import annotations

from decimal import Decimal

from fpdf.enums import XPos, YPos

from sales_core import money
from sales_core.invoice import Invoice
from sales_core.money import plain_number
from sales_core.pdf_base import (
    DocumentPDF,
    Seller,
    document,
    number_of,
    payment_block,
    seller_block,
    seller_fields,
)
from sales_core.vocabulary import InvoiceStatus

# The state stamp: its word, its colour and the line under it.
_STAMPS = {
    InvoiceStatus.DRAFT: ("DRAFT", (110, 110, 110)),
    InvoiceStatus.VOID: ("VOID", (180, 0, 0)),
    InvoiceStatus.PAID: ("PAID", (0, 120, 60)),
}


def invoice_fields(doc: Invoice, seller: Seller) -> tuple[tuple[str, str], ...]:
    """Each text the invoice prints from data, with the field's name for an error message."""
    return (
        ("Bill to name", doc.community),
        ("contract name", doc.contract_name),
        ("billing email", doc.billing_email or ""),
        ("billing contact", doc.billing_contact or ""),
        ("billing address", doc.billing_address or ""),
        ("PO number", doc.po_number or ""),
        ("customer tax id", doc.customer_tax_id or ""),
        ("void reason", doc.void_reason or ""),
        *((f"description of line {n}", line.description) for n, line in enumerate(doc.lines, 1)),
        *((f"detail of line {n}", line.detail) for n, line in enumerate(doc.lines, 1)),
        *seller_fields(seller),
    )


def _stamp_note(doc: Invoice) -> str:
    if doc.status == InvoiceStatus.DRAFT:
        return "Draft: not final, and not a request for payment."
    if doc.status == InvoiceStatus.VOID:
        return f"Void: {doc.void_reason}" if doc.void_reason else "Void."
    if doc.status == InvoiceStatus.PAID:
        return f"Paid on {doc.paid_date.isoformat()}" if doc.paid_date else "Paid."
    return ""


def render_invoice(doc: Invoice, seller: Seller) -> bytes:
    """One invoice as PDF bytes, in its current state; identical bytes for an identical one.

    Most invoices only need Windows-1252 (Western names, €, –): they use the core font
    Helvetica and embed nothing, which is several times faster. Others embed the fonts their
    text needs. Raises `UnprintableTextError` for a character that no font has.
    """
    number = number_of(doc)
    pdf, font = document(
        number,
        f"{number} - page 1",
        f"Invoice {number}",
        seller,
        doc.issue_date,
        invoice_fields(doc, seller),
    )
    width = pdf.epw
    left = pdf.l_margin

    def label(text: str) -> None:
        pdf.set_font("helvetica", "B", 9)
        pdf.set_text_color(90, 90, 90)
        pdf.cell(0, 5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0, 0, 0)

    def data(text: str, size: float = 10, height: float = 5, w: float = 0) -> None:
        pdf.set_font(font, "", size)
        if "\n" in text or pdf.get_string_width(text) > (w or width):
            pdf.multi_cell(w or width, height, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        else:
            pdf.cell(w or width, height, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    seller_block(pdf, font, seller)
    pdf.ln(4)
    pdf.set_font("helvetica", "B", 22)
    pdf.cell(width / 2, 12, "INVOICE")
    pdf.set_font("helvetica", "B", 12)
    pdf.cell(width / 2, 12, number, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    _stamp(pdf, doc, font)
    pdf.ln(2)

    # The facts on the right, the buyer on the left.
    top = pdf.get_y()
    facts = [
        ("Invoice number", number),
        ("Issue date", doc.issue_date.isoformat()),
        ("Due date", doc.due_date.isoformat()),
        ("Terms", f"Net {doc.payment_terms_days} days"),
        ("Currency", doc.currency),
    ]
    for name, value in facts + ([("PO number", doc.po_number)] if doc.po_number else []):
        pdf.set_x(left + width * 0.55)
        pdf.set_font("helvetica", "", 9)
        pdf.cell(width * 0.2, 5.5, name)
        pdf.set_font(font if name == "PO number" else "helvetica", "", 9)
        pdf.cell(width * 0.25, 5.5, value, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    after_facts = pdf.get_y()
    pdf.set_xy(left, top)
    half = width * 0.5
    label("BILL TO")
    data(doc.community, size=11, height=5.5, w=half)
    if doc.billing_contact:
        data(f"Attn: {doc.billing_contact}", size=9, w=half)
    if doc.billing_address:
        data(doc.billing_address, size=9, height=4.5, w=half)
    if doc.billing_email:
        data(doc.billing_email, size=9, w=half)
    if doc.customer_tax_id:
        data(f"Tax ID: {doc.customer_tax_id}", size=9, w=half)
    data(f"Contract: {doc.contract_name}", size=9, w=half)
    pdf.set_y(max(pdf.get_y(), after_facts) + 8)

    _lines(pdf, doc, font)
    _totals(pdf, doc)
    pdf.ln(8)

    # What the reader must do: pay, or nothing.
    if doc.status == InvoiceStatus.AUTHORIZED:
        payment_block(
            pdf,
            font,
            seller,
            f"Please pay {doc.currency} {money.grouped(doc.balance, doc.currency)} by "
            f"{doc.due_date.isoformat()} and quote {number}.",
        )
    else:
        label("PAYMENT")
        data(
            {
                InvoiceStatus.DRAFT: "This is a draft: it asks for no payment.",
                InvoiceStatus.VOID: "This invoice is void: nothing is due, do not pay it.",
                InvoiceStatus.PAID: "Paid in full: nothing is due. Thank you.",
            }.get(InvoiceStatus(doc.status), ""),
            size=9,
            height=4.5,
        )
    if seller.notes:
        pdf.ln(3)
        label("NOTES")
        data(seller.notes, size=9, height=4.5)
    return bytes(pdf.output())


def _stamp(pdf: DocumentPDF, doc: Invoice, font: str) -> None:
    stamp = _STAMPS.get(InvoiceStatus(doc.status)) if doc.status in _STAMPS else None
    if stamp is None:
        return
    word, colour = stamp
    pdf.set_text_color(*colour)
    pdf.set_font("helvetica", "B", 16)
    pdf.cell(0, 8, word, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(font, "", 9)
    pdf.multi_cell(0, 4.5, _stamp_note(doc), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)


def _lines(pdf: DocumentPDF, doc: Invoice, font: str) -> None:
    """One row per line: description, service period (and the proration), quantity, unit price,
    amount."""
    width = pdf.epw
    left = pdf.l_margin
    widths = [width * share for share in (0.42, 0.25, 0.08, 0.11, 0.14)]
    titles = ("Description", "Service period", "Qty", "Unit price", "Amount")
    aligns = ("L", "L", "R", "R", "R")
    pdf.set_fill_color(236, 242, 242)
    pdf.set_font("helvetica", "B", 9)
    for title, w, align in zip(titles, widths, aligns, strict=True):
        pdf.cell(w, 7, title, align=align, fill=True)
    pdf.ln(7)
    for line in doc.lines:
        line_top = pdf.get_y()
        pdf.set_font(font, "", 9)
        pdf.multi_cell(
            widths[0], 5, line.description, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
        bottom = pdf.get_y()
        pdf.set_xy(left + widths[0], line_top)
        period = (
            f"{line.period_start} – {line.period_end}"
            if line.period_start and line.period_end
            else ""
        )
        detail = "" if line.quantity is not None else line.detail  # e.g. the proration
        pdf.multi_cell(
            widths[1],
            5,
            "\n".join(part for part in (period, detail) if part),
            align="L",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        bottom = max(bottom, pdf.get_y())
        pdf.set_xy(left + widths[0] + widths[1], line_top)
        pdf.set_font("helvetica", "", 9)
        quantity = plain_number(line.quantity) if line.quantity is not None else ""
        price = plain_number(line.unit_price) if line.unit_price is not None else ""
        pdf.cell(widths[2], 5, quantity, align="R")
        pdf.cell(widths[3], 5, price, align="R")
        pdf.cell(widths[4], 5, money.grouped(line.amount, doc.currency), align="R")
        pdf.set_y(bottom + 3)
    pdf.set_draw_color(180, 180, 180)
    pdf.line(left, pdf.get_y(), left + width, pdf.get_y())
    pdf.ln(3)


def _totals(pdf: DocumentPDF, doc: Invoice) -> None:
    """Subtotal, credits, total, amount paid and balance due, in the invoice's currency."""
    width = pdf.epw
    rows: list[tuple[str, Decimal, bool]] = [("Subtotal", doc.amount, False)]
    if doc.credited:
        rows.append(("Credits", -doc.credited, False))
    rows.append(("Total", doc.total, True))
    paid = doc.total if doc.status == InvoiceStatus.PAID else doc.amount_paid
    if doc.status != InvoiceStatus.VOID:
        rows.append(("Amount paid", paid, False))
        rows.append(("Balance due", doc.balance, True))
    for name, value, bold in rows:
        pdf.set_font("helvetica", "B" if bold else "", 11 if bold else 10)
        pdf.cell(width * 0.7, 7, name, align="R")
        pdf.cell(
            width * 0.3,
            7,
            f"{doc.currency} {money.grouped(value, doc.currency)}",
            align="R",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
