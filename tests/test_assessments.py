"""Saving assessments: once per key in DuckDB, upserted into a loopback AirTable, pushed later."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from sales_core import assessments, demogen, store, vocabulary
from sales_core.access import Actor
from sales_core.airtable import AirtableSource
from sales_core.config import Settings
from sales_core.qualification import CRITERIA, Answer, Assessment, build_assessment
from sales_core.sync import run_sync
from tests.conftest import LoopbackSettings
from tests.fake_airtable import FakeAirtable, airtable_record

TOKEN = "test-token-0123456789"
BASE = "appTESTBASE000001"
OPP = "recOPP00000000001"
VIEWER = Actor("vera@example.org", "viewer", "vera@example.org")
NOTE = 'Said "yes" \\o/ <b>HTML</b> 🎉 =HYPERLINK("http://x","y")\nsecond line'


def an_assessment(answer: Answer = "Confirmed", **changes: Any) -> Assessment:
    values: dict[str, Any] = {
        "opportunity_id": OPP,
        "assessed_by": "amara@example.org",
        "assessed_on": date(2026, 11, 25),
        "answers": dict.fromkeys(CRITERIA, answer),
        "notes": {"Money": NOTE},
    }
    values.update(changes)
    return build_assessment(**values)


def local_rows(settings: Settings) -> list[dict[str, Any]]:
    with store.connect(settings.db_path) as con:
        return store.query(con, "SELECT * FROM assessments ORDER BY saved_at, rowid")


# -- locally (demo settings, no AirTable) ---------------------------------------------------------


def test_save__a_second_save_of_the_same_form_makes_no_second_row(settings: Settings) -> None:
    first = assessments.save(settings, an_assessment(), "form-1", actor=VIEWER)
    version = store.data_version(settings.db_path)
    again = assessments.save(settings, an_assessment(), "form-1", actor=VIEWER)
    assert first.created and not again.created
    assert again.assessment_key == first.assessment_key
    assert store.data_version(settings.db_path) == version  # nothing changed
    [row] = local_rows(settings)
    assert row["money_notes"] == NOTE  # verbatim
    assert row["score"] == 14 and row["recommendation"] == "Pursue"
    assert row["pushed_at"] is None and row["push_error"] is None
    assert not first.airtable_configured and not first.pushed


def test_save__a_reassessment_adds_a_row_and_keeps_the_first(settings: Settings) -> None:
    saved = [
        assessments.save(settings, an_assessment(), "form-1", actor=VIEWER),
        assessments.save(settings, an_assessment("Partial"), "form-1", actor=VIEWER),  # changed
        assessments.save(settings, an_assessment(), "form-2", actor=VIEWER),  # new form, same
    ]
    rows = local_rows(settings)
    assert [r["recommendation"] for r in rows] == ["Pursue", "Gather information", "Pursue"]
    assert len({r["assessment_key"] for r in rows}) == 3
    history = assessments.history(settings.db_path, OPP)
    # Saved within one second, on one date: still newest first, so "the latest" is the last save.
    assert list(history["assessment_key"]) == [s.assessment_key for s in reversed(saved)]
    assert set(history["status"]) == {"saved here"}


def test_latest__local_wins_over_synced_and_newest_first(settings: Settings) -> None:
    run_sync(settings)  # the demo data: opportunities and their synced assessments
    opp = next(iter(assessments.opportunity_choices(settings.db_path).labels))
    later = an_assessment("No", opportunity_id=opp, assessed_on=date(2099, 1, 1))
    assessments.save(settings, later, "f", actor=VIEWER)
    latest = assessments.latest_by_opportunity(settings.db_path).set_index("opportunity_id")
    assert latest.loc[opp, "recommendation"] == "Decline"
    assert latest.loc[opp, "score"] == 0
    row = assessments.opportunity(settings.db_path, opp)
    assert row is not None
    assert (row["latest_recommendation"], row["latest_score"]) == ("Decline", 0)
    assert row["latest_assessed_on"] == date(2099, 1, 1)
    assert assessments.opportunity(settings.db_path, "recDOESNOTEXIST00") is None


def test_opportunity_choices__open_first_searched_in_sql_at_most_the_limit(
    tmp_path: Path,
) -> None:
    source = tmp_path / "big"
    demogen.write(demogen.generate(scale=1, sizes=demogen.Sizes(opportunities=700)), source)
    big = Settings(db_path=tmp_path / "big.duckdb", demo_dir=source)
    run_sync(big, "demo")
    with store.connect(big.db_path) as con:
        stage_of = dict(con.execute("SELECT id, stage FROM opportunities").fetchall())
        [(org, matching)] = con.execute(
            "SELECT organization, count(*) FROM opportunities WHERE organization IS NOT NULL "
            "GROUP BY organization ORDER BY count(*) DESC, organization LIMIT 1"
        ).fetchall()
    assert len(stage_of) > assessments.PICKER_LIMIT + 1

    every = assessments.opportunity_choices(big.db_path)
    assert len(every.labels) == assessments.PICKER_LIMIT and every.more
    closed = {str(s) for s in vocabulary.CLOSED_STAGES}
    open_flags = [stage_of[i] not in closed for i in every.labels]
    assert open_flags == sorted(open_flags, reverse=True)  # open ones first

    found = assessments.opportunity_choices(big.db_path, f"  {org.upper()} ")  # case, blanks
    assert len(found.labels) == min(matching, assessments.PICKER_LIMIT)
    assert found.more == (matching > assessments.PICKER_LIMIT)
    assert all(org.lower() in label.lower() for label in found.labels.values())
    # SQL wildcards and quotes are plain text.
    for odd in ("%", "_", "'; DROP TABLE opportunities; --", "\\"):
        assert assessments.opportunity_choices(big.db_path, odd).labels == {}


def test_history__includes_synced_assessments(settings: Settings) -> None:
    run_sync(settings)
    with store.connect(settings.db_path) as con:
        opp, key = con.execute(
            "SELECT opportunity_id, assessment_key FROM qualifications LIMIT 1"
        ).fetchall()[0]
    history = assessments.history(settings.db_path, opp)
    assert key in set(history["assessment_key"])
    synced = history.set_index("assessment_key").loc[key]
    assert synced["status"] == "from AirTable"
    restored = assessments.assessment_from_row(synced.to_dict(), opp)
    assert restored.verdict.recommendation == synced["recommendation"]


# -- against the loopback AirTable ----------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[FakeAirtable]:
    with FakeAirtable(token=TOKEN, base_id=BASE) as fake:
        fake.set_records(
            "Opportunities",
            [airtable_record({"Opportunity Name": "Hub for polar science"}, OPP)],
        )
        for table in ("Contracts", "Invoices", "Qualifications"):
            fake.set_records(table, [])
        yield fake
    assert not fake.internal_errors, fake.internal_errors[0]


@pytest.fixture
def airtable_settings(
    server: FakeAirtable, loopback_settings: LoopbackSettings
) -> Callable[..., Settings]:
    return partial(loopback_settings, server)


def test_push__upserts_on_the_assessment_key_with_every_field(
    server: FakeAirtable, airtable_settings: Callable[..., Settings]
) -> None:
    settings = airtable_settings()
    outcome = assessments.save(settings, an_assessment("Partial"), "form-1", actor=VIEWER)
    assert outcome.created and outcome.pushed
    assert (outcome.push.attempted, outcome.push.pushed) == (1, 1)

    [write] = server.requests_for("Qualifications", kind="write")
    assert write.method == "PATCH" and write.status == 200
    assert write.body["performUpsert"] == {"fieldsToMergeOn": ["Assessment Key"]}
    [sent] = write.body["records"]
    expected = {
        "Assessment Key": outcome.assessment_key,
        "Opportunity": [OPP],
        "Assessed By": "amara@example.org",
        "Assessed On": "2026-11-25",
        **dict.fromkeys(CRITERIA, "Partial"),
        "Money Notes": NOTE,  # verbatim; the empty notes are left out
        "Score": 7,
        "Recommendation": "Gather information",
    }
    assert sent == {"fields": expected}

    [record] = server.records("Qualifications")
    assert record["fields"] == expected
    [row] = local_rows(settings)
    assert row["airtable_id"] == record["id"]
    assert row["pushed_at"] is not None and row["push_error"] is None
    assert set(assessments.history(settings.db_path, OPP)["status"]) == {"in AirTable"}


def test_push__saving_again_sends_nothing_and_makes_no_second_record(
    server: FakeAirtable, airtable_settings: Callable[..., Settings]
) -> None:
    settings = airtable_settings()
    assessments.save(settings, an_assessment(), "form-1", actor=VIEWER)
    assessments.save(settings, an_assessment(), "form-1", actor=VIEWER)
    assert len(server.requests_for("Qualifications", kind="write")) == 1
    assert len(server.records("Qualifications")) == 1


def test_push__a_repeated_push_of_the_same_key_updates_the_same_record(
    server: FakeAirtable, airtable_settings: Callable[..., Settings]
) -> None:
    # As if the app died after AirTable took the record but before it was marked pushed.
    settings = airtable_settings()
    assessments.save(settings, an_assessment(), "form-1", actor=VIEWER)
    with store.connect(settings.db_path) as con:
        con.execute("UPDATE assessments SET push_state = 'sending', airtable_id = NULL")
    outcome = assessments.push_pending(settings)
    assert outcome.pushed == 1
    assert len(server.records("Qualifications")) == 1
    assert len(server.requests_for("Qualifications", kind="write")) == 2


def test_push__a_429_then_success(
    server: FakeAirtable, airtable_settings: Callable[..., Settings]
) -> None:
    settings = airtable_settings()
    server.add_fault("Qualifications", kind="write", status=429, times=1)
    outcome = assessments.save(settings, an_assessment(), "form-1", actor=VIEWER)
    assert outcome.pushed
    statuses = [r.status for r in server.requests_for("Qualifications", kind="write")]
    assert statuses == [429, 200]
    assert len(server.records("Qualifications")) == 1
    assert local_rows(settings)[0]["pushed_at"] is not None


def test_push__a_failure_keeps_it_not_pushed_and_the_next_save_sends_it(
    server: FakeAirtable, airtable_settings: Callable[..., Settings]
) -> None:
    settings = airtable_settings()
    fault = server.add_fault("Qualifications", kind="write", status=503, times=None)
    failed = assessments.save(settings, an_assessment(), "form-1", actor=VIEWER)
    assert failed.created and not failed.pushed
    assert failed.push.error is not None and "503" in failed.push.error
    [row] = local_rows(settings)
    assert row["pushed_at"] is None and row["push_error"] == failed.push.error
    [status] = assessments.history(settings.db_path, OPP)["status"]
    assert status.startswith("not yet pushed: AirTable answered 503")
    assert server.records("Qualifications") == []
    assert fault.fired == 2  # the first try and one retry

    server.clear_faults()
    later = assessments.save(settings, an_assessment("Partial"), "form-2", actor=VIEWER)
    assert later.pushed and (later.push.attempted, later.push.pushed) == (2, 2)
    keys = {r["fields"]["Assessment Key"] for r in server.records("Qualifications")}
    assert keys == {failed.assessment_key, later.assessment_key}
    assert all(r["pushed_at"] is not None and r["push_error"] is None for r in local_rows(settings))


def test_push__a_failed_save_retried_sends_it_once(
    server: FakeAirtable, airtable_settings: Callable[..., Settings]
) -> None:
    settings = airtable_settings()
    server.add_fault("Qualifications", kind="write", status=500, times=2)
    assert not assessments.save(settings, an_assessment(), "form-1", actor=VIEWER).pushed
    retried = assessments.save(
        settings, an_assessment(), "form-1", actor=VIEWER
    )  # the user presses Save again
    assert not retried.created and retried.pushed
    assert len(local_rows(settings)) == 1
    assert len(server.records("Qualifications")) == 1


def test_sync__pushes_pending_assessments_before_fetching(
    server: FakeAirtable, airtable_settings: Callable[..., Settings]
) -> None:
    settings = airtable_settings()
    server.add_fault("Qualifications", kind="write", status=503, times=2)
    saved = assessments.save(settings, an_assessment(), "form-1", actor=VIEWER)
    assert not saved.pushed

    result = run_sync(settings)
    assert result.status == "ok" and result.counts["qualifications"] == 1
    # The sync says what it pushed first.
    assert (result.pushed_assessments, result.push_error) == (1, None)
    assert result.push_text == "First sent 1 saved assessment to AirTable."
    assert result.to_json()["pushed_assessments"] == 1
    [row] = local_rows(settings)
    assert row["pushed_at"] is not None and row["push_state"] == "pushed"
    with store.connect(settings.db_path) as con:
        synced = store.query(con, "SELECT assessment_key, money_notes FROM qualifications")
        latest = store.query(con, "SELECT assessment_key, origin FROM latest_assessment")
    assert synced == [{"assessment_key": saved.assessment_key, "money_notes": NOTE}]
    assert latest == [{"assessment_key": saved.assessment_key, "origin": "local"}]
    # The write came before the first read of the sync.
    kinds = [(r.table, r.kind) for r in server.log if r.status == 200]
    assert kinds[0] == ("Qualifications", "write")


def test_sync__a_failed_push_does_not_fail_the_sync(
    server: FakeAirtable, airtable_settings: Callable[..., Settings]
) -> None:
    settings = airtable_settings()
    server.add_fault("Qualifications", kind="write", status=503, times=None)
    assessments.save(settings, an_assessment(), "form-1", actor=VIEWER)
    result = run_sync(settings)
    assert result.status == "ok" and result.counts["opportunities"] == 1
    assert result.pushed_assessments == 0 and "503" in str(result.push_error)
    assert result.push_text.startswith("Saved assessments not yet in AirTable:")
    [row] = local_rows(settings)
    assert row["pushed_at"] is None and "503" in row["push_error"]
    assert row["push_state"] == "pending"


def test_sync__nothing_pending_sends_nothing(
    server: FakeAirtable, airtable_settings: Callable[..., Settings]
) -> None:
    run_sync(airtable_settings())
    assert server.count(kind="write") == 0


def test_push__an_unknown_field_is_explained(
    server: FakeAirtable, airtable_settings: Callable[..., Settings]
) -> None:
    server.set_records("Qualifications", [], field_names=["Assessment Key", "Opportunity"])
    outcome = assessments.save(airtable_settings(), an_assessment(), "form-1", actor=VIEWER)
    assert outcome.push.error == (
        "AirTable refused PATCH Qualifications with 422 (UNKNOWN_FIELD_NAME)."
    )


# -- helpers for the page --------------------------------------------------------------------------


def test_choice_label__name_organisation_stage() -> None:
    label = assessments.choice_label
    assert label({"name": "Polar hub", "organization": "CryoCloud", "stage": "Lead"}) == (
        "Polar hub · CryoCloud · Lead"
    )
    assert label({"name": "CryoCloud: hub", "organization": "CryoCloud", "stage": None}) == (
        "CryoCloud: hub · no stage"
    )


def test_answers_table_and_markdown_download__verbatim_and_a_safe_file_name(
    settings: Settings,
) -> None:
    saved = assessments.save(settings, an_assessment("Partial"), "form-1", actor=VIEWER)
    [row] = assessments.history(settings.db_path, OPP).to_dict("records")
    table = assessments.answers_table(row).set_index("Criterion")
    assert table.loc["Money", "Notes"] == NOTE and table.loc["Need", "Notes"] == ""
    assert table.loc["Money", "Answer"] == "Partial"
    name, text = assessments.markdown_download(row, OPP, {"name": "Hub <x>", "organization": None})
    assert name == f"maniac-t-{saved.assessment_key.replace('/', '-')}.md"
    assert text.startswith("# MANIAC-T assessment: Hub \\<x\\>\n")
    assert "- **Assessed on:** 2026-11-25" in text and "Organisation" not in text
    assert '> Said "yes" \\\\o/ \\<b\\>HTML\\</b\\> 🎉 =HYPERLINK("http://x","y")  \n' in text


def test_save_outcome__message_in_words() -> None:
    ok = assessments.PushOutcome(attempted=1, pushed=1)
    failed = assessments.PushOutcome(attempted=1, error="AirTable answered 503.")
    local = assessments.SaveOutcome("k", True, False, assessments.PushOutcome())
    assert local.message == "Saved. It is kept in the local database (demo data: no AirTable)."
    again = assessments.SaveOutcome("k", False, True, ok)
    assert again.message.startswith("Already saved: no second copy was made.")
    late = assessments.SaveOutcome("k", True, True, failed)
    assert not late.pushed and failed.failed == 1
    assert "not yet in AirTable: AirTable answered 503." in late.message


def test_an_unexpected_error_after_airtable_took_it_is_said_and_the_next_push_reconciles(
    server: FakeAirtable,
    airtable_settings: Callable[..., Settings],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = airtable_settings()
    real = AirtableSource.upsert_by_key

    def written_then_broken(
        self: AirtableSource, table: str, records: list[Any], key: str, on_chunk: Any = None
    ) -> None:
        real(self, table, records, key, None)  # AirTable has the record; we never hear of it
        raise TypeError("broken after the write")

    monkeypatch.setattr(AirtableSource, "upsert_by_key", written_then_broken)
    saved = assessments.save(settings, an_assessment(), "form-1", actor=VIEWER)
    assert "Unexpected error TypeError: broken after the write" in saved.message
    [row] = local_rows(settings)
    assert row["push_state"] == "pending" and "TypeError" in row["push_error"]
    [status] = assessments.history(settings.db_path, OPP)["status"]
    assert status.startswith("not yet pushed: Unexpected error TypeError")

    monkeypatch.undo()
    assert assessments.push_pending(settings).pushed == 1
    assert len(server.records("Qualifications")) == 1  # the upsert found the record it made
    [status] = assessments.history(settings.db_path, OPP)["status"]
    assert status == "in AirTable"
