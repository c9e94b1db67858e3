"""The parts of the Qualify a lead page around its checklist: the opportunity picker and the
past assessments (the table, one in full, two compared).

User text (names, notes) is only ever shown through st.dataframe, st.text or a select box's
options, never as Markdown; the Markdown here carries only the product's own words (criteria,
answers, recommendations, dates and numbers).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from sales_core import assessments, qualification
from sales_core.config import Settings
from sales_core.errors import SalesError
from sales_core.formatting import markdown_text
from sales_core.health import SyncStatus
from sales_core.qualification import CRITERIA, Assessment, Recommendation

CHOSEN = "qualify_opportunity"
REQUESTED = "qualify_requested"  # the last ?opportunity= link acted on
ADVICE_COLOUR: dict[Recommendation, str] = {
    "Pursue": "green",
    "Gather information": "orange",
    "Decline": "red",
}


@st.cache_data(show_spinner=False, max_entries=64)
def _choices(db: str, lock_timeout: float, version: int, search: str) -> assessments.Choices:
    """The opportunities offered for one search; `version` keys the cache to the data."""
    return assessments.opportunity_choices(db, search, lock_timeout=lock_timeout)


@st.cache_data(show_spinner=False, max_entries=64)
def _opportunity(db: str, lock_timeout: float, version: int, opp: str) -> dict[str, Any] | None:
    """One opportunity with its latest score, or None."""
    return assessments.opportunity(db, opp, lock_timeout=lock_timeout)


@st.cache_data(show_spinner=False, max_entries=32)
def _history(db: str, lock_timeout: float, version: int, opp: str) -> pd.DataFrame:
    return assessments.history(db, opp, lock_timeout=lock_timeout)


def history(settings: Settings, status: SyncStatus, opp: str) -> pd.DataFrame:
    """One opportunity's assessments, newest first (cached per data version)."""
    return _history(str(settings.db_path), settings.lock_timeout, status.data_version, opp)


def choose_opportunity(settings: Settings, status: SyncStatus) -> dict[str, Any]:
    """The picker: a search box first when there are more than PICKER_LIMIT opportunities, then
    at most PICKER_LIMIT of them to choose from. Returns the chosen opportunity; stops the page
    (saying why) while none is chosen. `?opportunity=<record id>` chooses one, and the choice
    is written back to the URL so that it can be shared.
    """
    db, timeout, version = str(settings.db_path), settings.lock_timeout, status.data_version

    def find(opp: str) -> dict[str, Any] | None:
        return _opportunity(db, timeout, version, opp)

    try:
        everyone = _choices(db, timeout, version, "")
        requested = st.query_params.get("opportunity")
        linked = find(requested) if requested else None
    except SalesError as exc:
        st.error(markdown_text(exc))
        st.stop()
        raise  # unreachable: st.stop() raises
    if not everyone.labels:
        st.info(
            "No opportunities yet: the last sync found none. Add one to the Opportunities table "
            "and press **Sync now**."
        )
        st.stop()

    # Arriving from the pipeline with ?opportunity=<record id> chooses it (once per new link).
    if requested and requested != st.session_state.get(REQUESTED):
        st.session_state[REQUESTED] = requested
        if linked is not None:
            st.session_state[CHOSEN] = requested
    if requested and linked is None:
        st.warning(
            "The link names an opportunity that is not in the data (deleted, or not synced)."
        )

    offered = everyone
    if everyone.more:
        wanted = st.text_input(
            "Find an opportunity",
            key="qualify_find",
            placeholder="Part of its name or organisation",
            max_chars=200,
        ).strip()
        if wanted:
            offered = _choices(db, timeout, version, wanted)
        limit = assessments.PICKER_LIMIT
        if offered.more:
            st.caption(
                f"More than {limit} match; the first {limit} are listed: type more to narrow."
            )
        else:
            count = len(offered.labels)
            st.caption(f"{count:,} match{'es' if count != 1 else ''}.")
    labels = dict(offered.labels)
    current = st.session_state.get(CHOSEN)
    if current is not None and current not in labels:
        row = find(current)
        if row is None:  # gone since it was chosen (deleted in AirTable, then synced)
            del st.session_state[CHOSEN]
        else:
            labels = {current: assessments.choice_label(row), **labels}
    chosen: str | None = st.selectbox(
        "Opportunity (open ones first)",
        list(labels),
        format_func=labels.__getitem__,
        index=None,
        key=CHOSEN,
        placeholder="Type a name or an organisation…",
    )
    if chosen is None:
        if "opportunity" in st.query_params:
            del st.query_params["opportunity"]
        st.info("Choose the opportunity to assess.")
        st.stop()
        raise AssertionError("unreachable: st.stop() raises")
    if st.query_params.get("opportunity") != chosen:
        st.query_params["opportunity"] = chosen
        st.session_state[REQUESTED] = chosen
    opportunity = linked if chosen == requested and linked is not None else find(chosen)
    if opportunity is None:
        st.warning("That opportunity is no longer in the data (deleted, or not synced).")
        st.stop()
        raise AssertionError("unreachable: st.stop() raises")
    return opportunity


