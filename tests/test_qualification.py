"""MANIAC-T rules (maniac-t.md), each with its boundaries, and the assessment model."""

from __future__ import annotations

import re
from datetime import date

import pytest

from sales_core.errors import SalesError
from sales_core.formatting import escape_markdown
from sales_core.qualification import (
    CRITERIA,
    NOTES_MAX_CHARS,
    QUESTIONS,
    Answer,
    Assessment,
    InvalidAssessment,
    assessment_markdown,
    build_assessment,
    carried_criteria,
    compare,
    completeness,
    quote_block,
    recommend,
    score,
    still_carried,
    verdict,
)


def answers(default: Answer = "Unknown", **given: Answer) -> dict[str, Answer]:
    """All seven criteria: `default`, except those given (impending_event=... for the space)."""
    named = {c.lower().replace(" ", "_"): c for c in CRITERIA}
    out: dict[str, Answer] = dict.fromkeys(CRITERIA, default)
    for attr, answer in given.items():
        out[named[attr]] = answer
    return out


# -- score and completeness --------------------------------------------------------------------


def test_score__confirmed_two_partial_one_unknown_and_no_zero() -> None:
    assert score(answers("Confirmed")) == 14
    assert score(answers("Partial")) == 7
    assert score(answers("Unknown")) == 0
    assert score(answers("No")) == 0
    assert score(answers("Confirmed", money="Partial", need="No", timeline="Unknown")) == 9


def test_score__a_missing_criterion_counts_as_unknown() -> None:
    assert score({"Money": "Confirmed"}) == 2
    assert completeness({"Money": "Confirmed"}) == pytest.approx(1 / 7)


def test_score__rejects_an_unknown_criterion_or_answer() -> None:
    with pytest.raises(SalesError, match="criterion"):
        score({"Budget": "Confirmed"})  # type: ignore[dict-item]
    with pytest.raises(SalesError, match="answer"):
        score({"Money": "Maybe"})  # type: ignore[dict-item]


def test_completeness__share_not_unknown_and_no_counts_as_answered() -> None:
    assert completeness(answers("Unknown")) == 0.0
    assert completeness(answers("No")) == 1.0
    assert completeness(answers("Unknown", money="Partial", need="No")) == pytest.approx(2 / 7)


# -- the recommendation ------------------------------------------------------------------------


def test_pursue__score_ten_and_no_no() -> None:
    # 3 Confirmed + 4 Partial = 10: the lowest score that pursues.
    ten = answers("Partial", money="Confirmed", authority="Confirmed", need="Confirmed")
    assert score(ten) == 10 and recommend(ten) == "Pursue"
    assert recommend(answers("Confirmed")) == "Pursue"


def test_gather__score_nine_without_no() -> None:
    nine = answers("Partial", money="Confirmed", authority="Confirmed", need="Unknown")
    nine["Need"] = "Partial"
    nine["Timeline"] = "Unknown"
    nine["Impending Event"] = "Confirmed"
    assert score(nine) == 9
    assert recommend(nine) == "Gather information"


def test_gather__score_ten_with_one_no_is_not_pursued() -> None:
    ten_with_no = answers("Confirmed", competition="No", timeline="Unknown")
    assert score(ten_with_no) == 10
    assert recommend(ten_with_no) == "Gather information"
    result = verdict(ten_with_no)
    assert "Competition is No" in result.reason
    assert not result.refer_elsewhere


def test_decline__application_no_even_with_a_high_score() -> None:
    high = answers("Confirmed", application="No")
    assert score(high) == 12
    assert recommend(high) == "Decline"
    result = verdict(high)
    assert result.refer_elsewhere
    assert "better suited" in result.reason


def test_decline__exactly_three_nos_but_two_is_gather() -> None:
    three = answers("Confirmed", money="No", need="No", timeline="No")
    assert recommend(three) == "Decline"
    result = verdict(three)
    assert not result.refer_elsewhere and "3 criteria are No" in result.reason
    two = answers("Confirmed", money="No", need="No")
    assert score(two) == 10
    assert recommend(two) == "Gather information"


def test_decline__all_no() -> None:
    assert recommend(answers("No")) == "Decline"


def test_gather__all_unknown_asks_every_question() -> None:
    result = verdict(answers("Unknown"))
    assert (result.score, result.answered, result.completeness) == (0, 0, 0.0)
    assert result.recommendation == "Gather information"
    assert [q.criterion for q in result.next_questions] == list(CRITERIA)
    assert result.next_questions[0].questions == QUESTIONS["Money"]


def test_next_questions__unknown_and_partial_in_criteria_order() -> None:
    result = verdict(answers("Confirmed", timeline="Partial", money="Unknown", need="No"))
    assert [(q.criterion, q.answer) for q in result.next_questions] == [
        ("Money", "Unknown"),
        ("Timeline", "Partial"),
    ]


def test_questions__every_criterion_has_its_guiding_questions() -> None:
    assert tuple(QUESTIONS) == CRITERIA
    assert all(qs and all(q.endswith("?") for q in qs) for qs in QUESTIONS.values())


