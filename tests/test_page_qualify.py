"""The Qualify a lead page through the router with AppTest: choose, answer, save, history."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from sales_core import store
from sales_core.config import load_settings
from sales_core.qualification import CRITERIA, criterion_attr
from sales_core.sync import run_sync
from tests.fake_airtable import FakeAirtable, airtable_record

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PAGE = "pages/qualify.py"
NASTY = 'He said "yes" \\o/ <b>bold</b> **not bold** :red[x] $x$ 🎉 =HYPERLINK("http://x","y")'


@pytest.fixture(autouse=True)
def clear_caches() -> Iterator[None]:
    st.cache_data.clear()
    st.cache_resource.clear()
    yield


def open_page(**query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.query_params.update(query)
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def first_open_opportunity() -> str:
    """An open demo opportunity that has no assessment yet."""
    with store.connect(load_settings().db_path) as con:
        rows = con.execute(
            "SELECT id FROM opportunities WHERE stage NOT IN ('Closed—won', 'Closed—lost') "
            "AND id NOT IN (SELECT opportunity_id FROM latest_assessment) ORDER BY id LIMIT 1"
        ).fetchall()
    return str(rows[0][0])


def other_opportunity() -> str:
    """A second open demo opportunity without an assessment."""
    with store.connect(load_settings().db_path) as con:
        rows = con.execute(
            "SELECT id FROM opportunities WHERE stage NOT IN ('Closed—won', 'Closed—lost') "
            "AND id NOT IN (SELECT opportunity_id FROM latest_assessment) ORDER BY id LIMIT 2"
        ).fetchall()
    return str(rows[1][0])


def open_expander(at: AppTest, key: str) -> None:
    """Open an expander whose content runs only while it is open, as a click on it does."""
    at.session_state[key] = True
    at.run()
    assert not at.exception, at.exception


def choose(at: AppTest, opportunity_id: str) -> AppTest:
    at.selectbox(key="qualify_opportunity").set_value(opportunity_id).run()
    assert not at.exception, at.exception
    return at


def form_prefix(at: AppTest) -> str:
    key = str(at.radio[0].key)
    return key.rsplit("/", 1)[0]


def answer(at: AppTest, criterion: str, value: str) -> None:
    at.radio(key=f"{form_prefix(at)}/{criterion_attr(criterion)}").set_value(value)


def note(at: AppTest, criterion: str, text: str) -> None:
    at.text_area(key=f"{form_prefix(at)}/{criterion_attr(criterion)}_notes").input(text)


def verdict_text(at: AppTest) -> str:
    return " ".join(str(e.value) for e in [*at.success, *at.warning, *at.error])


def saved_rows() -> list[dict[str, Any]]:
    with store.connect(load_settings().db_path) as con:
        return store.query(con, "SELECT * FROM assessments ORDER BY saved_at, rowid")


def history(at: AppTest) -> Any:
    return at.dataframe[1].value  # [0] is the opportunity's summary


def save_button(at: AppTest) -> Any:
    return next(b for b in at.button if b.label == "Save assessment")


def test_choose_answer_save_and_save_again_makes_one_row() -> None:
    at = open_page()
    assert "Choose the opportunity to assess." in [i.value for i in at.info]
    opp = first_open_opportunity()
    choose(at, opp)
    assert at.query_params["opportunity"] == opp  # a shareable link
    assert "Gather information" in verdict_text(at)
    assert at.text_input(key="qualify_assessor").value == "test@example.com"  # st.user's email

    for criterion in CRITERIA:
        answer(at, criterion, "Confirmed")
    at.run()
    assert "**Pursue.**" in verdict_text(at)
    assert {m.label: m.value for m in at.metric}["Score (of 14)"] == "14"

    answer(at, "Application", "No")
    at.run()
    assert "**Decline.**" in verdict_text(at) and "better suited" in verdict_text(at)

    note(at, "Money", NASTY)
    save_button(at).click().run()
    assert not at.exception, at.exception
    assert any(s.value.startswith("Saved.") for s in at.success)
    [row] = saved_rows()
    assert row["opportunity_id"] == opp and row["money_notes"] == NASTY
    assert row["recommendation"] == "Decline" and row["score"] == 12
    table = history(at)
    assert list(table["recommendation"]) == ["Decline"]
    assert list(table["status"]) == ["saved here"]

    # A second press (a double click, a retry): still one row, and the page says so.
    save_button(at).click().run()
    assert len(saved_rows()) == 1
    assert len(history(at)) == 1
    assert any("Already saved" in s.value for s in at.success)


def test_notes_are_shown_as_text_never_as_markdown() -> None:
    at = open_page()
    opp = first_open_opportunity()
    choose(at, opp)
    note(at, "Need", NASTY)
    save_button(at).click().run()
    assert len(at.dataframe) == 2  # the detail runs only once its expander is open
    open_expander(at, f"qualify_detail/{opp}")
    detail = at.dataframe[2].value
    assert detail.set_index("Criterion").loc["Need", "Notes"] == NASTY
    markdown = " ".join(m.value for m in [*at.markdown, *at.caption, *at.success, *at.warning])
    assert "HYPERLINK" not in markdown and "<b>" not in markdown
    # What was typed is still in the box, as typed.
    assert at.text_area(key=f"{form_prefix(at)}/need_notes").value == NASTY


def test_validation_says_what_to_fix_and_keeps_what_was_typed() -> None:
    at = open_page()
    choose(at, first_open_opportunity())
    prefix = form_prefix(at)
    at.text_input(key="qualify_assessor").input("")
    answer(at, "Need", "Partial")
    long_note = "é" * 5001
    note(at, "Timeline", long_note)
    note(at, "Money", "kept")
    save_button(at).click().run()
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert "An assessor is required: enter your name or email." in errors
    assert any("The Timeline notes are 5,001 characters long" in e for e in errors)
    assert saved_rows() == []
    assert at.text_area(key=f"{prefix}/timeline_notes").value == long_note
    assert at.text_area(key=f"{prefix}/money_notes").value == "kept"
    assert at.radio(key=f"{prefix}/need").value == "Partial"

    # Fixed, it saves with everything that was typed.
    at.text_input(key="qualify_assessor").input("Amara Okafor")
    note(at, "Timeline", "short now")
    save_button(at).click().run()
    [row] = saved_rows()
    assert (row["assessed_by"], row["money_notes"], row["need"]) == (
        "Amara Okafor",
        "kept",
        "Partial",
    )


def test_link_from_the_pipeline_chooses_the_opportunity() -> None:
    run_sync(load_settings())
    opp = first_open_opportunity()
    at = open_page(opportunity=opp)
    assert at.selectbox(key="qualify_opportunity").value == opp
    assert at.dataframe[0].value.iloc[0]["Opportunity"]  # the summary is shown
    at.selectbox(key="qualify_opportunity").set_value(None).run()
    assert "opportunity" not in at.query_params

    wrong = open_page(opportunity="recDOESNOTEXIST00")
    assert any("not in the data" in w.value for w in wrong.warning)
    assert wrong.selectbox(key="qualify_opportunity").value is None


def test_past_assessments_include_the_synced_ones_and_a_new_assessment_adds_a_row() -> None:
    run_sync(load_settings())
    with store.connect(load_settings().db_path) as con:
        [(opp, synced)] = con.execute(
            "SELECT opportunity_id, count(*) FROM qualifications "
            "GROUP BY opportunity_id ORDER BY opportunity_id LIMIT 1"
        ).fetchall()
    at = open_page(opportunity=opp)
    assert len(history(at)) == synced
    assert set(history(at)["status"]) == {"from AirTable"}
    first_prefix = form_prefix(at)
    save_button(at).click().run()
    next(b for b in at.button if b.label == "Start a new assessment").click().run()
    assert form_prefix(at) != first_prefix
    save_button(at).click().run()
    assert len(saved_rows()) == 2
    assert len(history(at)) == synced + 2


def test_no_data_yet_is_said_in_words(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SALES_DEMO_DIR", str(tmp_path / "missing"))
    at = open_page()
    assert any(i.value.startswith("No data yet.") for i in at.info)


def test_no_opportunities_is_said_in_words(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for table in ("opportunities", "contracts", "invoices", "qualifications"):
        (tmp_path / f"{table}.json").write_text(json.dumps({"records": []}))
    monkeypatch.setenv("SALES_DEMO_DIR", str(tmp_path))
    at = open_page()
    assert any(i.value.startswith("No opportunities yet") for i in at.info)


def test_with_airtable__a_failed_push_is_said_and_the_next_save_sends_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token, base, opp = "test-token-0123456789", "appTESTBASE000001", "recOPP00000000001"
    with FakeAirtable(token=token, base_id=base) as server:
        server.set_records(
            "Opportunities", [airtable_record({"Opportunity Name": "Polar hub"}, opp)]
        )
        for table in ("Contracts", "Invoices", "Qualifications"):
            server.set_records(table, [])
        for name, value in {
            "AIRTABLE_API_KEY": token,
            "AIRTABLE_BASE_ID": base,
            "AIRTABLE_ENDPOINT_URL": server.endpoint_url,
            "AIRTABLE_RETRY_BACKOFF": "0.01",
            "AIRTABLE_MAX_RETRIES": "0",
        }.items():
            monkeypatch.setenv(name, value)
        run_sync(load_settings())
        server.add_fault("Qualifications", kind="write", status=503, times=1)
        at = open_page(opportunity=opp)
        save_button(at).click().run()
        [warning] = [w.value for w in at.warning if w.value.startswith("Saved.")]
        assert "not yet in AirTable" in warning and "503" in warning
        assert history(at)["status"][0].startswith("not yet pushed")

        save_button(at).click().run()  # the retry: same key, now pushed
        assert any("in AirTable's Qualifications table" in s.value for s in at.success)
        assert len(server.records("Qualifications")) == 1
        assert list(history(at)["status"]) == ["in AirTable"]
    assert not server.internal_errors


def test_a_draft_survives_choosing_another_opportunity_and_coming_back() -> None:
    at = open_page()
    with store.connect(load_settings().db_path) as con:
        a, b = (r[0] for r in con.execute("SELECT id FROM opportunities LIMIT 2").fetchall())
    choose(at, a)
    answer(at, "Money", "No")
    note(at, "Money", "half-typed draft")
    at.run()
    choose(at, b)
    assert at.radio(key=f"{form_prefix(at)}/money").value == "Unknown"
    choose(at, a)
    assert at.radio(key=f"{form_prefix(at)}/money").value == "No"
    assert at.text_area(key=f"{form_prefix(at)}/money_notes").value == "half-typed draft"


def test_a_large_base_ships_a_searched_few_options_not_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sales_core import demogen

    source = tmp_path / "big"
    demogen.write(demogen.generate(scale=1, sizes=demogen.Sizes(opportunities=700)), source)
    monkeypatch.setenv("SALES_DEMO_DIR", str(source))
    monkeypatch.setenv("SALES_DB", str(tmp_path / "big.duckdb"))
    run_sync(load_settings(), "demo")
    at = open_page()
    [box] = [b for b in at.selectbox if b.key == "qualify_opportunity"]
    assert len(box.options) == 200
    assert any("More than 200 match; the first 200 are listed" in c.value for c in at.caption), [
        c.value for c in at.caption
    ]
    with store.connect(load_settings().db_path) as con:
        [(wanted, name)] = con.execute(
            "SELECT id, name FROM opportunities ORDER BY id DESC LIMIT 1"
        ).fetchall()
    at.text_input(key="qualify_find").input(name.upper()).run()  # case does not matter
    [box] = [b for b in at.selectbox if b.key == "qualify_opportunity"]
    assert 1 <= len(box.options) < 200
    assert any(
        c.value.endswith(f"{len(box.options)} match{'es' if len(box.options) > 1 else ''}.")
        for c in at.caption
    )
    box.set_value(wanted).run()
    assert not at.exception
    assert at.query_params["opportunity"] == [wanted] or at.query_params["opportunity"] == wanted

    # A search that matches nothing still offers the chosen one; SQL wildcards are plain text.
    at.text_input(key="qualify_find").input("%_%").run()
    [box] = [b for b in at.selectbox if b.key == "qualify_opportunity"]
    assert len(box.options) == 1  # the chosen one, kept in the list
    assert box.value == wanted
    assert any(c.value.endswith("0 matches.") for c in at.caption)


# -- continuity: carried over, compared, the assessor remembered ----------------------------------


def badges(at: AppTest) -> list[str]:
    """The badges on the page (st.badge is Markdown's `:colour-badge[label]`)."""
    found = (re.fullmatch(r":\w+-badge\[(.*)\]", str(m.value)) for m in at.markdown)
    return [m.group(1) for m in found if m]


def button(at: AppTest, label: str, key_end: str | None = None) -> Any:
    return next(
        b for b in at.button if b.label == label and (key_end is None or b.key.endswith(key_end))
    )


def test_a_new_assessment_starts_from_the_latest_marked_carried_over() -> None:
    at = open_page()
    opp = first_open_opportunity()
    choose(at, opp)
    assert badges(at) == [] and not any("Started from" in i.value for i in at.info)
    answer(at, "Money", "Confirmed")
    note(at, "Money", NASTY)
    answer(at, "Need", "No")
    note(at, "Timeline", "x" * 5000)  # Unknown, but with notes: carried over too
    save_button(at).click().run()
    first_prefix = form_prefix(at)

    button(at, "Start a new assessment").click().run()
    assert not at.exception, at.exception
    prefix = form_prefix(at)
    assert prefix != first_prefix
    today = f"{date.today():%Y-%m-%d}"
    assert at.radio(key=f"{prefix}/money").value == "Confirmed"
    assert at.text_area(key=f"{prefix}/money_notes").value == NASTY
    assert at.radio(key=f"{prefix}/need").value == "No"
    assert at.radio(key=f"{prefix}/authority").value == "Unknown"
    assert at.text_area(key=f"{prefix}/timeline_notes").value == "x" * 5000
    assert badges(at) == ["Carried over"] * 3
    assert any(f"Started from the latest assessment, of {today}" in i.value for i in at.info)
    assert any("Money, Need, Timeline. Saving keeps them" in c.value for c in at.caption)
    markdown = " ".join(m.value for m in [*at.markdown, *at.caption, *at.info])
    assert "HYPERLINK" not in markdown  # the carried notes are in the box, not in Markdown

    button(at, "Still holds", "/money_holds").click().run()  # confirmed as it is
    answer(at, "Need", "Partial")  # changed
    at.run()
    assert badges(at) == ["Carried over"]  # Timeline still to review
    note(at, "Timeline", "sub-award in March")
    at.run()
    assert badges(at) == []
    assert any("Every criterion carried over has been changed" in c.value for c in at.caption)

    save_button(at).click().run()
    rows = saved_rows()
    assert [(r["money"], r["money_notes"], r["need"]) for r in rows] == [
        ("Confirmed", NASTY, "No"),
        ("Confirmed", NASTY, "Partial"),
    ]
    assert rows[1]["timeline_notes"] == "sub-award in March"
    assert rows[1]["assessed_on"] == date.today()


def test_two_assessments_side_by_side_with_what_changed() -> None:
    at = open_page()
    opp = first_open_opportunity()
    choose(at, opp)
    answer(at, "Money", "Partial")
    note(at, "Money", "seeking a grant")
    note(at, "Need", NASTY)
    save_button(at).click().run()
    assert not any(e.label.startswith("Compare two") for e in at.expander)  # one assessment

    button(at, "Start a new assessment").click().run()
    answer(at, "Money", "Confirmed")
    note(at, "Timeline", "sub-award in March")
    save_button(at).click().run()
    assert not at.exception, at.exception
    assert not [i for i in at.info if "criteria changed" in i.value]  # closed: not drawn
    open_expander(at, f"qualify_compare/{opp}")

    [summary] = [i.value for i in at.info if "criteria changed" in i.value]
    assert summary == (
        "2 of 7 criteria changed: Money (answer), Timeline (notes). "
        "Score 1 → 2; Gather information both times."
    )
    assert badges(at).count("Answer changed") == 1
    assert badges(at).count("Notes changed") == 1
    assert badges(at).count("Unchanged") == 5
    assert badges(at).count("Changed") == 1  # the verdict row: the score moved
    shown_text = [t.value for t in at.text]
    assert shown_text.count("seeking a grant") == 2 and shown_text.count(NASTY) == 2
    assert "sub-award in March" in shown_text
    answers_shown = [m.value for m in at.markdown]
    assert answers_shown.count(":orange[**Partial**]") == 1  # Money before: changed
    assert answers_shown.count(":orange[**Confirmed**]") == 1  # Money after
    assert answers_shown.count("**Unknown**") == 12  # six criteria unchanged, on both sides

    # The same assessment twice is not a comparison.
    newest = saved_rows()[-1]["assessment_key"]
    at.selectbox(key=f"qualify_compare_first/{opp}/2").set_value(newest).run()
    assert any(i.value.startswith("Choose two different assessments") for i in at.info)


def test_without_sign_in_the_assessor_typed_last_is_kept_for_the_session() -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.user = {}  # nobody signed in
    at.run()
    at.switch_page(PAGE).run()
    first, second = (first_open_opportunity(), other_opportunity())
    choose(at, first)
    assert at.text_input(key="qualify_assessor").value == ""
    at.text_input(key="qualify_assessor").input("Amara Okafor").run()
    save_button(at).click().run()
    button(at, "Start a new assessment").click().run()
    assert at.text_input(key="qualify_assessor").value == "Amara Okafor"
    choose(at, second)
    assert at.text_input(key="qualify_assessor").value == "Amara Okafor"
    at.text_input(key="qualify_assessor").input("Ben Reyes").run()
    at.selectbox(key="qualify_opportunity").set_value(None).run()  # no checklist drawn
    at.switch_page("pages/pipeline.py").run()  # another page and back
    at.switch_page(PAGE).run()
    choose(at, first)
    assert at.text_input(key="qualify_assessor").value == "Ben Reyes"
    save_button(at).click().run()
    assert [r["assessed_by"] for r in saved_rows()] == ["Amara Okafor", "Ben Reyes"]