def summary(opportunity: dict[str, Any]) -> None:
    """The chosen opportunity in one row, with its latest score and recommendation."""
    columns = {
        "Opportunity": "name",
        "Organisation": "organization",
        "Stage": "stage",
        "Value": "value",
        "Currency": "currency",
        "Expected close": "expected_close",
        "Owner": "owner_name",
        "Latest score": "latest_score",
        "Latest recommendation": "latest_recommendation",
    }
    st.dataframe(
        pd.DataFrame([{title: opportunity.get(name) for title, name in columns.items()}]),
        placeholder="—",
        hide_index=True,
        width="stretch",
        column_config={
            "Value": st.column_config.NumberColumn("Value", format="localized"),
            "Expected close": st.column_config.DateColumn("Expected close", format="YYYY-MM-DD"),
            "Latest score": st.column_config.NumberColumn("Latest score (of 14)"),
        },
    )


def assessment_label(row: dict[str, Any]) -> str:
    """'2026-11-20 · Amara Okafor · Pursue (12)' for a select box (options are plain text)."""
    return (
        f"{row['assessed_on']:%Y-%m-%d} · {row['assessed_by']} · "
        f"{row['recommendation']} ({row['score']})"
    )


def past_assessments(past: pd.DataFrame, chosen: str, opportunity: dict[str, Any]) -> None:
    """The opportunity's assessments: a table, one in full with its Markdown, two compared."""
    st.subheader("Past assessments")
    if past.empty:
        st.caption("None yet: the one below will be the first.")
        return
    st.dataframe(
        past[["assessed_on", "assessed_by", "score", "recommendation", "status", "saved_by"]],
        placeholder="—",
        hide_index=True,
        width="stretch",
        column_config={
            "assessed_on": st.column_config.DateColumn("Assessed on"),
            "assessed_by": "Assessed by",
            "saved_by": "Saved by",
            "score": st.column_config.NumberColumn("Score (of 14)"),
            "recommendation": "Recommendation",
            "status": st.column_config.TextColumn("Status", width="large"),
        },
    )
    rows: list[dict[str, Any]] = past.to_dict("records")
    # Options are assessment keys, not positions: a new assessment shifts the positions. The
    # count in the widget keys starts each choice afresh (on the latest) when one is added.
    by_key = {str(row["assessment_key"]): row for row in rows}
    labels = {key: assessment_label(row) for key, row in by_key.items()}
    # Both expanders run their content only while open: a click anywhere in the checklist
    # reruns the page, and nobody needs the Markdown or the comparison redrawn for it.
    detail = st.expander(
        "One assessment in full, and its Markdown",
        key=f"qualify_detail/{chosen}",
        on_change="rerun",
    )
    if detail.open:
        with detail:
            one_in_full(by_key, labels, chosen, opportunity, len(rows))
    if len(rows) >= 2:
        compare = st.expander(
            "Compare two assessments, criterion by criterion",
            key=f"qualify_compare/{chosen}",
            on_change="rerun",
        )
        if compare.open:
            with compare:
                compare_two(by_key, labels, chosen)