# -- the assessment and its validation -----------------------------------------------------------

NASTY = 'He said "yes" \\o/ <b>bold</b> <script>alert(1)</script> 🎉 =HYPERLINK("http://x","y")'


def valid(**overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "opportunity_id": "recOPP00000000001",
        "assessed_by": "  amara@example.org ",
        "assessed_on": date(2026, 11, 25),
        "answers": answers("Confirmed"),
        "notes": {"Money": NASTY, "Need": "  kept as typed  \n"},
    }
    values.update(overrides)
    return values


def test_build_assessment__keeps_notes_verbatim_and_trims_the_assessor() -> None:
    assessment = build_assessment(**valid())  # type: ignore[arg-type]
    assert assessment.assessed_by == "amara@example.org"
    assert assessment.notes == {"Money": NASTY, "Need": "  kept as typed  \n"}
    assert assessment.verdict.recommendation == "Pursue"


def test_build_assessment__assessor_required() -> None:
    for blank in ("", "   ", None):
        with pytest.raises(InvalidAssessment) as caught:
            build_assessment(**valid(assessed_by=blank))  # type: ignore[arg-type]
        assert caught.value.problems == {
            "assessor": "An assessor is required: enter your name or email."
        }


def test_build_assessment__notes_limit_names_the_criterion() -> None:
    at_limit = "x" * NOTES_MAX_CHARS
    over = "y" * (NOTES_MAX_CHARS + 1)
    build_assessment(**valid(notes={"Money": at_limit}))  # type: ignore[arg-type]
    with pytest.raises(InvalidAssessment) as caught:
        build_assessment(
            **valid(notes={"Money": at_limit, "Impending Event": over, "Timeline": over})  # type: ignore[arg-type]
        )
    problems = caught.value.problems
    assert set(problems) == {"Impending Event", "Timeline"}
    assert problems["Impending Event"] == (
        "The Impending Event notes are 5,001 characters long; the limit is 5,000. "
        "Shorten them and save again."
    )


def test_build_assessment__several_problems_at_once() -> None:
    with pytest.raises(InvalidAssessment) as caught:
        build_assessment(
            **valid(assessed_by="", assessed_on=None, notes={"Need": "n" * 6000})  # type: ignore[arg-type]
        )
    assert set(caught.value.problems) == {"assessor", "date", "Need"}


def test_build_assessment__every_criterion_needs_an_answer() -> None:
    partial = {"Money": "Confirmed"}
    with pytest.raises(InvalidAssessment) as caught:
        build_assessment(**valid(answers=partial))  # type: ignore[arg-type]
    assert "Authority" in caught.value.problems["answers"]


def test_key__same_form_same_key_new_form_or_change_new_key() -> None:
    assessment = build_assessment(**valid())  # type: ignore[arg-type]
    key = assessment.key("form-1")
    assert re.fullmatch(r"recOPP00000000001/2026-11-25/[0-9a-f]{12}", key)
    assert build_assessment(**valid()).key("form-1") == key  # type: ignore[arg-type]
    assert assessment.key("form-2") != key
    changed = build_assessment(**valid(answers=answers("Partial")))  # type: ignore[arg-type]
    assert changed.key("form-1") != key


# -- Markdown -----------------------------------------------------------------------------------


def unquote(block: str) -> str:
    """Undo quote_block: what a Markdown renderer shows, line by line."""
    lines = []
    for line in block.split("\n"):
        body = line[2:] if line.startswith("> ") else line[1:]
        body = body.removesuffix("  ")
        body = body.replace("\u00a0", " ")
        lines.append(re.sub(r"\\(.)", r"\1", body))
    return "\n".join(lines)


@pytest.mark.parametrize(
    "note",
    [
        NASTY,
        "# not a heading\n- not a list\n1. not ordered\n> not a quote\n---\n===",
        "```\ncode fence\n```\n    indented\n\n| a | b |\n[link](http://x) ![img](y)",
        "ends with a backslash \\\nand *stars* _under_ `ticks` ~strike~ &amp; $x$",
        "",
    ],
)
def test_quote_block__round_trips_and_stays_in_the_quote(note: str) -> None:
    block = quote_block(note)
    assert all(line.startswith(">") for line in block.split("\n"))
    assert unquote(block) == note
    # Nothing inside can open a fence, a tag, a link or emphasis: each is escaped.
    for special in ("`", "<", "[", "*", "_", "|", "$", "&"):
        assert re.search(rf"(?<!\\){re.escape(special)}", block) is None


def test_escape_markdown__line_starts() -> None:
    assert escape_markdown("1. one") == "1\\. one"
    assert escape_markdown("2) two") == "2\\) two"
    assert escape_markdown("- item") == "\\- item"
    assert escape_markdown("cloud-native, 3.5 hubs") == "cloud-native, 3.5 hubs"
    assert escape_markdown("  two spaces") == "\u00a0\u00a0two spaces"


