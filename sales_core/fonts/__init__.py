"""Fonts embedded in invoice PDFs: DejaVu Sans (see LICENSE-DejaVu.txt), shipped with the code.

A full DejaVu Sans has about 6,000 glyphs, and fpdf2 parses and subsets the whole font for every
PDF (about 0.05 s per style). The invoice fonts are therefore cut down once, ahead of time, to
the scripts that names and amounts use here: Latin with its extensions, Greek, Cyrillic,
punctuation and currency signs. The full regular font stays as a fallback for anything else
(a name in another script), so no character is ever lost. `python -m sales_core.fonts` rebuilds
the cut-down files from the full ones (DejaVuSans-Bold.ttf comes from Debian's fonts-dejavu-core).
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
REGULAR = HERE / "DejaVuSans-invoice.ttf"
BOLD = HERE / "DejaVuSans-Bold-invoice.ttf"
FALLBACK = HERE / "DejaVuSans.ttf"

# Basic Latin, Latin-1, Latin Extended-A and -B, Greek, Cyrillic, general punctuation,
# currency symbols, and a few letterlike symbols (№, ™).
INVOICE_CODEPOINTS: tuple[int, ...] = (
    *range(0x20, 0x7F),
    *range(0xA0, 0x250),
    *range(0x370, 0x460),
    *range(0x2010, 0x2070),
    *range(0x20A0, 0x20C1),
    0x2116,
    0x2122,
)


def build(full_regular: Path, full_bold: Path) -> None:
    """Write the cut-down regular and bold fonts from the full DejaVu Sans files."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    for source, target in ((full_regular, REGULAR), (full_bold, BOLD)):
        font = TTFont(str(source))
        options = subset.Options()
        options.layout_features = ["kern", "liga"]
        options.name_IDs = ["*"]
        options.notdef_outline = True
        options.hinting = False
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=INVOICE_CODEPOINTS)
        subsetter.subset(font)
        font.save(str(target))
