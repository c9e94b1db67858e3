"""MANIAC-T: the seven criteria, the score, completeness and recommendation, and the assessment.

Everything here is pure: no database, no network, no Streamlit. The rules are those of
`maniac-t.md`:

- each criterion is answered Confirmed (2 points), Partial (1), Unknown (0) or No (0);
- score = the sum (0 to 14); completeness = the share of criteria not Unknown;
- Decline when Application is No, or when three or more criteria are No;
  Pursue when the score is 10 or more and no criterion is No; Gather information otherwise.

A criterion left out of an answers mapping counts as Unknown, so a half-filled form scores.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from sales_core import vocabulary
from sales_core.errors import SalesError
from sales_core.formatting import escape_markdown

# The seven criteria, in the order the checklist asks them (docs/maniac-t.md).
CRITERIA = (
    "Money",
    "Authority",
    "Need",
    "Impending Event",
    "Application",
    "Competition",
    "Timeline",
)


def criterion_attr(criterion: str) -> str:
    """The column of a criterion's answer: 'Impending Event' -> 'impending_event'."""
    return criterion.lower().replace(" ", "_")


Answer = Literal["Confirmed", "Partial", "Unknown", "No"]
Recommendation = Literal["Pursue", "Gather information", "Decline"]
# Literal types for the type checker; the words themselves are vocabulary's.
assert get_args(Answer) == tuple(vocabulary.Answer)
assert get_args(Recommendation) == tuple(vocabulary.Recommendation)

POINTS: dict[Answer, int] = {"Confirmed": 2, "Partial": 1, "Unknown": 0, "No": 0}
MAX_SCORE = 2 * len(CRITERIA)
PURSUE_FROM_SCORE = 10
DECLINE_FROM_NOS = 3
NOTES_MAX_CHARS = 5_000

# The guiding questions of each criterion, from the sales-and-invoicing guide.
QUESTIONS: dict[str, tuple[str, ...]] = {
    "Money": (
        "Is a specific amount of money set aside for the project?",
        "If they are seeking funding to pay for this, what are the details?",
    ),
    "Authority": (
        "Does the contact have the authority to make a buying decision?",
        "Who else will need to be involved in the decision?",
    ),
    "Need": (
        "What are their clear pain points with their current infrastructure?",
        "Do they seem to have a real need for change?",
    ),
    "Impending Event": ("Do they have an upcoming event that is urgent or pressing?",),
    "Application": (
        "Is their use case a good fit for our hub infrastructure?",
        "Would their use case require major changes to our hubs?",
        "Is a different organisation better suited to help them?",
    ),
    "Competition": (
        "What alternatives are they considering: other organisations, an internal approach, "
        "or doing nothing?",
    ),
    "Timeline": (
        "What does the buying process look like for them: finalising a contract, or receiving "
        "a sub-award?",
    ),
}
assert tuple(QUESTIONS) == CRITERIA

REFERRAL_ADVICE = (
    "Application is No: their use case is not a fit for our hubs. Suggest an organisation "
    "better suited to help them."
)


class UnknownAnswer(SalesError, ValueError):
    """A criterion or an answer that MANIAC-T does not have."""


def _checked(answers: Mapping[str, Answer]) -> dict[str, Answer]:
    """Every criterion's answer, Unknown where none was given; an unknown name is an error."""
    unknown = [name for name in answers if name not in CRITERIA]
    if unknown:
        raise UnknownAnswer(f"Not a MANIAC-T criterion: {unknown[0]!r}")
    wrong = [a for a in answers.values() if a not in POINTS]
    if wrong:
        raise UnknownAnswer(f"Not a MANIAC-T answer: {wrong[0]!r}")
    return {c: answers.get(c, "Unknown") for c in CRITERIA}


def score(answers: Mapping[str, Answer]) -> int:
    """The sum of the points: Confirmed 2, Partial 1, Unknown and No 0; from 0 to 14."""
    return sum(POINTS[a] for a in _checked(answers).values())


def answered(answers: Mapping[str, Answer]) -> int:
    """How many criteria are answered (anything but Unknown)."""
    return sum(1 for a in _checked(answers).values() if a != "Unknown")


def completeness(answers: Mapping[str, Answer]) -> float:
    """The share of criteria not Unknown, from 0.0 to 1.0."""
    return answered(answers) / len(CRITERIA)


