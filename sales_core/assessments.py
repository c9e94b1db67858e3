"""Saving MANIAC-T assessments: the local record first, then AirTable's Qualifications table.

1. `save` writes the assessment to DuckDB under its Assessment Key (`INSERT … ON CONFLICT DO
   NOTHING`), so saving the same form twice never makes a second row.
2. When AirTable is configured it then pushes every assessment not yet pushed, as an upsert on
   `Assessment Key`, so a retried push never makes a second AirTable record either.
3. The push is the outbox's (`outbox.py`, shared with the invoices): a push that fails leaves
   the rows 'pending' with the reason in `push_error`; they go out with the next save or the
   next sync, which pushes them before it fetches (so they come back in the same sync) and
   reports that it did.

Also the reads the page needs: the opportunities to choose from (searched and limited in SQL),
one opportunity, its assessments (local and synced, newest first) and the latest assessment of
each opportunity.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from sales_core import outbox, store
from sales_core.access import Actor, require
from sales_core.airtable import AirtableSource
from sales_core.config import Settings
from sales_core.errors import SalesError
from sales_core.outbox import PushOutcome
from sales_core.qualification import (
    CRITERIA,
    Answer,
    Assessment,
    assessment_markdown,
    criterion_attr,
)

Progress = Callable[[str], None]

_ANSWER_COLUMNS = [criterion_attr(c) for c in CRITERIA]
_NOTE_COLUMNS = [f"{criterion_attr(c)}_notes" for c in CRITERIA]

# One push at a time in this process: two sessions pushing the same pending row together could
# both create it in AirTable before either knew of the other.
_push_lock = threading.Lock()


@dataclass(frozen=True)
class SaveOutcome:
    """What a save did: whether it made a new row, and how the push to AirTable went."""

    assessment_key: str
    created: bool
    airtable_configured: bool
    push: PushOutcome

    @property
    def pushed(self) -> bool:
        """True when nothing saved here is left waiting for AirTable."""
        return self.airtable_configured and self.push.error is None

    @property
    def message(self) -> str:
        """What happened, in words for the person who pressed Save."""
        saved = "Saved." if self.created else "Already saved: no second copy was made."
        if not self.airtable_configured:
            return f"{saved} It is kept in the local database (demo data: no AirTable)."
        if self.pushed:
            return f"{saved} It is in AirTable's Qualifications table."
        return (
            f"{saved} It is kept here but not yet in AirTable: {self.push.error} "
            "It will be sent with the next save or sync."
        )


def save(settings: Settings, assessment: Assessment, form_id: str, *, actor: Actor) -> SaveOutcome:
    """Record the assessment (once per key), then push what is pending when AirTable is set.

    Saving the same form (same `form_id`, same content) again is harmless: no second row here,
    and the upsert in AirTable matches the record already there. `actor` is recorded as
    `saved_by`; raises AccessDenied (nothing written) unless it is a viewer or a biller.
    """
    require(actor, "viewer", "save a MANIAC-T assessment")
    key = assessment.key(form_id)
    values: dict[str, Any] = {
        "assessment_key": key,
        "opportunity_id": assessment.opportunity_id,
        "assessed_by": assessment.assessed_by,
        "assessed_on": assessment.assessed_on,
        # to the microsecond: two saves in one second must still say which came last
        "saved_at": store.utcnow(precise=True),
        "saved_by": actor.label,
        "score": assessment.verdict.score,
        "recommendation": assessment.verdict.recommendation,
    }
    for criterion in CRITERIA:
        attr = criterion_attr(criterion)
        values[attr] = assessment.answers[criterion]
        values[f"{attr}_notes"] = assessment.notes.get(criterion)
    columns = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    with (
        store.connect(settings.db_path, lock_timeout=settings.lock_timeout) as con,
        store.transaction(con),
    ):
        inserted = con.execute(
            f"INSERT INTO assessments ({columns}) VALUES ({marks}) "
            "ON CONFLICT (assessment_key) DO NOTHING RETURNING assessment_key",
            list(values.values()),
        ).fetchall()
        if inserted:
            store.bump_data_version(con, history=False)  # no invoice changed
    push = push_pending(settings) if settings.airtable_configured else PushOutcome()
    return SaveOutcome(
        assessment_key=key,
        created=bool(inserted),
        airtable_configured=settings.airtable_configured,
        push=push,
    )


def _airtable_fields(row: dict[str, Any]) -> dict[str, Any]:
    """A local assessment row as Qualifications fields (product names; mapped on the way out)."""
    fields: dict[str, Any] = {
        "assessment_key": row["assessment_key"],
        "opportunity_ids": [row["opportunity_id"]],
        "assessed_by": row["assessed_by"],
        "assessed_on": row["assessed_on"].isoformat(),
        "score": row["score"],
        "recommendation": row["recommendation"],
    }
    for answer, note in zip(_ANSWER_COLUMNS, _NOTE_COLUMNS, strict=True):
        fields[answer] = row[answer]
        if row[note]:
            fields[note] = row[note]
    return fields


def pending(settings: Settings) -> list[dict[str, Any]]:
    """The assessments saved here and not yet in AirTable, oldest first."""
    with store.connect(settings.db_path, lock_timeout=settings.lock_timeout) as con:
        return outbox.pending_rows(con, outbox.ASSESSMENTS)


def push_pending(
    settings: Settings, source: object | None = None, progress: Progress | None = None
) -> PushOutcome:
    """Upsert every assessment not yet pushed into AirTable's Qualifications table.

    Does nothing unless AirTable is configured, or when `source` is given and is not the
    AirTable source (a demo sync). Never raises for a failed push: the rows stay pending with
    the reason in words in `push_error`, and the outcome says what happened.
    """
    if not settings.airtable_configured:
        return PushOutcome()
    if source is not None and not isinstance(source, AirtableSource):
        return PushOutcome()
    try:
        return outbox.push(
            settings, outbox.ASSESSMENTS, _airtable_fields, source=source, progress=progress
        )
    except Exception as exc:  # a push must never lose the assessment or fail its caller
        error = (
            str(exc)
            if isinstance(exc, SalesError)
            else f"Unexpected error {type(exc).__name__}: {str(exc)[:300]}"
        )
        return PushOutcome(error=error)


# -- reads for the page -------------------------------------------------------------------------


PICKER_LIMIT = 200  # opportunities offered at most: a large base has tens of thousands


@dataclass(frozen=True)
class Choices:
    """The opportunities a picker offers for one search: at most PICKER_LIMIT of them."""

    labels: dict[str, str]  # record id -> 'Name · Organisation · Stage', open ones first
    more: bool  # True when more opportunities match than are offered


_CHOICES_SQL = """
    SELECT id, name, organization, stage
    FROM opportunities
    WHERE $search = ''
       OR contains(lower(coalesce(name, '') || ' ' || coalesce(organization, '')), $search)
    ORDER BY list_contains($closed_stages, coalesce(stage, '')), lower(name), id
    LIMIT $limit