def test_assessment_markdown__structure_survives_hostile_text() -> None:
    notes = {"Money": "# Heading?\n## Notes\n| x |", "Need": NASTY}
    assessment = build_assessment(
        **valid(notes=notes, answers=answers("Unknown", money="Partial"))  # type: ignore[arg-type]
    )
    text = assessment_markdown(
        assessment,
        opportunity_name="Hub *for* <em>you</em>",
        organization="Org | [x](y)",
        assessment_key="recOPP00000000001/2026-11-25/abc",
    )
    headings = [line for line in text.split("\n") if line.startswith("#")]
    assert headings == [
        "# MANIAC-T assessment: Hub \\*for\\* \\<em\\>you\\</em\\>",
        "## Answers",
        "## Notes",
        *[f"### {c}: {assessment.answers[c]}" for c in CRITERIA],
        "## Questions to ask next",
    ]
    assert "- **Organisation:** Org \\| \\[x\\](y)" in text
    assert "| Money | Partial |" in text
    assert "- **Recommendation:** Gather information" in text
    assert "> \\# Heading?  \n> \\#\\# Notes  \n> \\| x \\|" in text
    assert "*No notes.*" in text  # Authority has none
    assert "  - Is a specific amount of money set aside for the project?" in text


# -- continuity: carrying over and comparing ------------------------------------------------------


def an_assessment(answers_given: dict[str, Answer], notes: dict[str, str]) -> Assessment:
    return build_assessment(
        opportunity_id="recOPP00000000001",
        assessed_by="Amara Okafor",
        assessed_on=date(2026, 10, 1),
        answers=answers_given,
        notes=notes,
    )


def test_carried_criteria__an_unknown_without_notes_carries_nothing() -> None:
    latest = an_assessment(
        answers(money="Confirmed", need="No"), {"Money": "grant", "Timeline": "asked"}
    )
    # Money (answer and notes), Need (answer), Timeline (Unknown, but notes): in checklist order.
    assert carried_criteria(latest) == ("Money", "Need", "Timeline")
    assert carried_criteria(an_assessment(answers(), {})) == ()
    assert carried_criteria(an_assessment(answers(), {"Need": " \n\t "})) == ()  # blanks only


def test_still_carried__until_changed_or_said_to_hold() -> None:
    latest = an_assessment(
        answers(money="Confirmed", need="Partial", timeline="No"),
        {"Money": "grant awarded", "Need": "slow cluster"},
    )
    form_answers = dict(latest.answers)
    form_notes = {c: latest.notes.get(c, "") for c in CRITERIA}
    assert still_carried(latest, form_answers, form_notes) == ("Money", "Need", "Timeline")

    form_answers["Money"] = "Partial"  # the answer changed
    form_notes["Need"] = "slow cluster\r\n  "  # only blanks and line endings: still the same
    assert still_carried(latest, form_answers, form_notes) == ("Need", "Timeline")

    form_notes["Need"] = "slow cluster, and a new grant"  # the notes changed
    assert still_carried(latest, form_answers, form_notes) == ("Timeline",)

    # Said to hold: no longer marked, though the values are those carried over.
    assert still_carried(latest, form_answers, form_notes, {"Timeline"}) == ()
    # Changed and changed back, once reviewed, stays reviewed.
    form_answers["Money"] = "Confirmed"
    assert still_carried(latest, form_answers, form_notes, {"Money"}) == ("Timeline",)


def test_compare__criterion_by_criterion_with_the_verdicts() -> None:
    earlier = an_assessment(
        answers(money="Partial", authority="Confirmed", need="Confirmed"),
        {"Money": "seeking a grant", "Need": "slow cluster", "Timeline": "asked"},
    )
    later = an_assessment(
        answers("Confirmed", timeline="Partial"),
        {"Money": "seeking a grant", "Need": "slow cluster\n", "Timeline": "sub-award in March"},
    )
    result = compare(earlier, later)
    by_name = {c.criterion: c for c in result.criteria}
    assert [c.criterion for c in result.criteria] == list(CRITERIA)
    money, authority, need, timeline = (
        by_name[n] for n in ("Money", "Authority", "Need", "Timeline")
    )
    assert (money.first_answer, money.second_answer, money.what_changed) == (
        "Partial",
        "Confirmed",
        "answer",
    )
    assert not authority.changed and authority.what_changed == "unchanged"
    assert not need.changed  # a trailing line break is not a change
    assert timeline.what_changed == "answer and notes"
    assert (timeline.first_notes, timeline.second_notes) == ("asked", "sub-award in March")
    assert (result.first.score, result.second.score) == (5, 13)
    assert result.summary == (
        "5 of 7 criteria changed: Money (answer), Impending Event (answer), Application "
        "(answer), Competition (answer), Timeline (answer and notes). "
        "Score 5 → 13; Gather information → Pursue."
    )
    assert compare(later, later).summary == (
        "No criterion changed. Score 13 both times; Pursue both times."
    )