def recommend(answers: Mapping[str, Answer]) -> Recommendation:
    """Decline, Pursue or Gather information, by the rules of maniac-t.md."""
    checked = _checked(answers)
    nos = sum(1 for a in checked.values() if a == "No")
    if checked["Application"] == "No" or nos >= DECLINE_FROM_NOS:
        return "Decline"
    if nos == 0 and score(checked) >= PURSUE_FROM_SCORE:
        return "Pursue"
    return "Gather information"


@dataclass(frozen=True)
class OpenQuestion:
    """A criterion still Unknown or only Partial, with the questions that would settle it."""

    criterion: str
    answer: Answer
    questions: tuple[str, ...]


@dataclass(frozen=True)
class Verdict:
    """What the checklist says right now: the figures, the recommendation and why."""

    score: int
    answered: int
    completeness: float
    recommendation: Recommendation
    reason: str
    refer_elsewhere: bool
    next_questions: tuple[OpenQuestion, ...]


def verdict(answers: Mapping[str, Answer]) -> Verdict:
    """Score, completeness, recommendation and its reason, in one call for the page."""
    checked = _checked(answers)
    total = score(checked)
    nos = [c for c, a in checked.items() if a == "No"]
    recommendation = recommend(checked)
    if recommendation == "Decline" and checked["Application"] == "No":
        reason = REFERRAL_ADVICE
    elif recommendation == "Decline":
        reason = f"{len(nos)} criteria are No ({', '.join(nos)}): three or more means decline."
    elif recommendation == "Pursue":
        reason = (
            f"Score {total} of {MAX_SCORE} (at least {PURSUE_FROM_SCORE}) and no criterion is No."
        )
    elif nos:
        reason = (
            f"{', '.join(nos)} {'is' if len(nos) == 1 else 'are'} No, so this lead cannot be "
            f"pursued yet; settle the open criteria first."
        )
    else:
        reason = (
            f"Score {total} of {MAX_SCORE}: below {PURSUE_FROM_SCORE}, so ask the next questions."
        )
    return Verdict(
        score=total,
        answered=answered(checked),
        completeness=completeness(checked),
        recommendation=recommendation,
        reason=reason,
        refer_elsewhere=checked["Application"] == "No",
        next_questions=tuple(
            OpenQuestion(c, a, QUESTIONS[c])
            for c, a in checked.items()
            if a in ("Unknown", "Partial")
        ),
    )


