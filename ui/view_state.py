"""A page's filters in the URL's query string and in the session.

A link reproduces the view (`/pipeline?owner=Amara+Okafor&stale=45`), and coming back to a
page in the same session keeps its filters although Streamlit forgets the state of widgets
that a run did not draw, and clears the query string when it switches pages.

Each filter is a `Param`: its widget's key, its name in the URL, its default and how it reads
the URL's text. A page calls `restore` after it knows the options and before it draws the
widgets (which then take their value from the session, never a `value=` of their own), and
`publish` once they are drawn. A value the URL gets wrong is ignored, and `restore` returns a
note saying so in words; nothing a link holds can break the page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import streamlit as st

from sales_core.formatting import markdown_text

# reads the URL's values of one name -> (the value, or None when unusable; a note or None)
Reader = Callable[[list[str]], tuple[Any, str | None]]
Writer = Callable[[Any], list[str]]


@dataclass(frozen=True)
class Param:
    """One filter: the widget's (or state's) key, its URL name, its default, reader, writer."""

    key: str
    url: str
    default: Any
    read: Reader
    write: Writer
    label: str  # how the note names it

    def valid(self, value: Any) -> Any:
        """What the reader keeps of `value` (a session value may be stale: an owner that a
        sync removed), else the default."""
        if value == self.default or value is None:
            return self.default
        try:
            parsed, _ = self.read(self.write(value))
        except (TypeError, ValueError):  # not even of the widget's type
            return self.default
        return self.default if parsed is None else parsed


QUOTED_AT_MOST = 60  # characters of a value the URL got wrong, in the note that says so


def _quoted(values: Sequence[str]) -> str:
    def short(value: str) -> str:
        return value if len(value) <= QUOTED_AT_MOST else f"{value[: QUOTED_AT_MOST - 1]}…"

    return ", ".join(f"“{short(v)}”" for v in values)


def choice(key: str, url: str, label: str, options: Sequence[str], default: Any) -> Param:
    """One of `options` (a select box), or `default` (which may be None: nothing chosen)."""
    known = list(options)

    def read(values: list[str]) -> tuple[Any, str | None]:
        value = values[-1]
        if value in known:
            return value, None
        return None, f"{label} {_quoted([value])} is not one of the choices"

    return Param(key, url, default, read, lambda v: [] if v is None else [str(v)], label)


def choices(key: str, url: str, label: str, options: Sequence[str]) -> Param:
    """Any of `options` (a multiselect), repeated in the URL: `?owner=A&owner=B`."""
    known = list(options)

    def read(values: list[str]) -> tuple[Any, str | None]:
        kept = [v for v in dict.fromkeys(values) if v in known]
        unknown = [v for v in values if v not in known]
        problem = f"{label} {_quoted(unknown)} is not among the choices" if unknown else None
        return kept, problem

    return Param(key, url, [], read, lambda v: [str(x) for x in v], label)


def whole_number(key: str, url: str, label: str, low: int, high: int, default: int) -> Param:
    """A whole number from `low` to `high` (a number input)."""

    def read(values: list[str]) -> tuple[Any, str | None]:
        text = values[-1].strip()
        if text.isdigit() and low <= int(text) <= high:
            return int(text), None
        return None, f"{label} {_quoted([values[-1]])} is not a whole number from {low} to {high}"

    return Param(key, url, default, read, lambda v: [str(int(v))], label)


def flag(key: str, url: str, label: str) -> Param:
    """On or off (a checkbox or a toggle), `1` in the URL when on."""

    def read(values: list[str]) -> tuple[Any, str | None]:
        text = values[-1].strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True, None
        if text in ("0", "false", "no", "off"):
            return False, None
        return None, f"{label} {_quoted([values[-1]])} is neither 1 nor 0"

    return Param(key, url, False, read, lambda v: ["1"] if v else [], label)


def date_range(key: str, url: str, label: str, first: date, last: date) -> Param:
    """Two dates within [first, last] (a date range input), `2027-01-01..2027-03-31` in the URL.

    The default is the whole range, which filters nothing.
    """

    def read(values: list[str]) -> tuple[Any, str | None]:
        text = values[-1]
        problem = f"{label} {_quoted([text])} is not a range like {first}..{last}"
        start, sep, end = text.partition("..")
        try:
            low, high = date.fromisoformat(start.strip()), date.fromisoformat(end.strip())
        except ValueError:
            return None, problem
        if not sep or low > high:
            return None, problem
        if low > last or high < first:
            return None, f"{label} {_quoted([text])} lies outside {first}..{last}"
        return (max(low, first), min(high, last)), None

    def write(value: Any) -> list[str]:
        low, high = value
        return [f"{low.isoformat()}..{high.isoformat()}"]

    return Param(key, url, (first, last), read, write, label)


def _kept(page: str, key: str) -> str:
    return f"_kept_{page}_{key}"


def _written(page: str) -> str:
    return f"_url_{page}"


def restore(page: str, params: Sequence[Param]) -> list[str]:
    """Set each filter's value in the session before its widget is drawn; returns the notes on
    what the URL held that could not be used.

    The URL wins when it says something this page did not write itself (a link, a bookmark);
    else the widget's own state stands (the person just changed it); else, coming back to the
    page, the value kept from the last visit; else the default.
    """
    notes: list[str] = []
    written: dict[str, list[str]] = st.session_state.get(_written(page), {})
    for param in params:
        values = st.query_params.get_all(param.url)
        if values and values != written.get(param.url):
            value, problem = param.read(values)
            if problem is not None:
                notes.append(problem)
            if value is not None:
                st.session_state[param.key] = value
                continue
        if param.key in st.session_state:
            st.session_state[param.key] = param.valid(st.session_state[param.key])
        else:
            kept = st.session_state.get(_kept(page, param.key), param.default)
            st.session_state[param.key] = param.valid(kept)
    return notes


def publish(page: str, params: Sequence[Param]) -> None:
    """Once the widgets are drawn: keep their values for the next visit and write the ones
    that differ from the default into the URL (the rest leave it).

    A page may restore and publish its sections one by one; each call touches only its own
    names in the URL.
    """
    written: dict[str, list[str]] = dict(st.session_state.get(_written(page), {}))
    for param in params:
        value = st.session_state.get(param.key, param.default)
        st.session_state[_kept(page, param.key)] = value
        written.pop(param.url, None)
        if value != param.default and value is not None:
            written[param.url] = param.write(value)
        if param.url in written:
            if st.query_params.get_all(param.url) != written[param.url]:
                st.query_params[param.url] = written[param.url]
        elif param.url in st.query_params:
            del st.query_params[param.url]
    st.session_state[_written(page)] = written


def show_notes(notes: Sequence[str]) -> None:
    """Say what the link held that the page ignored."""
    if notes:
        st.warning(
            "Ignored from the link: "
            + "; ".join(markdown_text(n) for n in notes)
            + ". The page shows the rest."
        )


def selected(event: Any, keys: Sequence[str]) -> str | None:
    """The key of the first point picked in a plotly chart's selection state, or None.

    The charts (sales_core.charts) give each point its row number as `customdata`; `keys`
    are the rows' keys in that order. Anything else in the event picks nothing.
    """
    selection = event.get("selection") if event and hasattr(event, "get") else None
    points = selection.get("points", []) if selection else []
    for point in points:
        row = point.get("customdata") if hasattr(point, "get") else None
        if isinstance(row, list):
            row = row[0] if row else None
        if isinstance(row, int | float) and not isinstance(row, bool) and 0 <= row < len(keys):
            return keys[int(row)]
    return None


def focus_from_chart(chart_key: str, focus_key: str, keys: Sequence[str]) -> Callable[[], None]:
    """An `on_select` callback that copies the chart's picked point into `focus_key`.

    The chart itself forgets its selection whenever its figure changes (the figure is part of
    its identity), so the page keeps the choice under its own key, and in the URL.
    """
    rows = list(keys)

    def copy() -> None:
        st.session_state[focus_key] = selected(st.session_state.get(chart_key), rows)

    return copy