"""


def opportunity_choices(
    db_path: Path | str, search: str = "", *, lock_timeout: float = 10.0
) -> Choices:
    """The first PICKER_LIMIT opportunities (open ones first, then by name) whose name or
    organisation contains `search`, ignoring case; every opportunity when `search` is blank.

    The search and the limit run in SQL, so a base of 20,000 opportunities sends 201 rows here.
    """
    needle = search.strip().lower()
    with store.connect(db_path, lock_timeout=lock_timeout) as con:
        rows = store.query(con, _CHOICES_SQL, {"search": needle, "limit": PICKER_LIMIT + 1})
    return Choices(
        labels={str(row["id"]): choice_label(row) for row in rows[:PICKER_LIMIT]},
        more=len(rows) > PICKER_LIMIT,
    )


def opportunity(
    db_path: Path | str, opportunity_id: str, *, lock_timeout: float = 10.0
) -> dict[str, Any] | None:
    """One opportunity with its latest score and recommendation, or None when there is none."""
    with store.connect(db_path, lock_timeout=lock_timeout) as con:
        rows = store.query(
            con,
            """
            SELECT o.id, o.name, o.organization, o.stage, o.value, o.currency,
                   o.expected_close, o.owner_name, o.owner_email, o.last_activity,
                   l.score AS latest_score, l.recommendation AS latest_recommendation,
                   l.assessed_on AS latest_assessed_on
            FROM opportunities AS o
            LEFT JOIN (SELECT * FROM latest_assessment WHERE opportunity_id = $id) AS l
                   ON l.opportunity_id = o.id
            WHERE o.id = $id
            """,
            {"id": opportunity_id},
        )
    return rows[0] if rows else None


def latest_by_opportunity(db_path: Path | str, *, lock_timeout: float = 10.0) -> pd.DataFrame:
    """The latest assessment of each assessed opportunity (for the pipeline table)."""
    with store.connect(db_path, lock_timeout=lock_timeout) as con:
        return con.execute(
            "SELECT opportunity_id, score, recommendation, assessed_on, assessed_by "
            "FROM latest_assessment ORDER BY opportunity_id"
        ).df()


def history(
    db_path: Path | str, opportunity_id: str, *, lock_timeout: float = 10.0
) -> pd.DataFrame:
    """Every assessment of one opportunity, newest first: saved here, or synced from AirTable.

    A row saved here wins over its synced copy. `status` says whether it reached AirTable.
    """
    answers = ", ".join(_ANSWER_COLUMNS + _NOTE_COLUMNS)
    with store.connect(db_path, lock_timeout=lock_timeout) as con:
        return store.execute(
            con,
            f"""
            SELECT assessment_key, assessed_on, assessed_by, score, recommendation, {answers},
                   CASE WHEN push_state = $pushed THEN 'in AirTable'
                        WHEN push_state = $sending THEN 'being sent to AirTable'
                        WHEN push_error IS NOT NULL THEN 'not yet pushed: ' || push_error
                        ELSE 'saved here' END AS status,
                   saved_at AS recorded_at, saved_by
            FROM assessments WHERE opportunity_id = $opportunity
            UNION ALL
            SELECT assessment_key, assessed_on, assessed_by, score, recommendation, {answers},
                   'from AirTable' AS status, created_time AS recorded_at,
                   NULL AS saved_by
            FROM qualifications
            WHERE opportunity_id = $opportunity
              AND assessment_key NOT IN (SELECT assessment_key FROM assessments)
            ORDER BY assessed_on DESC NULLS LAST, recorded_at DESC NULLS LAST,
                     assessment_key DESC
            """,
            {"opportunity": opportunity_id},
        ).df()


def choice_label(opportunity: Mapping[str, Any]) -> str:
    """'Name · Organisation · Stage' for a list to choose from (organisation left out when the
    name already starts with it)."""
    name, organization, stage = (opportunity.get(k) for k in ("name", "organization", "stage"))
    parts = [str(name)]
    if isinstance(organization, str) and organization and not parts[0].startswith(organization):
        parts.append(organization)
    parts.append(stage if isinstance(stage, str) and stage else "no stage")
    return " · ".join(parts)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def answers_table(row: Mapping[str, Any]) -> pd.DataFrame:
    """One assessment's answers and notes (verbatim, '' when none) as a table to show."""
    return pd.DataFrame(
        {
            "Criterion": list(CRITERIA),
            "Answer": [_text(row.get(a)) for a in _ANSWER_COLUMNS],
            "Notes": [_text(row.get(n)) for n in _NOTE_COLUMNS],
        }
    )


