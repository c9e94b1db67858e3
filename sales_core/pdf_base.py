"""What every PDF of the product shares (fpdf2): the page, the fonts, the seller block.

Labels are printed in the PDF core font Helvetica (nothing to embed). The data (names,
descriptions, addresses) too when it fits Windows-1252, which most Western names and €/– do;
otherwise in the fonts shipped in `sales_core/fonts`, shaped, right-to-left scripts laid out
right to left. A character that no font has stops that document's PDF with a message naming
the field (`sales_core.fonts.printing`).

The same document always gives the same bytes: its creation date is its own date, and nothing
else in the file depends on the clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from sales_core.errors import BillingError
from sales_core.fonts.printing import CORE_ENCODING, check_printable, use_fonts
from sales_core.invoice import Invoice
from sales_core.seller_settings import Seller

__all__ = ["Seller", "document", "number_of", "payment_block", "seller_block", "seller_fields"]


def seller_fields(seller: Seller) -> tuple[tuple[str, str], ...]:
    """Each seller text a document may print, named for an error message."""
    return (
        ("seller name", seller.name),
        ("seller address", seller.address),
        ("seller tax id", seller.tax_id or ""),
        ("seller email", seller.email or ""),
        *((f"payment detail '{label}'", value) for label, value in seller.payment_lines),
        ("payment instructions", seller.instructions_text),
        ("invoice notes", seller.notes or ""),
    )


class DocumentPDF(FPDF):
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


def document(
    name: str,
    footer: str,
    title: str,
    seller: Seller,
    dated: date,
    fields: tuple[tuple[str, str], ...],
) -> tuple[DocumentPDF, str]:
    """A new A4 document on its first page, and the font its data prints in.

    Dated `dated` (nothing depends on the clock, so the same content gives the same bytes).
    Raises `UnprintableTextError`, naming the document `name` and the field, when a field has
    a character no font can print. Text that fits Windows-1252 embeds no font.
    """
    for field, text in fields:
        check_printable(name, field, text)
    pdf = DocumentPDF(footer)
    pdf.set_creation_date(datetime(dated.year, dated.month, dated.day, tzinfo=UTC))
    pdf.set_title(title)
    pdf.set_author(seller.name)
    pdf.set_producer("sales-core")
    data_font = use_fonts(pdf, (text for _, text in fields))
    pdf.footer_font = data_font
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()
    return pdf, data_font


def number_of(doc: Invoice) -> str:
    if doc.number is None:
        raise BillingError(f"Invoice {doc.invoice_key} has no number yet: it cannot be printed.")
    return doc.number


def _text(pdf: DocumentPDF, font: str, text: str, size: float, height: float, w: float) -> None:
    pdf.set_font(font, "", size)
    if "\n" in text or pdf.get_string_width(text) > w:
        pdf.multi_cell(w, height, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    else:
        pdf.cell(w, height, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def seller_block(pdf: DocumentPDF, font: str, seller: Seller) -> None:
    """The seller at the top: legal name, address, tax id and contact email."""
    width = pdf.epw
    _text(pdf, font, seller.name, 14, 7, width)
    _text(pdf, font, seller.address, 9, 4.5, width)
    extra = [part for part in (seller.tax_id, seller.email) if part]
    if extra:
        _text(pdf, font, " · ".join(extra), 9, 4.5, width)


def payment_block(pdf: DocumentPDF, font: str, seller: Seller, closing: str = "") -> None:
    """How to pay: the structured details as label and value, the free-text instructions, and
    `closing` (e.g. "Please pay by … and quote …")."""
    width = pdf.epw
    pdf.set_font("helvetica", "B", 9)
    pdf.cell(0, 5, "PAYMENT", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    for label, value in seller.payment_lines:
        pdf.set_font("helvetica", "", 9)
        pdf.cell(width * 0.25, 4.8, label)
        pdf.set_font(font, "", 9)
        pdf.cell(width * 0.75, 4.8, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if seller.instructions_text:
        _text(pdf, font, seller.instructions_text, 9, 4.5, width)
    if closing:
        _text(pdf, font, closing, 9, 4.5, width)
