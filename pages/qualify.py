"""Qualify a lead: the MANIAC-T checklist of one opportunity, its live verdict and its history.

Widgets are keyed per form (`qualify/<form id>/…`); the form id is made once per opportunity and
session, and it is part of the Assessment Key, so pressing Save twice saves once. Saving runs in
the button's callback, before the page draws, so the history below already shows the new row.
User text (names, notes) is only ever shown through st.dataframe / st.text, never as Markdown.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from sales_core import assessments, qualification
from sales_core.access import Actor
from sales_core.config import Settings
from sales_core.errors import SalesError
from sales_core.formatting import markdown_text
from sales_core.qualification import CRITERIA, criterion_attr
from sales_core.vocabulary import Answer, texts
from ui import chrome

OUTCOME = "qualify_outcome"  # the last save's result, per form
ASSESSOR = "qualify_assessor"
CHOSEN = "qualify_opportunity"

settings, status = chrome.page_start()
user = chrome.actor(settings)
st.title("Qualify a lead")
st.caption(
    "MANIAC-T: Money, Authority, Need, Impending Event, Application, Competition, Timeline. "
    "Answer each criterion with the evidence in the notes; the score and recommendation follow."
)

if not status.has_data:
    st.info("No data yet. Press **Sync now** in the sidebar to load the opportunities.")
    st.stop()


@st.cache_data(show_spinner=False, max_entries=4)
def load_opportunities(db_path: str, lock_timeout: float, version: int) -> pd.DataFrame:
    """The opportunities to choose from; `version` keys the cache to the data version."""
    return assessments.opportunities(db_path, lock_timeout=lock_timeout)


@st.cache_data(show_spinner=False, max_entries=32)
def load_history(db_path: str, lock_timeout: float, version: int, opp: str) -> pd.DataFrame:
    """One opportunity's assessments, newest first."""
    return assessments.history(db_path, opp, lock_timeout=lock_timeout)


db = str(settings.db_path)
try:
    opportunities = load_opportunities(db, settings.lock_timeout, status.data_version)
except SalesError as exc:
    st.error(markdown_text(exc))
    st.stop()
if opportunities.empty:
    st.info(
        "No opportunities yet: the last sync found none. Add one to the Opportunities table "
        "and press **Sync now**."
    )
    st.stop()

by_id = opportunities.set_index("id", drop=False)
PICKER_LIMIT = 200  # options sent to the browser at most: a large base has tens of thousands


# Arriving from the pipeline with ?opportunity=<record id> chooses it (once per new link).
requested = st.query_params.get("opportunity")
if requested and requested != st.session_state.get("qualify_requested"):
    st.session_state["qualify_requested"] = requested
    if requested in by_id.index:
        st.session_state[CHOSEN] = requested
if requested and requested not in by_id.index:
    st.warning("The link names an opportunity that is not in the data (deleted, or not synced).")

ids = list(by_id.index)
if len(ids) > PICKER_LIMIT:
    wanted = st.text_input(
        "Find an opportunity",
        key="qualify_find",
        placeholder="Part of its name or organisation",
        max_chars=200,
    ).strip()
    found = ids
    if wanted:
        needle = wanted.casefold()
        hay = (by_id["name"].fillna("") + " " + by_id["organization"].fillna("")).str.casefold()
        found = list(by_id.index[hay.str.contains(needle, regex=False)])
    ids = found[:PICKER_LIMIT]
    current = st.session_state.get(CHOSEN)
    if current in by_id.index and current not in ids:
        ids.insert(0, current)
    st.caption(
        f"{len(found):,} match{'es' if len(found) != 1 else ''}"
        + (
            f"; the first {PICKER_LIMIT} are listed: type more to narrow."
            if len(found) > PICKER_LIMIT
            else "."
        )
    )