def one_in_full(
    by_key: dict[str, dict[str, Any]],
    labels: dict[str, str],
    chosen: str,
    opportunity: dict[str, Any],
    count: int,
) -> None:
    """One assessment's answers and notes, and its Markdown to download."""
    picked = st.selectbox(
        "Assessment",
        list(by_key),
        format_func=labels.__getitem__,
        key=f"qualify_past/{chosen}/{count}",
    )
    row = by_key[picked] if picked in by_key else next(iter(by_key.values()))
    st.dataframe(
        assessments.answers_table(row),
        placeholder="—",
        hide_index=True,
        width="stretch",
        column_config={"Notes": st.column_config.TextColumn("Notes", width="large")},
    )
    file_name, markdown = assessments.markdown_download(row, chosen, opportunity)
    st.download_button(
        "Download as Markdown",
        data=markdown,
        file_name=file_name,
        mime="text/markdown",
        on_click="ignore",
        key=f"qualify_download/{chosen}",
    )


def compare_two(by_key: dict[str, dict[str, Any]], labels: dict[str, str], chosen: str) -> None:
    """Two select boxes (the latest two by default) and the two assessments side by side."""
    keys = list(by_key)
    left, right = st.columns(2)
    first = left.selectbox(
        "First assessment",
        keys,
        index=1,
        format_func=labels.__getitem__,
        key=f"qualify_compare_first/{chosen}/{len(keys)}",
    )
    second = right.selectbox(
        "Second assessment",
        keys,
        index=0,
        format_func=labels.__getitem__,
        key=f"qualify_compare_second/{chosen}/{len(keys)}",
    )
    if first not in by_key or second not in by_key or first == second:
        st.info("Choose two different assessments to compare them.")
        return
    pair = [assessments.assessment_from_row(by_key[k], chosen) for k in (first, second)]
    comparison = qualification.compare(*pair)
    (st.info if comparison.changed else st.success)(comparison.summary)
    side_by_side(pair, comparison)


def side_by_side(pair: list[Assessment], comparison: qualification.Comparison) -> None:
    """Each criterion in a row: its answer and notes in each assessment, what changed marked."""
    widths = [2, 5, 5]
    heading = st.columns(widths)
    heading[0].markdown("**Criterion**")
    for column, assessment in zip(heading[1:], pair, strict=True):
        column.markdown(f"**{assessment.assessed_on:%Y-%m-%d}**")
        column.text(f"by {assessment.assessed_by}")
    for change in comparison.criteria:
        with st.container(border=True):
            name, *sides = st.columns(widths)
            name.markdown(f"**{change.criterion}**")
            if change.answer_changed:
                name.badge("Answer changed", color="orange")
            if change.notes_changed:
                name.badge("Notes changed", color="orange")
            if not change.changed:
                name.badge("Unchanged", color="gray")
            for side, answer, notes in (
                (sides[0], change.first_answer, change.first_notes),
                (sides[1], change.second_answer, change.second_notes),
            ):
                side.markdown(
                    f":orange[**{answer}**]" if change.answer_changed else f"**{answer}**"
                )
                if notes:
                    side.text(notes)
                else:
                    side.caption("No notes.")
    with st.container(border=True):
        name, *sides = st.columns(widths)
        name.markdown("**Verdict**")
        moved = (comparison.first.score, comparison.first.recommendation) != (
            comparison.second.score,
            comparison.second.recommendation,
        )
        name.badge("Changed" if moved else "Unchanged", color="orange" if moved else "gray")
        for side, verdict in zip(sides, (comparison.first, comparison.second), strict=True):
            colour = ADVICE_COLOUR[verdict.recommendation]
            side.markdown(
                f"Score **{verdict.score}** of {qualification.MAX_SCORE} · "
                f":{colour}[**{verdict.recommendation}**] · "
                f"{verdict.answered} of {len(CRITERIA)} answered"
            )
