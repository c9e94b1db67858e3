"""The summaries of the invoice history (sales_core/summaries.py) follow every change to the
data, and a reader that finds them out of date answers the same from the history itself."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from sales_core import burndown, corrections, invoicing, payments, store, summaries
from sales_core.access import Actor
from sales_core.billing import Month
from sales_core.config import Settings
from sales_core.ledger import authorize_many
from sales_core.payments import Payment
from sales_core.sync import run_sync
from tests.conftest import NOVEMBER

BILLER = Actor("biller@example.org", "biller")
TODAY = date(2026, 11, 25)
EVERYTHING = date(1, 1, 1)


def kept_and_live(settings: Settings) -> tuple[Any, Any]:
    """(the tables, what the queries over the history give now), both sorted."""
    with store.connect(settings.db_path) as con:
        assert summaries.current(con)
        kept = (
            sorted(con.execute("SELECT * FROM covered_spans").fetchall()),
            sorted(con.execute("SELECT * FROM billed_totals").fetchall()),
        )
        live = (
            sorted(
                store.execute(con, summaries.COVERED_SPANS_SQL, {"first": EVERYTHING}).fetchall()
            ),
            sorted(store.execute(con, summaries.BILLED_SQL).fetchall()),
        )
    return kept, live


def answers(settings: Settings) -> tuple[Any, ...]:
    """What the readers of the summaries say: unbilled months, excesses, the burn-down."""
    plan = invoicing.preview(settings, NOVEMBER)
    return (
        invoicing.unbilled_months(settings, Month(2027, 6)),
        burndown.excesses(settings, plan),
        burndown.burndown(settings).to_json(orient="records"),  # NaN as null
    )


def out_of_date(settings: Settings) -> None:
    """As if a change had moved the data version without rebuilding the summaries."""
    with store.connect(settings.db_path) as con:
        con.execute(
            "UPDATE meta SET value = CAST(CAST(value AS BIGINT) + 1 AS VARCHAR) "
            "WHERE key = 'data_version'"
        )
        assert not summaries.current(con)


def test_the_summaries_follow_every_change_and_agree_with_the_history(demo: Settings) -> None:
    made = invoicing.generate(demo, NOVEMBER, actor=BILLER, push=False).created
    first, second, third, fourth = (str(i.number) for i in made[:4])
    authorize_many(demo, [first, second], actor=BILLER)
    changes: list[Callable[[], object]] = [
        lambda: corrections.void(demo, third, reason="wrong fee", mode="rebill", actor=BILLER),
        lambda: corrections.void(demo, fourth, reason="goodwill", mode="waive", actor=BILLER),
        lambda: payments.record(
            demo, Payment(first, Decimal("10"), TODAY), actor=BILLER, today=TODAY
        ),
        lambda: corrections.credit(demo, second, "5", reason="hub down", actor=BILLER, today=TODAY),
        lambda: invoicing.generate(demo, NOVEMBER, actor=BILLER, push=False),  # bills again
        lambda: run_sync(demo),
    ]
    seen = [kept_and_live(demo)]
    for change in changes:
        change()
        kept, live = kept_and_live(demo)
        assert kept == live
        seen.append(kept)
    # The changes did change the summaries: the tables are not just equal and empty.
    assert seen[0][0] and seen[0][1]
    assert len({repr(s) for s in seen}) > 2


def test_out_of_date_summaries_are_not_read(demo: Settings) -> None:
    invoicing.generate(demo, Month(2026, 10), actor=BILLER, push=False)
    fresh = answers(demo)
    assert fresh[0] and fresh[1] and fresh[2]  # the demo has all three to show
    out_of_date(demo)
    assert answers(demo) == fresh
    # Emptied tables would change every answer, were they still read.
    with store.connect(demo.db_path) as con:
        con.execute("DELETE FROM covered_spans")
        con.execute("DELETE FROM billed_totals")
    assert answers(demo) == fresh


def test_a_stale_table_would_be_wrong_so_the_stamp_matters(demo: Settings) -> None:
    # With the stamp current, the readers do read the tables: emptying them shows.
    before = answers(demo)
    with store.connect(demo.db_path) as con:
        con.execute("DELETE FROM billed_totals")
        con.execute("DELETE FROM covered_spans")
    after = answers(demo)
    assert after[2] != before[2]  # nothing billed on any contract
    assert after[0] != before[0]  # every month since the first invoice looks unbilled


def test_a_change_outside_the_history_moves_the_stamp_without_a_rebuild(demo: Settings) -> None:
    with store.write_transaction(demo.db_path) as con:
        con.execute("DELETE FROM billed_totals")  # a rebuild would bring the rows back
        store.bump_data_version(con, history=False)
        assert summaries.current(con)
        assert con.execute("SELECT count(*) FROM billed_totals").fetchall() == [(0,)]
    out_of_date(demo)
    with store.write_transaction(demo.db_path) as con:  # out of date stays out of date
        store.bump_data_version(con, history=False)
        assert not summaries.current(con)
        store.bump_data_version(con)  # a change to the history rebuilds and stamps them
        assert summaries.current(con)
        assert con.execute("SELECT count(*) FROM billed_totals").fetchall() != [(0,)]
