"""Which fonts a document embeds, and whether its text can be printed at all.

Two calls for the document code: `check_printable` for each named field (a character that no
font has stops the PDF, with the document and the field named, instead of vanishing), then
`use_fonts` once, which gives the font family the data prints in.

Text that fits Windows-1252 prints in the PDF core font Helvetica, which embeds nothing and
needs no font file opened: most invoices stay on that fast path. Other text prints in the
cut-down DejaVu Sans, and each character it lacks in the first fallback font that has it
(Arabic, Hebrew, Hangul, CJK, then the full DejaVu Sans); only the fallbacks a document's text
needs are embedded. Documents with such fallbacks are shaped by HarfBuzz (through fpdf2 and
uharfbuzz): Arabic letters join, and right-to-left runs are laid out right to left, also inside
a Latin line.
"""

from __future__ import annotations

from collections.abc import Iterable

from fpdf import FPDF

from sales_core.errors import UnprintableTextError
from sales_core.fonts import DEJAVU, FALLBACKS, FontFile, coverage

CORE_FONT = "helvetica"
CORE_ENCODING = "windows-1252"  # what fpdf2's core fonts print (€, – and “quotes” included)
_LAYOUT = frozenset("\n\r\t")  # line breaks and tabs: layout, not glyphs
# Emoji are refused even where the full DejaVu Sans has a black-and-white glyph for some (the
# faces, the playing cards): with no colour emoji font, most pictographs, flags and skin tones
# could not print, and one plain rule ("no emoji") is easier to act on than a list.
EMOJI = range(0x1F000, 0x1FB00)  # the supplementary-plane symbol and pictograph blocks
EMOJI_PRESENTATION = "\ufe0f"  # the selector that asks for the emoji form of a character


def fits_core_font(texts: Iterable[str]) -> bool:
    """True when every character is in Windows-1252, which the PDF core fonts print."""
    try:
        for text in texts:
            text.encode(CORE_ENCODING)
    except UnicodeEncodeError:
        return False
    return True


def _font_for(character: str) -> FontFile | None:
    """The first font, data font then fallbacks, that has a glyph for `character`."""
    code = ord(character)
    if code in EMOJI or character == EMOJI_PRESENTATION:
        return None
    for font in (DEJAVU, *FALLBACKS):
        if code in coverage(font):
            return font
    return None


def unprintable(text: str) -> list[str]:
    """The characters of `text`, each once in order of appearance, that no font can print."""
    if fits_core_font((text,)):
        return []
    missing: dict[str, None] = {}
    for character in text:
        if character not in _LAYOUT and _font_for(character) is None:
            missing[character] = None
    return list(missing)


def check_printable(document: str, field: str, text: str) -> None:
    """Raise `UnprintableTextError` when some character of `text` has no glyph in any font.

    The message names the document (an invoice number) and the field, and lists each
    character with its code point, e.g. "INV-2026-0007: the Bill to name has characters no
    font can print: 🂡 (U+1F0A1)". Emoji are among them, always (see `EMOJI`).
    """
    missing = unprintable(text)
    if missing:
        listed = ", ".join(f"{character} (U+{ord(character):04X})" for character in missing)
        raise UnprintableTextError(
            f"{document}: the {field} has characters no font can print: {listed}"
        )


def use_fonts(pdf: FPDF, texts: Iterable[str]) -> str:
    """Set up `pdf` to print `texts`; the font family to print them in.

    Call it before the first page, after `check_printable` (a character no font has would
    print as nothing here). Labels can keep using the core font Helvetica either way.
    """
    texts = tuple(texts)
    if fits_core_font(texts):
        return CORE_FONT
    pdf.add_font(DEJAVU.family, "", str(DEJAVU.path))
    needed = {
        font
        for text in texts
        for character in set(text) - _LAYOUT
        if (font := _font_for(character)) not in (None, DEJAVU)
    }
    fallbacks = [font for font in FALLBACKS if font in needed]
    for font in fallbacks:
        pdf.add_font(font.family, "", str(font.path))
    if fallbacks:
        # Shaping (joined Arabic, right-to-left runs, marks) costs about 10 ms a document:
        # only text beyond the data font's Latin, Greek and Cyrillic needs it.
        pdf.set_fallback_fonts([font.family for font in fallbacks], exact_match=False)
        pdf.set_text_shaping(True)
    return DEJAVU.family
