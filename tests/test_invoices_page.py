"""The Invoices page through the router: preview, one click, PDFs, transitions, refusals."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from sales_core import ledger
from sales_core.config import load_settings
from tests.conftest import invoices_tab

APP = str(Path(__file__).resolve().parent.parent / "app.py")


@pytest.fixture(autouse=True)
def fresh(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("INVOICE_DIR", str(tmp_path / "invoices"))
    st.cache_data.clear()
    yield


def open_invoices(month: str = "2026-11") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.switch_page("pages/invoices.py").run()
    at.selectbox[0].set_value(month).run()
    assert not at.exception
    if any(box.key == "gaps" for box in at.checkbox):  # the demo leaves earlier months unbilled
        at.checkbox(key="gaps").check().run()
    return at


def test_preview_generate_and_change(monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_invoices()
    [generate] = [b for b in at.button if b.label.startswith("Generate")]
    count = int(generate.label.split()[1])
    assert count > 0
    assert any(
        "Earlier months are not billed yet: 2026-01, 2026-05." in w.value for w in at.warning
    )
    metrics = {m.label: m.value for m in at.metric}
    assert "Total USD" in metrics and "Total JPY" in metrics
    assert "." not in metrics["Total JPY"]  # no minor unit for yen
    [skipped] = [d.value for d in at.dataframe if "Reason" in d.value.columns]
    # The contracts billed, field by field, and the burn-down are read only once opened.
    assert not [d for d in at.dataframe if "Monthly Fee" in d.value.columns]
    at.session_state["contracts_open"] = True
    at.run()
    [contracts] = [d.value for d in at.dataframe if "Monthly Fee" in d.value.columns]
    assert len(contracts) == count  # each once
    assert any("no Start Date" in reason for reason in skipped["Reason"])

    generate.click().run()
    assert not at.exception
    assert any(f"Made {count} invoices" in s.value for s in at.success)
    [again] = [b for b in at.button if b.label.startswith("Generate")]
    assert again.label == "Generate 0 invoices" and again.disabled
    made = ledger.generated_invoices(load_settings())
    assert len(made) == count

    # The invoices made here are on their own tab, read once it is open.
    assert not [d for d in at.dataframe if "contract_name" in d.value.columns]
    at = invoices_tab(at, "Invoices made here")
    assert at.query_params["section"] == "Invoices made here"  # a link opens this tab
    assert not [d for d in at.dataframe if "remaining" in d.value.columns]
    at.session_state["burndown_open"] = True
    at.run()
    [burn] = [d.value for d in at.dataframe if "remaining" in d.value.columns]
    assert len(burn) > 0
    [listed] = [d.value for d in at.dataframe if "contract_name" in d.value.columns]
    assert len(listed) == count

    # The newest invoice is chosen: authorize it, then refuse a void without a reason.
    chosen = at.selectbox(key="chosen_invoice").value
    at.button(key="authorize").click().run()
    assert any("is now Authorized" in s.value for s in at.success)
    at.button(key="void").click().run()
    assert any("reason" in e.value for e in at.error)
    at.text_input(key=f"void_reason-{chosen}").set_value("fee was wrong").run()
    at.button(key="void").click().run()
    assert any("is now Void" in s.value for s in at.success)
    table = ledger.generated_invoices(load_settings()).set_index("number")
    assert (table["status"] == "Void").sum() == 1


def test_double_click_makes_one_set(monkeypatch: pytest.MonkeyPatch) -> None:
    first = open_invoices()
    second = open_invoices()  # another tab, still showing the old preview
    [button] = [b for b in first.button if b.label.startswith("Generate")]
    button.click().run()
    [stale] = [b for b in second.button if b.label.startswith("Generate")]
    stale.click().run()
    assert not second.exception
    # The rerun re-plans before the click is handled: nothing is left to make.
    assert [b.label for b in second.button if b.label.startswith("Generate")] == [
        "Generate 0 invoices"
    ]
    assert any("Nothing to invoice" in i.value for i in second.info)
    made = ledger.generated_invoices(load_settings())
    assert made["invoice_key"].is_unique and len(made) == int(button.label.split()[1])


def test_month_with_nothing_to_bill() -> None:
    at = open_invoices("2026-12")
    assert not at.exception
    at = open_invoices(at.selectbox[0].options[-1])  # two years back: contracts invoiced
    assert not at.exception
    [button] = [b for b in at.button if b.label.startswith("Generate")]
    assert button.disabled


def test_the_tables_filters_are_in_the_url_and_survive_another_tab() -> None:
    at = open_invoices()
    next(b for b in at.button if b.label.startswith("Generate")).click().run()
    at = invoices_tab(at, "Invoices made here")
    every = next(d.value for d in at.dataframe if "contract_name" in d.value.columns)
    assert at.multiselect(key="ledger_statuses").value == []  # none chosen: every status
    at.multiselect(key="ledger_statuses").set_value(["Paid"]).run()
    assert any("No invoice generated here matches these filters" in i.value for i in at.info)
    assert at.query_params["status"] == "Paid"
    at = invoices_tab(at, "Receivables")
    at = invoices_tab(at, "Invoices made here")  # coming back keeps the filter
    assert at.multiselect(key="ledger_statuses").value == ["Paid"]
    at.multiselect(key="ledger_statuses").set_value(["Draft"]).run()
    [drafts] = [d.value for d in at.dataframe if "contract_name" in d.value.columns]
    assert len(drafts) == len(every)
    at.selectbox(key="ledger_run_month").set_value("2026-10").run()
    assert any("No invoice generated here matches these filters" in i.value for i in at.info)


def test_the_issue_date_chosen_survives_another_tab() -> None:
    from datetime import date

    at = open_invoices()
    at.date_input(key="issue_date-2026-11").set_value(date(2026, 11, 3)).run()
    at = invoices_tab(invoices_tab(at, "Receivables"), "Monthly run")
    assert at.date_input(key="issue_date-2026-11").value == date(2026, 11, 3)
    at.selectbox(key="run_month").set_value("2026-10").run()
    assert at.date_input(key="issue_date-2026-10").value == date(2026, 10, 1)  # its own day
    at.checkbox(key="gaps").check().run()  # the demo leaves January and May unbilled
    next(b for b in at.button if b.label.startswith("Generate")).click().run()
    made = ledger.generated_invoices(load_settings())
    assert {d.date() for d in made["issue_date"]} == {date(2026, 10, 1)}
    at.selectbox(key="run_month").set_value("2026-11").run()
    assert at.date_input(key="issue_date-2026-11").value == date(2026, 11, 3)


def test_a_link_opens_a_tab_and_a_month() -> None:
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.query_params.update({"section": "Receivables", "month": "2026-10"})
    at.switch_page("pages/invoices.py").run()
    assert not at.exception
    assert at.selectbox(key="pay_number")  # the Receivables tab, read and drawn
    assert not [b for b in at.button if b.label.startswith("Generate")]  # the run is not
    at = invoices_tab(at, "Monthly run")
    assert at.selectbox(key="run_month").value == "2026-10"
    at.query_params.update({"section": "Nowhere", "month": "1999-01"})
    at.run()
    assert any("Ignored from the link" in w.value for w in at.warning)


def test_the_page_offers_the_oldest_unbilled_month_first() -> None:
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.switch_page("pages/invoices.py").run()
    at.selectbox[0].set_value("2026-11").run()
    [generate] = [b for b in at.button if b.label.startswith("Generate")]
    assert generate.disabled  # until the gap is confirmed or billed
    at.button(key="go_to_gap").click().run()
    assert at.selectbox[0].value == "2026-01"
    assert not any("not billed yet" in w.value for w in at.warning)  # nothing before January
    [generate] = [b for b in at.button if b.label.startswith("Generate")]
    assert generate.label == "Generate 1 invoice" and not generate.disabled


def test_the_payment_and_credit_pickers_offer_a_search_beyond_their_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sales_core import corrections, payments
    from ui import pickers

    settings = load_settings()
    at = invoices_tab(open_invoices(), "Receivables")
    # The demo's few open receivables fit: no search box, every one offered. Its 500-odd
    # invoices that can be credited do not: the first 200 and a search box.
    assert not [t for t in at.text_input if t.key == "pay_find"]
    owed = payments.open_receivables(settings)
    assert len(at.selectbox(key="pay_number").options) == len(owed) > 2
    assert len(corrections.creditable(settings)) > pickers.LIMIT
    assert len(at.selectbox(key="credit_number").options) == pickers.LIMIT
    assert at.text_input(key="credit_find").value == ""

    monkeypatch.setattr(pickers, "LIMIT", 2)  # a base with more receivables than the limit
    st.cache_data.clear()
    at.run()
    assert len(at.selectbox(key="pay_number").options) == 2
    assert len(at.selectbox(key="credit_number").options) == 2
    assert any("the first 2 are listed" in c.value for c in at.caption)
    # A search narrows in SQL: by community, ignoring case.
    community = str(owed["community"].iloc[-1])
    at.text_input(key="pay_find").set_value(community.upper()[:6]).run()
    offered = at.selectbox(key="pay_number").options
    assert offered and all(community[:6].lower() in o.lower() for o in offered)
    held = corrections.creditable(settings, "INV-", 3)
    at.text_input(key="credit_find").set_value(str(held["number"].iloc[0])).run()
    assert at.selectbox(key="credit_number").options[0].startswith(held["number"].iloc[0])
    at.text_input(key="pay_find").set_value("no such invoice ✗").run()
    assert not at.exception
    assert any("matches “no such invoice ✗”" in c.value for c in at.caption)


def test_many_unbilled_months_are_named_by_the_oldest_and_counted() -> None:
    from ui.invoice_run import gaps_text

    assert gaps_text(["2026-01", "2026-05"]) == "2026-01, 2026-05"
    months = [f"2025-{m:02d}" for m in range(1, 13)]
    assert gaps_text(months[:7]) == ", ".join(months[:7])  # hiding one would save nothing
    assert (
        gaps_text(months) == "2025-01, 2025-02, 2025-03, 2025-04, 2025-05, 6 more months, 2025-12"
    )
