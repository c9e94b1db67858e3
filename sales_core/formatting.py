"""Tables and percentages as people read them (amounts themselves: `sales_core.money`)."""

from __future__ import annotations

import re
from decimal import Decimal

import pandas as pd

from sales_core import money


def percent(share: float | None, places: int = 0) -> str:
    """0.5 -> '50 %'; None reads "–"."""
    return "–" if share is None else f"{share * 100:.{places}f} %"


def money_table(
    df: pd.DataFrame, columns: list[str], money_columns: tuple[str, ...] = (), currency: str = ""
) -> pd.DataFrame:
    """The chosen columns, amounts written out in words-and-digits for a read-only table.

    Money columns are those in `money_columns`, or every Decimal column when none are named;
    each row's currency comes from its `currency` column, else from the `currency` argument.
    """
    out = df[columns].copy()
    names = money_columns or tuple(
        c for c in columns if any(isinstance(v, Decimal) for v in out[c].head(20))
    )
    codes = list(df["currency"]) if "currency" in df else [currency] * len(df)
    for name in names:
        out[name] = [money.text(v, c) for v, c in zip(out[name], codes, strict=True)]
    return out


# CommonMark lets a backslash escape any ASCII punctuation; these are the ones that can open
# or close structure (emphasis, code, links, HTML, entities, tables, headings, maths) in a line.
_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~&$])")
# At the start of a line these make lists, thematic breaks or setext headings.
_LINE_START_SPECIAL = re.compile(r"^(\d{1,9})([.)])|^([-+=])")


def escape_markdown(text: str) -> str:
    """One line of user text as Markdown that renders as exactly that text, nothing more."""
    escaped = _INLINE_SPECIAL.sub(r"\\\1", text)
    escaped = _LINE_START_SPECIAL.sub(
        lambda m: f"{m.group(1)}\\{m.group(2)}" if m.group(1) else f"\\{m.group(3)}", escaped
    )
    # Leading spaces would make an indented code block: keep them visible but inert.
    stripped = escaped.lstrip(" \t")
    indent = escaped[: len(escaped) - len(stripped)].replace("\t", "    ")
    return "\u00a0" * len(indent) + stripped


# GitHub-flavoured Markdown turns bare URLs and email addresses into links, after the escapes
# are read; an invisible WORD JOINER (U+2060) after the scheme, "www" or before "@" stops it.
_AUTOLINK = re.compile(r"(?i)(\b(?:https?|ftp|mailto)(?=\\?:)|\bwww(?=\.)|[\w.+-](?=@))")


def markdown_text(text: object) -> str:
    """Text from the data, any number of lines, as Streamlit Markdown that shows exactly it.

    On top of CommonMark, Streamlit reads `:red[…]`, `:material/…:` and emoji shortcodes such
    as `:tada:`; an escaped colon opens none of them. Bare URLs and emails stay unlinked.
    """
    lines = str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    escaped = (escape_markdown(line).replace(":", "\\:") for line in lines)
    return "  \n".join(_AUTOLINK.sub("\\1\u2060", line) for line in escaped)


def counted(n: int, noun: str) -> str:
    """`n` and the noun, plural unless one: "1 field", "3 fields"."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"
