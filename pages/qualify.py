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

import streamlit as st

from sales_core import assessments, qualification
from sales_core.access import Actor
from sales_core.config import Settings
from sales_core.errors import SalesError
from sales_core.formatting import markdown_text
from sales_core.qualification import CRITERIA, criterion_attr
from sales_core.vocabulary import Answer, texts
from ui import chrome
from ui import qualify_panels as panels

OUTCOME = "qualify_outcome"  # the last save's result, per form
ASSESSOR = "qualify_assessor"

with chrome.page() as (settings, status):
    user = chrome.actor(settings)
    st.title("Qualify a lead")
    st.caption(
        "MANIAC-T: Money, Authority, Need, Impending Event, Application, Competition, Timeline. "
        "Answer each criterion with the evidence in the notes; the score and recommendation follow."
    )

    if not status.has_data:
        st.info("No data yet. Press **Sync now** in the sidebar to load the opportunities.")
        st.stop()

    opportunity = panels.choose_opportunity(settings, status)
    chosen = str(opportunity["id"])
    panels.summary(opportunity)
    try:
        past = panels.history(settings, status, chosen)
    except SalesError as exc:
        st.error(markdown_text(exc))
        st.stop()
    panels.past_assessments(past, chosen, opportunity)

    # -- the checklist ---------------------------------------------------------------------------

    forms: dict[str, str] = st.session_state.setdefault("qualify_forms", {})
    form_id = forms.setdefault(chosen, uuid.uuid4().hex)
    prefix = f"qualify/{form_id}"

    def field_key(name: str) -> str:
        return f"{prefix}/{name}"

    # A new form starts from the latest assessment, when there is one: its answers and notes are
    # carried over, and marked so until the assessor changes them or says they still hold.
    # The form's origin is decided once, when the form is made.
    if field_key("origin") not in st.session_state:
        st.session_state[field_key("origin")] = (
            None if past.empty else assessments.assessment_from_row(past.iloc[0].to_dict(), chosen)
        )
    origin: qualification.Assessment | None = st.session_state[field_key("origin")]
    reviewed: set[str] = st.session_state.setdefault(field_key("reviewed"), set())
    # The name typed last in this session (persist_state keeps it across pages and forms).
    st.session_state.setdefault(ASSESSOR, user.email or st.user.get("email") or "")
    st.session_state.setdefault(field_key("date"), date.today())
    for criterion in CRITERIA:
        attr = criterion_attr(criterion)
        carried_answer = origin.answers.get(criterion, "Unknown") if origin else "Unknown"
        carried_notes = origin.notes.get(criterion, "") if origin else ""
        st.session_state.setdefault(field_key(attr), carried_answer)
        st.session_state.setdefault(field_key(f"{attr}_notes"), carried_notes)

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
        """Start a new assessment of the same opportunity: a fresh form and a fresh key, filled
        from the latest assessment (the one just saved, if any) on the next run."""
        st.session_state["qualify_forms"][opportunity_id] = uuid.uuid4().hex

    def mark_reviewed(key_prefix: str, criterion: str) -> None:
        """The assessor changed this criterion or said it still holds: no longer carried over."""
        st.session_state.setdefault(f"{key_prefix}/reviewed", set()).add(criterion)

    st.subheader("Checklist")
    last_prefix, last_outcome = st.session_state.get(OUTCOME, (None, None))
    outcome = last_outcome if last_prefix == prefix else None
    problems = outcome.problems if isinstance(outcome, qualification.InvalidAssessment) else {}

    typed = form_values(prefix)
    result = qualification.verdict(typed["answers"])
    carried = (
        qualification.still_carried(origin, typed["answers"], typed["notes"], reviewed)
        if origin
        else ()
    )
    if origin:
        started = (
            f"Started from the latest assessment, of {origin.assessed_on:%Y-%m-%d} "
            f"(score {origin.verdict.score}, {origin.verdict.recommendation})."
        )
        if carried:
            st.info(
                f"{started} Its answers and notes are filled in below; each is marked **Carried "
                "over** until you change it or press **Still holds**."
            )
        else:
            st.caption(f"{started} Every criterion carried over has been changed or confirmed.")

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
                    on_change=mark_reviewed,
                    args=(prefix, criterion),
                )
                if criterion in carried and origin:
                    answer.badge(
                        "Carried over",
                        color="orange",
                        help=f"From the assessment of {origin.assessed_on:%Y-%m-%d}.",
                    )
                    answer.button(
                        "Still holds",
                        key=field_key(f"{attr}_holds"),
                        on_click=mark_reviewed,
                        args=(prefix, criterion),
                        help="Keep this answer and these notes for the new assessment.",
                    )
                note_text = notes.text_area(
                    f"{criterion} notes",
                    key=field_key(f"{attr}_notes"),
                    placeholder="The evidence, in your words",
                    height=90,
                    label_visibility="collapsed",
                    persist_state="session",
                    on_change=mark_reviewed,
                    args=(prefix, criterion),
                )
                length = len(note_text or "")
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
        if carried:
            st.caption(
                f"Still carried over, neither changed nor confirmed: {', '.join(carried)}. "
                "Saving keeps them as they are."
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
