"""Rebuild the cut-down font files from the full fonts (`python -m sales_core.fonts`).

Only a developer runs this, after changing what a font covers: the results are committed, so
the app itself never needs fontTools' subsetter or the full fonts. The full fonts come from
Debian's fonts-dejavu-core, fonts-noto-core and fonts-noto-cjk packages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from sales_core.fonts import (
    ARABIC,
    CJK,
    CJK_RARE,
    DEJAVU,
    DEJAVU_BOLD,
    HANGUL,
    HANGUL_RARE,
    HEBREW,
    FontFile,
    han_codepoints,
    hangul_codepoints,
)

SYSTEM = Path("/usr/share/fonts")
SOURCES: dict[FontFile, tuple[Path, int]] = {
    DEJAVU: (Path(__file__).resolve().parent / "DejaVuSans.ttf", 0),
    DEJAVU_BOLD: (SYSTEM / "truetype/dejavu/DejaVuSans-Bold.ttf", 0),
    ARABIC: (SYSTEM / "truetype/noto/NotoSansArabic-Regular.ttf", 0),
    HEBREW: (SYSTEM / "truetype/noto/NotoSansHebrew-Regular.ttf", 0),
    # Noto Sans CJK's collection: face 0 is its Japanese design, face 1 its Korean one.
    CJK: (SYSTEM / "opentype/noto/NotoSansCJK-Regular.ttc", 0),
    CJK_RARE: (SYSTEM / "opentype/noto/NotoSansCJK-Regular.ttc", 0),
    HANGUL: (SYSTEM / "opentype/noto/NotoSansCJK-Regular.ttc", 1),
    HANGUL_RARE: (SYSTEM / "opentype/noto/NotoSansCJK-Regular.ttc", 1),
}
# The files whose characters are not plain ranges.
CHOSEN: dict[FontFile, Callable[[], set[int]]] = {
    CJK: han_codepoints,
    CJK_RARE: lambda: han_codepoints(rare=True),
    HANGUL: hangul_codepoints,
    HANGUL_RARE: lambda: hangul_codepoints(rare=True),
}

# Arabic and Hebrew need their whole shaping tables (joining forms, marks, ligatures); the
# CJK fonts only the features their scripts use, which keeps the other regions' alternate
# glyphs (locl, vert) out of the files.
FEATURES: dict[FontFile, list[str]] = {
    DEJAVU: ["kern", "liga"],
    DEJAVU_BOLD: ["kern", "liga"],
    ARABIC: ["*"],
    HEBREW: ["*"],
    CJK: ["ccmp", "kern", "liga"],
    CJK_RARE: ["ccmp", "kern", "liga"],
    HANGUL: ["ccmp", "kern", "liga", "ljmo", "vjmo", "tjmo"],
    HANGUL_RARE: ["ccmp", "kern", "liga"],
}


def cut_down(
    source: Path, face: int, target: Path, codepoints: Iterable[int], features: list[str]
) -> None:
    """Write `target`: the face `face` of `source`, keeping only `codepoints`."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(str(source), fontNumber=face)
    options = subset.Options()
    options.layout_features = features
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.hinting = False
    options.legacy_cmap = False
    options.symbol_cmap = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=set(codepoints))
    subsetter.subset(font)
    font.save(str(target))


def build(only: Iterable[FontFile] | None = None) -> list[Path]:
    """Rebuild the shipped cut-down fonts (all, or `only` these); the paths written."""
    written = []
    for font in only or SOURCES:
        source, face = SOURCES[font]
        codepoints = CHOSEN[font]() if font in CHOSEN else set(font.codepoints)
        cut_down(source, face, font.path, codepoints, FEATURES[font])
        written.append(font.path)
    return written
