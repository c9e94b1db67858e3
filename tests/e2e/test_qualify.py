"""Qualify a lead in a real browser: arrive from a pipeline link, fill the checklist, save."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from sales_core import store
from sales_core.config import CRITERIA
from tests.e2e.conftest import screenshot

NOTE = 'Said "yes" \\o/ <b>not bold</b> **nor this** 🎉 =HYPERLINK("http://x","y")'


def test_fill_the_checklist_and_save(start_app: Any, page: Page, tmp_path: Path) -> None:
    app = start_app()
    db = tmp_path / "e2e.duckdb"
    page.goto(app.url)  # the first visit loads the demo data
    expect(page.get_by_role("heading", name="Sales & invoicing console")).to_be_visible(
        timeout=60_000
    )
    with store.connect(db) as con:
        [(opp, name)] = con.execute(
            "SELECT id, name FROM opportunities WHERE stage = 'Proposal' "
            "AND id NOT IN (SELECT opportunity_id FROM latest_assessment) ORDER BY id LIMIT 1"
        ).fetchall()

    page.goto(f"{app.url}/qualify?opportunity={opp}")
    expect(page.get_by_role("heading", name="Qualify a lead")).to_be_visible(timeout=60_000)
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
    page.get_by_role("button", name="Save assessment").click()
    expect(page.get_by_text("An assessor is required").first).to_be_visible()
    expect(notes).to_have_value(NOTE)

    assessor = page.get_by_role("textbox", name="Assessed by")
    assessor.fill("Amara Okafor")
    assessor.press("Enter")
    page.get_by_role("button", name="Save assessment").dblclick()
    outcome = page.get_by_test_id("stAlertContentSuccess").filter(has_text="local database")
    expect(outcome).to_contain_text(re.compile(r"^(Saved|Already saved)"))
    history = page.get_by_test_id("stDataFrame").nth(1)
    expect(history).to_be_visible()

    with store.connect(db) as con:
        rows = store.query(con, "SELECT * FROM assessments")
    assert len(rows) == 1, rows  # a double click saves once
    assert rows[0]["money_notes"] == NOTE and rows[0]["assessed_by"] == "Amara Okafor"
    assert (rows[0]["score"], rows[0]["recommendation"]) == (13, "Pursue")
    assert page.get_by_test_id("stException").count() == 0
    screenshot(page, "qualify")
    page.get_by_role("button", name="Save assessment").scroll_into_view_if_needed()
    screenshot(page, "qualify-saved")

    # The Markdown download of the saved assessment.
    page.get_by_text("One assessment in full").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download as Markdown").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.startswith("# MANIAC-T assessment: ")
    assert "- **Recommendation:** Pursue" in text
    assert '> Said "yes" \\\\o/ \\<b\\>not bold\\</b\\> \\*\\*nor this\\*\\* 🎉' in text
    screenshot(page, "qualify-detail")