class InvalidAssessment(SalesError, ValueError):
    """An assessment that cannot be saved; `problems` maps each form field to what is wrong."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(" ".join(problems.values()))
        self.problems = problems


class Assessment(BaseModel):
    """One MANIAC-T assessment of one opportunity, as the assessor filled it in.

    Notes are kept exactly as typed (no trimming, no interpretation); only the assessor's name
    is trimmed. Every criterion has an answer.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    opportunity_id: str
    assessed_by: str
    assessed_on: date
    answers: dict[str, Answer]
    notes: dict[str, str]

    @field_validator("opportunity_id")
    @classmethod
    def _has_opportunity(cls, value: str) -> str:
        if not value.strip():
            raise PydanticCustomError("opportunity", "Choose the opportunity to assess.")
        return value

    @field_validator("assessed_by")
    @classmethod
    def _has_assessor(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise PydanticCustomError(
                "assessor", "An assessor is required: enter your name or email."
            )
        return value

    @field_validator("answers")
    @classmethod
    def _every_criterion(cls, value: dict[str, Answer]) -> dict[str, Answer]:
        missing = [c for c in CRITERIA if c not in value]
        extra = [c for c in value if c not in CRITERIA]
        if missing or extra:
            raise PydanticCustomError(
                "answers",
                "Answer every criterion ({missing}); unknown: {extra}.",
                {"missing": ", ".join(missing) or "none missing", "extra": ", ".join(extra)},
            )
        return {c: value[c] for c in CRITERIA}

    @field_validator("notes")
    @classmethod
    def _notes_fit(cls, value: dict[str, str]) -> dict[str, str]:
        extra = [c for c in value if c not in CRITERIA]
        if extra:
            raise PydanticCustomError(
                "notes", "Notes for an unknown criterion: {extra}.", {"extra": ", ".join(extra)}
            )
        too_long = [c for c in CRITERIA if len(value.get(c, "")) > NOTES_MAX_CHARS]
        if too_long:
            raise PydanticCustomError(
                "notes_too_long",
                "{details}. Notes may be up to {limit} characters each.",
                {
                    "details": "; ".join(
                        f"The {c} notes are {len(value[c]):,} characters long" for c in too_long
                    ),
                    "limit": f"{NOTES_MAX_CHARS:,}",
                    "too_long": too_long,
                },
            )
        return {c: value[c] for c in CRITERIA if value.get(c)}

    @property
    def verdict(self) -> Verdict:
        """Score, completeness and recommendation of these answers."""
        return verdict(self.answers)

    def key(self, form_id: str) -> str:
        """The Assessment Key: `<opportunity id>/<assessed on>/<fingerprint>`.

        The fingerprint digests the form's id (made once when the form was opened) with the
        assessment's content, so saving the same form twice (a double click, a retry) gives the
        same key, while a deliberate reassessment (a new form, or the form changed after a save)
        gives a new one: an assessment is never overwritten.
        """
        content = json.dumps(
            [form_id, self.model_dump(mode="json")], sort_keys=True, ensure_ascii=False
        )
        digest = hashlib.sha256(content.encode("utf-8")).hexdigest()[:12]
        return f"{self.opportunity_id}/{self.assessed_on.isoformat()}/{digest}"


_FIELD_OF_LOC = {"assessed_by": "assessor", "assessed_on": "date", "opportunity_id": "opportunity"}


def build_assessment(
    *,
    opportunity_id: str,
    assessed_by: str | None,
    assessed_on: date | None,
    answers: Mapping[str, Answer],
    notes: Mapping[str, str | None],
) -> Assessment:
    """The assessment from the form's values, or InvalidAssessment saying what to fix.

    `problems` is keyed 'assessor', 'date', 'opportunity', 'answers' or the criterion whose notes
    are too long, so the page can show each message beside its field.
    """
    data: dict[str, Any] = {
        "opportunity_id": opportunity_id,
        "assessed_by": assessed_by or "",
        "assessed_on": assessed_on,
        "answers": dict(answers),
        "notes": {c: n for c, n in notes.items() if n},
    }
    try:
        return Assessment.model_validate(data)
    except ValidationError as exc:
        problems: dict[str, str] = {}
        for error in exc.errors():
            where = str(error["loc"][0]) if error["loc"] else "form"
            if error["type"] == "notes_too_long":
                context = error.get("ctx") or {}
                for criterion in context.get("too_long", []):
                    problems[criterion] = (
                        f"The {criterion} notes are {len(data['notes'][criterion]):,} characters "
                        f"long; the limit is {NOTES_MAX_CHARS:,}. Shorten them and save again."
                    )
                continue
            if where == "assessed_on":
                problems["date"] = "Enter the date of the assessment."
                continue
            problems.setdefault(_FIELD_OF_LOC.get(where, where), error["msg"])
        raise InvalidAssessment(problems) from None


# -- continuity: carrying an assessment over, comparing two ----------------------------------


def carried_criteria(latest: Assessment) -> tuple[str, ...]:
    """The criteria a new assessment inherits something from: an answer other than Unknown,
    or notes. (An Unknown with no notes, or with blanks only, carries nothing worth marking.)"""
    return tuple(
        c
        for c in CRITERIA
        if latest.answers.get(c, "Unknown") != "Unknown" or latest.notes.get(c, "").strip()
    )


def _same_text(first: str | None, second: str | None) -> bool:
    """Notes that read the same: line-ending style and surrounding blanks do not count."""

    def plain(text: str | None) -> str:
        return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()

    return plain(first) == plain(second)


def still_carried(
    latest: Assessment,
    answers: Mapping[str, str],
    notes: Mapping[str, str | None],
    reviewed: frozenset[str] | set[str] = frozenset(),
) -> tuple[str, ...]:
    """The carried-over criteria the assessor has neither reviewed nor changed.

    A criterion stops being carried over once it is in `reviewed` (the assessor changed it, or
    said it still holds), or once its answer or notes differ from the latest assessment's.
    """
    return tuple(
        c
        for c in carried_criteria(latest)
        if c not in reviewed
        and answers.get(c, "Unknown") == latest.answers.get(c, "Unknown")
        and _same_text(notes.get(c), latest.notes.get(c))
    )


@dataclass(frozen=True)
class CriterionChange:
    """One criterion in two assessments: each side's answer and notes, and what changed."""

    criterion: str
    first_answer: Answer
    second_answer: Answer
    first_notes: str
    second_notes: str

    @property
    def answer_changed(self) -> bool:
        """True when the two answers differ."""
        return self.first_answer != self.second_answer

    @property
    def notes_changed(self) -> bool:
        """True when the notes read differently (not merely in blanks or line endings)."""
        return not _same_text(self.first_notes, self.second_notes)

    @property
    def changed(self) -> bool:
        """True when the answer or the notes changed."""
        return self.answer_changed or self.notes_changed

    @property
    def what_changed(self) -> str:
        """'answer', 'notes', 'answer and notes' or 'unchanged'."""
        parts = [
            p for p, c in (("answer", self.answer_changed), ("notes", self.notes_changed)) if c
        ]
        return " and ".join(parts) or "unchanged"


@dataclass(frozen=True)
class Comparison:
    """Two assessments of one opportunity, criterion by criterion, with their verdicts."""

    first: Verdict
    second: Verdict
    criteria: tuple[CriterionChange, ...]

    @property
    def changed(self) -> tuple[CriterionChange, ...]:
        """The criteria whose answer or notes changed, in checklist order."""
        return tuple(c for c in self.criteria if c.changed)

    @property
    def summary(self) -> str:
        """What changed, in one sentence: the criteria, then the score and the recommendation."""
        changed = self.changed
        if changed:
            listed = ", ".join(f"{c.criterion} ({c.what_changed})" for c in changed)
            criteria = f"{len(changed)} of {len(CRITERIA)} criteria changed: {listed}."
        else:
            criteria = "No criterion changed."
        if self.first.score == self.second.score:
            score_text = f"Score {self.first.score} both times"
        else:
            score_text = f"Score {self.first.score} → {self.second.score}"
        if self.first.recommendation == self.second.recommendation:
            advice = f"{self.first.recommendation} both times"
        else:
            advice = f"{self.first.recommendation} → {self.second.recommendation}"
        return f"{criteria} {score_text}; {advice}."


def compare(first: Assessment, second: Assessment) -> Comparison:
    """`first` and `second` side by side (in that order), criterion by criterion."""
    return Comparison(
        first=first.verdict,
        second=second.verdict,
        criteria=tuple(
            CriterionChange(
                criterion=c,
                first_answer=first.answers.get(c, "Unknown"),
                second_answer=second.answers.get(c, "Unknown"),
                first_notes=first.notes.get(c, ""),
                second_notes=second.notes.get(c, ""),
            )
            for c in CRITERIA
        ),
    )


# -- Markdown ---------------------------------------------------------------------------------


def quote_block(text: str) -> str:
    """Multi-line user text as a Markdown block quote, every line escaped, line breaks kept."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    quoted: list[str] = []
    for number, line in enumerate(lines):
        if not line:
            quoted.append(">")
            continue
        followed = number + 1 < len(lines) and lines[number + 1] != ""
        # Two trailing spaces make a hard line break, so the note keeps its lines.
        quoted.append(f"> {escape_markdown(line)}" + ("  " if followed else ""))
    return "\n".join(quoted)


def assessment_markdown(
    assessment: Assessment,
    *,
    opportunity_name: str,
    organization: str | None = None,
    assessment_key: str | None = None,
) -> str:
    """The assessment as Markdown, to paste into the lead's notes; user text cannot break it."""
    result = assessment.verdict
    lines = [
        f"# MANIAC-T assessment: {escape_markdown(opportunity_name)}",
        "",
    ]
    if organization:
        lines.append(f"- **Organisation:** {escape_markdown(organization)}")
    lines += [
        f"- **Assessed by:** {escape_markdown(assessment.assessed_by)}",
        f"- **Assessed on:** {assessment.assessed_on.isoformat()}",
        f"- **Score:** {result.score} of {MAX_SCORE}",
        f"- **Completeness:** {result.answered} of {len(CRITERIA)} criteria answered "
        f"({result.completeness:.0%})",
        f"- **Recommendation:** {result.recommendation}",
    ]
    if assessment_key:
        lines.append(f"- **Assessment key:** {escape_markdown(assessment_key)}")
    lines += ["", f"{escape_markdown(result.reason)}", "", "## Answers", ""]
    lines += ["| Criterion | Answer |", "|---|---|"]
    lines += [f"| {c} | {assessment.answers[c]} |" for c in CRITERIA]
    lines += ["", "## Notes", ""]
    for criterion in CRITERIA:
        lines += [f"### {criterion}: {assessment.answers[criterion]}", ""]
        note = assessment.notes.get(criterion)
        lines += [quote_block(note) if note else "*No notes.*", ""]
    if result.recommendation == "Gather information" and result.next_questions:
        lines += ["## Questions to ask next", ""]
        for open_question in result.next_questions:
            lines.append(f"- **{open_question.criterion}** ({open_question.answer}):")
            lines += [f"  - {q}" for q in open_question.questions]
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"
