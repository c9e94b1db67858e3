"""Closing the month: bulk authorize, and the contract burn-down with its excess flag."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from sales_core import burndown, ledger
from sales_core.access import AccessDenied, Actor
from sales_core.config import Settings
from sales_core.errors import BillingError
from sales_core.invoicing import generate, preview
from sales_core.ledger import Change, change_status
from tests.conftest import NOVEMBER, numbers_of

BILLER = Actor("a@example.org", "biller")


def test_authorize_many_is_all_or_nothing_and_audited_once(demo: Settings) -> None:
    numbers = numbers_of(generate(demo, NOVEMBER, actor=BILLER))
    first, second, third = numbers[:3]
    change_status(demo, Change(third, "Void", reason="x"), actor=BILLER, today=date(2026, 11, 25))
    with pytest.raises(BillingError, match=rf"Not a Draft: {third} \(Void\), INV-1999-0001"):
        ledger.authorize_many(demo, [first, third, "INV-1999-0001"], actor=BILLER)
    assert set(ledger.generated_invoices(demo, ["Authorized"])["number"]) == set()
    with pytest.raises(AccessDenied):
        ledger.authorize_many(demo, [first], actor=Actor("v@example.org", "viewer"))

    assert ledger.authorize_many(demo, [second, first, first], actor=BILLER) == [second, first]
    rest = ledger.authorize_many(demo, [], actor=BILLER, month=str(NOVEMBER))
    assert set(rest) == set(numbers) - {first, second, third}
    assert set(ledger.generated_invoices(demo, ["Draft"])["number"]) == set()
    with pytest.raises(BillingError, match="no Draft left"):
        ledger.authorize_many(demo, [], actor=BILLER, month=str(NOVEMBER))
    with pytest.raises(BillingError, match="at least one"):
        ledger.authorize_many(demo, ["  "], actor=BILLER)
    log = ledger.audit_log(demo)
    bulk = log[log["detail"].str.endswith("authorized at once", na=False)]
    assert [len(n) for n in bulk["invoice_numbers"]] == [len(rest), 2]


def test_the_burndown_shows_a_contract_billed_past_its_amount(demo: Settings) -> None:
    frame = burndown.burndown(demo)
    over = frame[frame["remaining"] < 0]
    assert not over.empty
    row = over.iloc[0]
    assert Decimal(str(row["billed"])) - Decimal(str(row["amount"])) == -Decimal(
        str(row["remaining"])
    )
    assert row["months_left"] == 0
    full = frame[frame["remaining"] > 0].iloc[0]
    assert full["months_left"] == int(
        Decimal(str(full["remaining"])) // Decimal(str(full["monthly_fee"]))
    )


def test_preview_flags_drafts_past_their_contract(demo: Settings) -> None:
    plan = preview(demo, NOVEMBER)
    excess = burndown.excesses(demo, plan)
    frame = burndown.burndown(demo).set_index("contract_id")
    for draft in plan.drafts:
        if draft.contract_id not in frame.index or draft.invoice_key not in excess:
            continue
        limit = Decimal(str(frame.loc[draft.contract_id, "amount"]))
        billed = Decimal(str(frame.loc[draft.contract_id, "billed"]))
        assert draft.fee is not None  # charges alone are outside the Amount
        assert excess[draft.invoice_key] == billed + draft.fee.amount - limit
    assert excess  # the demo has a contract billed past its Amount
    assert len(excess) < len(plan.drafts)


def test_cli_preview_json_and_authorize_by_month(
    demo: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    from sales_core.cli import main

    assert main(["invoices", "preview", "--month", "2026-11", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    values = [i["exceeds_contract_by"] for i in data["invoices"]]
    assert any(v is None for v in values) and any(v for v in values)
    assert all(v is None or Decimal(v) > 0 for v in values)
    assert main(["invoices", "generate", "--month", "2026-11", "--allow-gaps", "--no-push"]) == 0
    capsys.readouterr()
    assert (
        main(["invoices", "authorize", "--month", "2026-11", "--json", "--as", "a@example.org"])
        == 0
    )
    done = json.loads(capsys.readouterr().out)["authorized"]
    assert len(done) == len(data["invoices"])
    assert main(["invoices", "authorize", "INV-2026-0001", "--month", "2026-11"]) == 1
    assert "one of the two" in capsys.readouterr().err


def test_statements_list_open_invoices_with_balances_and_print(
    demo: Settings, tmp_path: Path
) -> None:
    from sales_core import payments
    from sales_core.metrics import statements
    from tests.test_pdf import pdf_text

    today = date(2026, 11, 25)
    summary = statements.aging_by_community(demo, today)
    assert not summary.empty
    everything = statements.open_invoices(demo, today)
    assert (everything["balance"] > 0).all()
    row = everything.iloc[0]
    community, number = str(row["community"]), str(row["number"])
    payments.record(demo, payments.Payment(number, Decimal(100), today), actor=BILLER, today=today)
    mine = statements.open_invoices(demo, today, community).set_index("number")
    assert mine.loc[number, "balance"] == row["balance"] - 100
    assert mine.loc[number, "amount_paid"] == 100
    assert set(mine["days_past_due"]) and (mine["days_past_due"] >= 0).all()
    line = statements.aging_by_community(demo, today).set_index(["community", "currency"])
    assert line.loc[(community, row["currency"]), "balance"] == mine["balance"].sum()

    text = pdf_text(statements.statement_pdf(demo, community, today), tmp_path)
    assert "STATEMENT OF ACCOUNT" in text and community in text and number in text
    assert f"Balance due ({row['currency']})" in text


def test_accounting_exports_one_row_per_line_in_each_products_columns(
    demo: Settings, tmp_path: Path
) -> None:
    import csv
    import io

    from sales_core import accounting
    from sales_core.billing import Month
    from sales_core.cli import main

    numbers = numbers_of(generate(demo, NOVEMBER, actor=BILLER))
    ledger.authorize_many(demo, numbers[:-1], actor=BILLER)  # the last one stays a Draft

    def rows(fmt: str) -> list[dict[str, str]]:
        text = accounting.export(demo, NOVEMBER, fmt).decode("utf-8-sig")
        return list(csv.DictReader(io.StringIO(text)))

    xero = rows("xero")
    assert list(xero[0]) == list(accounting.XERO_COLUMNS)
    made = {r["*InvoiceNumber"] for r in xero}
    assert set(numbers[:-1]) <= made and numbers[-1] not in made  # Drafts did not go out
    assert all(n.startswith("INV-2026-") for n in made)
    first = next(r for r in xero if r["*InvoiceNumber"] == numbers[0])
    issued = preview(demo, Month(2026, 11)).issue_date
    assert first["*InvoiceDate"] == issued.strftime("%d/%m/%Y")
    assert first["*Quantity"] == "1" and first["*AccountCode"] == "200"
    made_here = ledger.generated_invoices(demo).set_index("number")
    assert Decimal(first["*UnitAmount"]) == Decimal(str(made_here.loc[numbers[0], "amount"]))

    quickbooks = rows("quickbooks")
    assert list(quickbooks[0]) == list(accounting.QUICKBOOKS_COLUMNS)
    assert len(quickbooks) == len(xero)
    assert {r["Invoice no"] for r in quickbooks} == made

    out = tmp_path / "nov.csv"
    argv = ["invoices", "export", "--month", "2026-11", "--format", "xero", "--out", str(out)]
    assert main(argv) == 0
    assert out.read_bytes() == accounting.export(demo, NOVEMBER, "xero")
    assert main([*argv[:-1], str(tmp_path / "no" / "such" / "dir.csv")]) == 1


def test_covered_periods_merge_into_disjoint_spans_with_the_same_days() -> None:
    from sales_core.billing import islands

    d = date
    periods = [
        (d(2026, 3, 1), d(2026, 3, 31)),
        (d(2026, 1, 1), d(2026, 1, 31)),
        (d(2026, 2, 1), d(2026, 2, 28)),  # the day after January: one span
        (d(2026, 1, 10), d(2026, 1, 20)),  # inside January
        (d(2026, 5, 2), d(2026, 6, 30)),  # 1 May is a gap
        (d(2026, 5, 15), d(2026, 5, 20)),
    ]
    assert islands(periods) == [
        (d(2026, 1, 1), d(2026, 3, 31)),
        (d(2026, 5, 2), d(2026, 6, 30)),
    ]
    assert islands([]) == []


def test_the_fast_unbilled_months_agree_with_planning_every_month(demo: Settings) -> None:
    from sales_core import invoicing, store, summaries
    from sales_core.billing import (
        Month,
        covered_periods,
        islands,
        months_with_drafts,
        plan_run,
        reversed_periods,
    )

    start = Month(2024, 1)
    months = [start]
    while months[-1] < Month(2027, 6):
        months.append(months[-1].next())

    def agree() -> list[Month]:
        with store.connect(demo.db_path) as con:
            contracts, known = invoicing._contracts(con, start, []), invoicing._known(con, start)
            rows = store.execute(con, summaries.COVERED_SPANS_SQL, {"first": start.first})
            spans: dict[str, list[tuple[date, date]]] = {}
            for contract_id, first, last in rows.fetchall():
                spans.setdefault(contract_id, []).append((first, last))
        slow = [m for m in months if plan_run(contracts, known, m).drafts]
        assert months_with_drafts(contracts, known, months) == slow
        # The store's spans (SQL) hold the same days as the known invoices' periods, merged,
        # and pass on a period that ends before it begins as it is.
        assert {c: sorted(p) for c, p in spans.items()} == {
            c: sorted(islands(p) + reversed_periods(p)) for c, p in covered_periods(known).items()
        }
        assert months_with_drafts(contracts, spans, months) == slow
        # unbilled_months reads the contracts with the schedule's fields only: same months
        with store.connect(demo.db_path) as con:
            first = Month.of(con.execute(invoicing._FIRST_INVOICED_SQL).fetchall()[0][0])
        until = Month(2027, 6)
        assert invoicing.unbilled_months(demo, until) == [
            str(m) for m in slow if first <= m < until
        ]
        return slow

    assert agree()  # the demo leaves months unbilled, and has months ahead to bill
    # A synced invoice whose period is backwards (as a sync writes it: the version moves).
    with store.write_transaction(demo.db_path) as con:
        changed = con.execute(
            "UPDATE invoices SET period_end = period_start - 20 WHERE id = (SELECT min(id) "
            "FROM invoices WHERE period_start >= DATE '2026-03-01' AND contract_id IS NOT NULL)"
        ).fetchall()
        store.bump_data_version(con)
    assert changed == [(1,)]
    agree()
    # The same months when the kept spans are not current (the queries run instead).
    with store.connect(demo.db_path) as con:
        con.execute("UPDATE meta SET value = '-1' WHERE key = 'summaries_version'")
        assert not summaries.current(con)
    agree()
