"""The readers of the filters in the URL, and the chart picks, without a page around them."""

from __future__ import annotations

from datetime import date

from ui import view_state

FIRST, LAST = date(2026, 1, 1), date(2027, 12, 31)


def test_choices__keeps_the_known_values_and_names_the_rest() -> None:
    owner = view_state.choices("k", "owner", "Owner", ["Ana", "Bo"])
    assert owner.read(["Bo", "Ana", "Bo"]) == (["Bo", "Ana"], None)
    kept, problem = owner.read(["Ana", "<b>Zed</b>"])
    assert kept == ["Ana"] and problem is not None and "<b>Zed</b>" in problem
    assert owner.valid(["Ana", "gone after a sync"]) == ["Ana"]
    assert owner.write(["Ana", "Bo"]) == ["Ana", "Bo"]


def test_choice__one_known_value_else_nothing() -> None:
    currency = view_state.choice("k", "currency", "Currency", ["USD", "EUR"], "USD")
    assert currency.read(["EUR"]) == ("EUR", None)
    assert currency.read(["usd"])[0] is None  # exactly as offered
    assert currency.valid("GBP") == "USD"
    _, problem = currency.read(["x" * 5000])  # a note names a long value by its start only
    assert problem is not None and len(problem) < 120 and "x" * 59 + "…" in problem


def test_whole_number__within_its_bounds_only() -> None:
    stale = view_state.whole_number("k", "stale", "Stale days", 1, 3650, 30)
    assert stale.read([" 45 "]) == (45, None)
    for bad in ("0", "-3", "4000", "4.5", "abc", ""):
        value, problem = stale.read([bad])
        assert value is None and problem is not None, bad


def test_flag__one_or_zero() -> None:
    past = view_state.flag("k", "past_close", "Past close")
    assert past.read(["1"]) == (True, None) and past.read(["false"]) == (False, None)
    assert past.read(["maybe"])[0] is None
    assert past.write(True) == ["1"] and past.write(False) == []


def test_date_range__parsed_clamped_or_refused() -> None:
    close = view_state.date_range("k", "close", "Expected close", FIRST, LAST)
    assert close.read(["2027-01-01..2027-03-31"]) == ((date(2027, 1, 1), date(2027, 3, 31)), None)
    # a range reaching past the data is cut to it
    assert close.read(["2025-06-01..2026-02-01"])[0] == (FIRST, date(2026, 2, 1))
    for bad in ("2027-13-01..2027-14-01", "2027-03-01..2027-01-01", "2027-01-01", "x..y"):
        value, problem = close.read([bad])
        assert value is None and problem is not None, bad
    assert close.read(["2030-01-01..2030-02-01"])[1] == (
        "Expected close “2030-01-01..2030-02-01” lies outside 2026-01-01..2027-12-31"
    )
    assert close.write((date(2027, 1, 1), date(2027, 3, 31))) == ["2027-01-01..2027-03-31"]


def test_selected__the_picked_row_from_a_plotly_selection() -> None:
    keys = ["Lead", "Qualified", "Proposal"]
    event = {"selection": {"points": [{"customdata": 2, "y": "Proposal"}]}}
    assert view_state.selected(event, keys) == "Proposal"
    assert view_state.selected({"selection": {"points": [{"customdata": [1]}]}}, keys) == (
        "Qualified"
    )
    # nothing picked, a point without its row, a row out of range, no event at all
    for nothing in (
        {"selection": {"points": []}},
        {"selection": {"points": [{"y": "Lead"}]}},
        {"selection": {"points": [{"customdata": 7}]}},
        {"selection": {"points": [{"customdata": True}]}},
        None,
    ):
        assert view_state.selected(nothing, keys) is None
