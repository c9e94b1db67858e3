"""The fonts that invoice and statement PDFs embed, shipped with the code, cut down ahead of time.

fpdf2 parses a whole font file for every PDF that embeds it, so each file here holds only what
names and amounts need, and a document embeds only the files its text needs:

- DejaVu Sans, cut down to Latin with its extensions, Greek, Cyrillic, punctuation and currency
  signs: the data font whenever the text does not fit Windows-1252 (LICENSE-DejaVu.txt);
- Noto Sans Arabic and Noto Sans Hebrew, whole scripts with their shaping tables;
- Noto Sans CJK (Japanese design): kana and the Han characters of the national standard sets
  (GB 2312, Big5, JIS X 0208, KS X 1001); Noto Sans CJK (Korean design): every modern Hangul
  syllable and the jamo; each in a file of the common characters and one of the rest (the Noto
  fonts: LICENSE-Noto.txt, SIL Open Font License 1.1);
- the full DejaVu Sans, last, for any other character (Armenian, Georgian, symbols).

Which of them a document uses, and whether its text can print at all: `sales_core.fonts.printing`.
`python -m sales_core.fonts` rebuilds the cut-down files (`sales_core.fonts.build`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class FontFile:
    """One shipped font file: the family name documents know it by, and what it was cut to."""

    family: str
    file: str
    ranges: tuple[tuple[int, int], ...] = ()  # inclusive; what `build` keeps (empty: all)

    @property
    def path(self) -> Path:
        return HERE / self.file

    @property
    def codepoints(self) -> Iterator[int]:
        for first, last in self.ranges:
            yield from range(first, last + 1)


DEJAVU = FontFile(
    "DejaVu",
    "DejaVuSans-invoice.ttf",
    (
        (0x20, 0x7E),  # Basic Latin
        (0xA0, 0x24F),  # Latin-1, Latin Extended-A and -B
        (0x370, 0x45F),  # Greek, Cyrillic
        (0x2010, 0x206F),  # general punctuation
        (0x20A0, 0x20C0),  # currency signs
        (0x2116, 0x2116),  # №
        (0x2122, 0x2122),  # ™
    ),
)
DEJAVU_BOLD = FontFile("DejaVuBold", "DejaVuSans-Bold-invoice.ttf", DEJAVU.ranges)
ARABIC = FontFile(
    "NotoArabic",
    "NotoSansArabic-invoice.ttf",
    ((0x600, 0x6FF), (0x750, 0x77F), (0x8A0, 0x8FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF)),
)
HEBREW = FontFile("NotoHebrew", "NotoSansHebrew-invoice.ttf", ((0x590, 0x5FF), (0xFB1D, 0xFB4F)))
# CJK: each design in two files, the characters most names use and the rest, since the time
# fpdf2 takes grows with the size of a file: most CJK invoices only open the smaller one.
HANGUL = FontFile(
    "NotoHangul",
    "NotoSansCJKkr-hangul.otf",
    (
        (0x1100, 0x11FF),  # Hangul Jamo
        (0x3000, 0x303F),  # CJK punctuation
        (0x3130, 0x318F),  # compatibility jamo
        (0xA960, 0xA97F),  # Jamo Extended-A
        (0xD7B0, 0xD7FF),  # Jamo Extended-B
        (0xFF00, 0xFFEF),  # full- and half-width forms
    ),  # and the 2,350 syllables of KS X 1001: hangul_codepoints()
)
HANGUL_RARE = FontFile("NotoHangulRare", "NotoSansCJKkr-hangul-rare.otf", ((0xAC00, 0xD7A3),))
CJK = FontFile(
    "NotoCJK",
    "NotoSansCJKjp-han.otf",
    (
        (0x3000, 0x30FF),  # CJK punctuation, hiragana, katakana
        (0x31F0, 0x31FF),  # katakana extensions
        (0xFF00, 0xFFEF),  # full- and half-width forms
    ),  # and the first levels of the standard sets: han_codepoints()
)
CJK_RARE = FontFile("NotoCJKRare", "NotoSansCJKjp-han-rare.otf")  # han_codepoints(rare=True)
DEJAVU_FULL = FontFile("DejaVuFull", "DejaVuSans.ttf")

# The order in which a character missing from the data font is looked up: the full DejaVu
# comes last because it has Arabic and Hebrew too, without the Noto fonts' shaping quality.
FALLBACKS: tuple[FontFile, ...] = (ARABIC, HEBREW, HANGUL, HANGUL_RARE, CJK, CJK_RARE, DEJAVU_FULL)

TRAILS = tuple(range(0xA1, 0xFF))
# The national standard character sets whose characters the CJK fonts keep, each as a Python
# codec, the lead bytes of its first level (the common characters, ordered by reading) and of
# all its two-byte characters: Simplified Chinese, Traditional Chinese, Japanese, Korean.
STANDARD_SETS: tuple[tuple[str, range, range, tuple[int, ...]], ...] = (
    ("gb2312", range(0xA1, 0xD8), range(0xA1, 0xF8), TRAILS),
    ("big5", range(0xA1, 0xC7), range(0xA1, 0xFA), (*range(0x40, 0x7F), *TRAILS)),
    ("euc_jp", range(0xA1, 0xD0), range(0xA1, 0xF5), TRAILS),
    ("euc_kr", range(0xA1, 0xA1), range(0xA1, 0xFE), TRAILS),  # hanja: all rare
)
SYLLABLES = range(0xAC00, 0xD7A4)


def _decoded(codec: str, leads: range, trails: tuple[int, ...]) -> set[int]:
    found = set()
    for lead in leads:
        for trail in trails:
            try:
                text = bytes((lead, trail)).decode(codec)
            except UnicodeDecodeError:
                continue
            if len(text) == 1:
                found.add(ord(text))
    return found


def han_codepoints(rare: bool = False) -> set[int]:
    """What the CJK files are cut to: kana, punctuation and the standard sets' first levels;
    or (`rare`) the rest of the standard sets. Hangul syllables go to the Hangul files."""
    common = set(CJK.codepoints)
    every: set[int] = set()
    for codec, first_level, leads, trails in STANDARD_SETS:
        common |= _decoded(codec, first_level, trails)
        every |= _decoded(codec, leads, trails)
    chosen = every - common if rare else common
    return {code for code in chosen if code not in SYLLABLES}


def hangul_codepoints(rare: bool = False) -> set[int]:
    """What the Hangul files are cut to: jamo, punctuation and the syllables of KS X 1001;
    or (`rare`) the other modern syllables."""
    common = {code for code in _decoded("euc_kr", range(0xB0, 0xC9), TRAILS) if code in SYLLABLES}
    return set(SYLLABLES) - common if rare else common | set(HANGUL.codepoints)


@cache
def coverage(font: FontFile) -> frozenset[int]:
    """The characters `font`'s file has a glyph for (read once per process)."""
    from fontTools.ttLib import TTFont

    with TTFont(str(font.path), lazy=True) as parsed:
        return frozenset(parsed.getBestCmap())