labels = {row["id"]: assessments.choice_label(row) for row in by_id.loc[ids].to_dict("records")}
chosen: str | None = st.selectbox(
    "Opportunity (open ones first)",
    ids,
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
if st.query_params.get("opportunity") != chosen:
    st.query_params["opportunity"] = chosen
    st.session_state["qualify_requested"] = chosen

opportunity = by_id.loc[chosen]
summary = pd.DataFrame(
    [
        {
            "Opportunity": opportunity["name"],
            "Organisation": opportunity["organization"],
            "Stage": opportunity["stage"],
            "Value": opportunity["value"],
            "Currency": opportunity["currency"],
            "Expected close": opportunity["expected_close"],
            "Owner": opportunity["owner_name"],
            "Latest score": opportunity["latest_score"],
            "Latest recommendation": opportunity["latest_recommendation"],
        }
    ]
)
st.dataframe(
    summary,
    placeholder="—",
    hide_index=True,
    width="stretch",
    column_config={
        "Value": st.column_config.NumberColumn("Value", format="localized"),
        "Expected close": st.column_config.DateColumn("Expected close", format="YYYY-MM-DD"),
        "Latest score": st.column_config.NumberColumn("Latest score (of 14)"),
    },
)

# -- past assessments ------------------------------------------------------------------------

st.subheader("Past assessments")
past = load_history(db, settings.lock_timeout, status.data_version, chosen)
if past.empty:
    st.caption("None yet: the one below will be the first.")
else:
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
    rows = past.to_dict("records")
    with st.expander("One assessment in full, and its Markdown", expanded=False):
        picked = st.selectbox(
            "Assessment",
            range(len(rows)),
            format_func=lambda i: (
                f"{rows[i]['assessed_on']:%Y-%m-%d} · {rows[i]['assessed_by']} · "
                f"{rows[i]['recommendation']} ({rows[i]['score']})"
            ),
            key=f"qualify_past/{chosen}",
        )
        row: dict[str, Any] = rows[picked or 0]
        st.dataframe(
            assessments.answers_table(row),
            placeholder="—",
            hide_index=True,
            width="stretch",
            column_config={"Notes": st.column_config.TextColumn("Notes", width="large")},
        )
        file_name, markdown = assessments.markdown_download(row, chosen, opportunity.to_dict())
        st.download_button(
            "Download as Markdown",
            data=markdown,
            file_name=file_name,
            mime="text/markdown",
            on_click="ignore",
            key=f"qualify_download/{chosen}",
        )

# -- the checklist ---------------------------------------------------------------------------

forms: dict[str, str] = st.session_state.setdefault("qualify_forms", {})
form_id = forms.setdefault(chosen, uuid.uuid4().hex)
prefix = f"qualify/{form_id}"


def field_key(name: str) -> str:
    return f"{prefix}/{name}"


st.session_state.setdefault(ASSESSOR, user.email or st.user.get("email") or "")
st.session_state.setdefault(field_key("date"), date.today())
for criterion in CRITERIA:
    st.session_state.setdefault(field_key(criterion_attr(criterion)), "Unknown")
    st.session_state.setdefault(field_key(f"{criterion_attr(criterion)}_notes"), "")


def form_values(key_prefix: str) -> dict[str, Any]:
    """The form as typed, from session state (so the Save callback can read it too)."""
    state = st.session_state
    return {
        "assessed_by": state[ASSESSOR],
        "assessed_on": state[f"{key_prefix}/date"],
        "answers": {c: state[f"{key_prefix}/{criterion_attr(c)}"] for c in CRITERIA},
        "notes": {c: state[f"{key_prefix}/{criterion_attr(c)}_notes"] for c in CRITERIA},
    }


def save(
    save_settings: Settings, opportunity_id: str, form: str, key_prefix: str, actor: Actor
) -> None:
    """The Save button's callback: validate, save once per key, push; remember the outcome."""
    try:
        values = form_values(key_prefix)
        assessment = qualification.build_assessment(opportunity_id=opportunity_id, **values)
        outcome: Any = assessments.save(save_settings, assessment, form, actor=actor)
    except qualification.InvalidAssessment as exc:
        outcome = exc
    except SalesError as exc:
        outcome = str(exc)
    st.session_state[OUTCOME] = (key_prefix, outcome)


def new_form(opportunity_id: str) -> None:
    """Start a new assessment of the same opportunity: a fresh form and a fresh key."""
    st.session_state["qualify_forms"][opportunity_id] = uuid.uuid4().hex


st.subheader("Checklist")
last_prefix, last_outcome = st.session_state.get(OUTCOME, (None, None))
outcome = last_outcome if last_prefix == prefix else None
problems = outcome.problems if isinstance(outcome, qualification.InvalidAssessment) else {}

result = qualification.verdict(form_values(prefix)["answers"])

checklist, verdict_column = st.columns([5, 2], gap="large")
with checklist:
    for criterion in CRITERIA:
        attr = criterion_attr(criterion)
        with st.container(border=True):
            about, answer, notes = st.columns([4, 2, 5])
            about.markdown(f"**{criterion}**")
            about.caption("\n".join(f"- {q}" for q in qualification.QUESTIONS[criterion]))
            answer.radio(
                f"{criterion}: answer",
                texts(Answer),
                key=field_key(attr),
                label_visibility="collapsed",
                persist_state="session",
            )
            typed = notes.text_area(
                f"{criterion} notes",
                key=field_key(f"{attr}_notes"),
                placeholder="The evidence, in your words",
                height=90,
                label_visibility="collapsed",
                persist_state="session",
            )
            length = len(typed or "")
            if criterion in problems:
                notes.error(problems[criterion])
            elif length > qualification.NOTES_MAX_CHARS * 0.9:
                notes.caption(f"{length:,} of {qualification.NOTES_MAX_CHARS:,} characters")

    who, when = st.columns([3, 1])
    who.text_input(
        "Assessed by", key=ASSESSOR, placeholder="Your name or email", persist_state="session"
    )
    if "assessor" in problems:
        who.error(problems["assessor"])
    when.date_input(
        "Assessed on", key=field_key("date"), format="YYYY-MM-DD", persist_state="session"
    )
    if "date" in problems:
        when.error(problems["date"])

    buttons = st.container(horizontal=True, vertical_alignment="center")
    buttons.button(
        "Save assessment",
        type="primary",
        key=field_key("save"),
        on_click=save,
        args=(settings, chosen, form_id, prefix, user),
    )
    buttons.button(
        "Start a new assessment", key=field_key("new"), on_click=new_form, args=(chosen,)
    )
    buttons.caption(
        f"This checklist: {result.recommendation}, score {result.score} of "
        f"{qualification.MAX_SCORE}, {result.answered} of {len(CRITERIA)} criteria answered."
    )

    if isinstance(outcome, qualification.InvalidAssessment):
        st.error("Not saved. " + " ".join(outcome.problems.values()))
    elif isinstance(outcome, str):
        st.error(f"Not saved: {markdown_text(outcome)}")
    elif isinstance(outcome, assessments.SaveOutcome):
        shown = st.warning if outcome.airtable_configured and not outcome.pushed else st.success
        shown(markdown_text(outcome.message))

with verdict_column, st.container(border=True):
    st.markdown("#### Verdict")
    score_column, complete_column = st.columns(2)
    score_column.metric(f"Score (of {qualification.MAX_SCORE})", result.score)
    complete_column.metric("Answered", f"{result.answered} of {len(CRITERIA)}")
    st.progress(result.completeness, text=f"Completeness {result.completeness:.0%}")
    show = {"Pursue": st.success, "Gather information": st.warning, "Decline": st.error}
    show[result.recommendation](f"**{result.recommendation}.** {result.reason}")
    if result.recommendation == "Gather information" and result.next_questions:
        st.markdown("**Ask next**")
        for open_question in result.next_questions:
            questions = "\n".join(f"- {q}" for q in open_question.questions)
            st.caption(f"**{open_question.criterion}** ({open_question.answer})\n{questions}")