def markdown_download(
    row: Mapping[str, Any], opportunity_id: str, opportunity: Mapping[str, Any]
) -> tuple[str, str]:
    """(file name, Markdown text) of one history row, to paste into the lead's notes."""
    key = str(row["assessment_key"])
    text = assessment_markdown(
        assessment_from_row(row, opportunity_id),
        opportunity_name=str(opportunity.get("name")),
        organization=_text(opportunity.get("organization")) or None,
        assessment_key=key,
    )
    return re.sub(r"[^A-Za-z0-9-]+", "-", f"maniac-t-{key}").strip("-") + ".md", text


def assessment_from_row(row: Mapping[str, Any], opportunity_id: str) -> Assessment:
    """A history row back as an Assessment (missing answers of synced rows count as Unknown)."""
    answers: dict[str, Answer] = {}
    notes: dict[str, str] = {}
    for criterion in CRITERIA:
        attr = criterion_attr(criterion)
        value = row.get(attr)
        answers[criterion] = value if value in ("Confirmed", "Partial", "No") else "Unknown"
        note = row.get(f"{attr}_notes")
        if isinstance(note, str) and note:
            notes[criterion] = note
    assessed_on = row.get("assessed_on")
    if isinstance(assessed_on, datetime):  # pandas hands DATE columns back as Timestamps
        assessed_on = assessed_on.date()
    return Assessment.model_construct(
        opportunity_id=opportunity_id,
        assessed_by=str(row.get("assessed_by") or "(unknown)"),
        assessed_on=assessed_on if isinstance(assessed_on, date) else date.min,
        answers=answers,
        notes=notes,
    )
