"""Qualify a lead in a real browser, against a loopback AirTable serving the demo base.

One user path: arrive from a pipeline link, see the verdict change while answering, be told what
to fix, save while AirTable fails (kept here, not yet pushed), save again with a double click
(one row here, one record in AirTable), download the Markdown.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from sales_core import assessments, store
from sales_core.config import load_settings
from sales_core.qualification import CRITERIA, carried_criteria
from sales_core.sync import run_sync
from tests.conftest import serve_demo
from tests.e2e.conftest import screenshot, settled
from tests.fake_airtable import FakeAirtable

NOTE = 'Said "yes" \\o/ <b>not bold</b> **nor this** 🎉 =HYPERLINK("http://x","y")'
TOKEN = "test-token-0123456789"
BASE = "appTESTBASE000001"


@pytest.fixture
def demo_base() -> Iterator[FakeAirtable]:
    """The demo files served as an AirTable base on a loopback port."""
    with FakeAirtable(token=TOKEN, base_id=BASE) as server:
        serve_demo(server)
        yield server
    assert not server.internal_errors, server.internal_errors[0]


def test_fill_the_checklist_and_save(
    start_app: Any, page: Page, tmp_path: Path, demo_base: FakeAirtable
) -> None:
    db = tmp_path / "e2e.duckdb"
    env = {
        "AIRTABLE_API_KEY": TOKEN,
        "AIRTABLE_BASE_ID": BASE,
        "AIRTABLE_ENDPOINT_URL": demo_base.endpoint_url,
        "AIRTABLE_MAX_RETRIES": "0",
        "SALES_DB": str(db),
    }
    run_sync(load_settings(env, tmp_path / "no-secrets.toml"))  # what the cron job would do
    before = len(demo_base.records("Qualifications"))
    with store.connect(db) as con:
        [(opp, name)] = con.execute(
            "SELECT id, name FROM opportunities WHERE stage = 'Proposal' "
            "AND id NOT IN (SELECT opportunity_id FROM latest_assessment) ORDER BY id LIMIT 1"
        ).fetchall()
    app = start_app(**env)
    # The overview first: until one session has run app.py (st.navigation), Streamlit 1.67 serves
    # a deep link by running pages/<name>.py on its own (its old pages/ directory mode).
    page.goto(app.url)
    expect(page.get_by_role("heading", name="Sales & invoicing console")).to_be_visible(
        timeout=60_000
    )

    page.goto(f"{app.url}/qualify?opportunity={opp}")
    expect(page.get_by_role("heading", name="Qualify a lead")).to_be_visible(timeout=60_000)
    expect(page.get_by_text(f"Source: AirTable base {BASE}")).to_be_visible()
    chosen = page.get_by_role("combobox", name="Opportunity (open ones first)")
    expect(chosen).to_have_value(re.compile("^" + re.escape(name)))
    verdict = page.get_by_test_id("stAlert").filter(has_text=re.compile(r"Score|criteria"))
    expect(verdict.filter(has_text="Gather information")).to_be_visible()
    expect(page.get_by_text("Ask next")).to_be_visible()
    expect(page.get_by_role("radiogroup", name="Timeline: answer")).to_be_visible()
    expect(page.get_by_test_id("stDataFrame").first).to_contain_text("Proposal")
    screenshot(page, "qualify-start")

    for criterion in CRITERIA:
        answer = "Partial" if criterion == "Timeline" else "Confirmed"
        group = page.get_by_role("radiogroup", name=f"{criterion}: answer")
        group.get_by_text(answer, exact=True).click()
    expect(verdict.filter(has_text="Pursue.")).to_be_visible()
    expect(page.get_by_test_id("stMetric").filter(has_text="Score")).to_contain_text("13")

    notes = page.get_by_role("textbox", name="Money notes")
    notes.fill(NOTE)
    notes.press("Control+Enter")

    # Without an assessor (nobody is signed in here) the save is refused, and nothing is lost.
    save = page.get_by_role("button", name="Save assessment")
    save.click()
    expect(page.get_by_text("An assessor is required").first).to_be_visible()
    expect(notes).to_have_value(NOTE)

    assessor = page.get_by_role("textbox", name="Assessed by")
    assessor.fill("Amara Okafor")
    assessor.press("Enter")

    # AirTable fails: the assessment is kept here and marked not yet pushed.
    demo_base.add_fault("Qualifications", kind="write", status=503, times=1)
    save.click()
    late = page.get_by_test_id("stAlertContentWarning").filter(has_text="not yet in AirTable")
    expect(late).to_contain_text("503")
    history = page.get_by_test_id("stDataFrame").nth(1)
    expect(history).to_contain_text("not yet pushed")

    # Saved again, with a double click: the same assessment, now in AirTable, once.
    save.dblclick()
    pushed = page.get_by_test_id("stAlertContentSuccess").filter(has_text="in AirTable's")
    expect(pushed).to_contain_text("Already saved")
    expect(history).to_contain_text("in AirTable")
    with store.connect(db) as con:
        rows = store.query(con, "SELECT * FROM assessments")
    assert len(rows) == 1, rows
    row = rows[0]
    assert (row["money_notes"], row["assessed_by"]) == (NOTE, "Amara Okafor")
    assert (row["score"], row["recommendation"], row["push_error"]) == (13, "Pursue", None)
    records = demo_base.records("Qualifications")
    assert len(records) == before + 1
    [mine] = [r for r in records if r["fields"]["Assessment Key"] == row["assessment_key"]]
    assert mine["id"] == row["airtable_id"]
    assert mine["fields"]["Money Notes"] == NOTE and mine["fields"]["Opportunity"] == [opp]
    assert page.get_by_test_id("stException").count() == 0
    screenshot(page, "qualify-saved")
    page.get_by_role("heading", name="Qualify a lead").scroll_into_view_if_needed()
    screenshot(page, "qualify")

    # The Markdown download of the saved assessment.
    settled(page)
    page.get_by_text("One assessment in full").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download as Markdown").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.startswith("# MANIAC-T assessment: ")
    assert "- **Recommendation:** Pursue" in text
    assert '> Said "yes" \\\\o/ \\<b\\>not bold\\</b\\> \\*\\*nor this\\*\\* 🎉' in text
    screenshot(page, "qualify-detail")


def test_reassess_from_the_latest_and_compare(start_app: Any, page: Page, tmp_path: Path) -> None:
    """Demo data, nobody signed in: a lead assessed before opens with that assessment carried
    over and marked; the assessor's name stays for the session; two assessments compared."""
    db = tmp_path / "e2e.duckdb"
    settings = load_settings({"SALES_DB": str(db)}, tmp_path / "no-secrets.toml")
    run_sync(settings)
    with store.connect(db) as con:
        [(opp, name, money, money_notes)] = con.execute(
            "SELECT q.opportunity_id, o.name, q.money, q.money_notes "
            "FROM latest_assessment AS l JOIN qualifications AS q USING (assessment_key) "
            "JOIN opportunities AS o ON o.id = q.opportunity_id "
            "WHERE q.money IN ('Confirmed', 'Partial') AND q.money_notes IS NOT NULL "
            "ORDER BY q.opportunity_id LIMIT 1"
        ).fetchall()
    latest = assessments.history(db, opp).iloc[0].to_dict()
    marked = len(carried_criteria(assessments.assessment_from_row(latest, opp)))
    app = start_app(SALES_DB=str(db))
    page.goto(app.url)
    expect(page.get_by_role("heading", name="Sales & invoicing console")).to_be_visible(
        timeout=60_000
    )
    page.goto(f"{app.url}/qualify?opportunity={opp}")
    expect(page.get_by_role("heading", name="Qualify a lead")).to_be_visible(timeout=60_000)
    settled(page)
    expect(page.get_by_text("Started from the latest assessment")).to_be_visible()
    money_group = page.get_by_role("radiogroup", name="Money: answer")
    expect(money_group.get_by_role("radio", name=money)).to_be_checked(timeout=30_000)
    notes = page.get_by_role("textbox", name="Money notes")
    expect(notes).to_have_value(money_notes)
    # st.badge draws a hidden copy of each badge too: count the visible ones
    carried = page.locator("span.stMarkdownBadge:visible", has_text=re.compile(r"^Carried over$"))
    expect(carried).to_have_count(marked)
    screenshot(page, "qualify-carried-over")

    # Money (the first carried over) said to hold: its mark goes; then its notes rewritten.
    page.get_by_role("button", name="Still holds").first.click()
    settled(page)
    expect(carried).to_have_count(marked - 1)
    notes.fill(NOTE)
    notes.press("Control+Enter")
    settled(page)

    assessor = page.get_by_role("textbox", name="Assessed by")
    expect(assessor).to_have_value("")
    assessor.fill("Amara Okafor")
    assessor.press("Enter")
    settled(page)
    page.get_by_role("button", name="Save assessment").click()
    expect(page.get_by_test_id("stAlertContentSuccess").filter(has_text="Saved.")).to_be_visible()

    # Another page and back: the name typed is still in the box.
    page.get_by_role("link", name="Pipeline").click()
    expect(page.get_by_role("heading", name="Pipeline")).to_be_visible(timeout=60_000)
    page.get_by_role("link", name="Qualify a lead").click()
    expect(page.get_by_role("heading", name="Qualify a lead")).to_be_visible(timeout=60_000)
    settled(page)
    chosen = page.get_by_role("combobox", name="Opportunity (open ones first)")
    chosen.click()
    chosen.fill(name[:25])
    page.get_by_role("option", name=re.compile("^" + re.escape(name))).click()
    settled(page)
    expect(page.get_by_role("textbox", name="Assessed by")).to_have_value(
        "Amara Okafor", timeout=30_000
    )

    # The two latest side by side: the note changed, and says so.
    page.get_by_text("Compare two assessments").click()
    settled(page)
    expect(
        page.get_by_text(re.compile(r"criteria changed: .*Money \((answer and )?notes\)"))
    ).to_be_visible()
    expect(page.locator("span.stMarkdownBadge:visible", has_text="Notes changed")).to_have_count(1)
    expect(page.get_by_test_id("stText").filter(has_text="HYPERLINK").first).to_be_visible()
    assert page.get_by_test_id("stException").count() == 0
    page.get_by_text("Compare two assessments").scroll_into_view_if_needed()
    screenshot(page, "qualify-compare")
    with store.connect(db) as con:
        [(saved_notes, by)] = con.execute(
            "SELECT money_notes, assessed_by FROM assessments"
        ).fetchall()
    assert (saved_notes, by) == (NOTE, "Amara Okafor")
