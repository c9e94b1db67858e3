"""Invoices made here that people also edit in AirTable: what a sync takes, what a push writes,
and the conflicts left to a person. Against the loopback AirTable server."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from sales_core import ledger, reconcile, writeback
from sales_core.access import Actor
from sales_core.config import Settings
from sales_core.errors import BillingError
from sales_core.invoicing import generate
from sales_core.ledger import Change, change_status
from sales_core.sync import run_sync
from tests.conftest import NOVEMBER, use_in_environment
from tests.fake_airtable import FakeAirtable

BILLER = Actor("a", "biller")
TODAY = date(2026, 11, 25)


def edit_in_airtable(server: FakeAirtable, key: str, **fields: Any) -> None:
    """What a person does in AirTable's grid: change some fields of one invoice."""
    records = server.records("Invoices")
    [record] = [r for r in records if r["fields"].get("Invoice Key") == key]
    record["fields"].update(fields)
    server.set_records("Invoices", [record if r["id"] == record["id"] else r for r in records])


def in_airtable(server: FakeAirtable, key: str) -> dict[str, Any]:
    [record] = [r for r in server.records("Invoices") if r["fields"].get("Invoice Key") == key]
    return dict(record["fields"])


def here(settings: Settings, number: str) -> Any:
    return ledger.generated_invoices(settings).set_index("number").loc[number]


def pushed(settings: Settings) -> writeback.PushOutcome:
    return writeback.push_pending(settings, actor=BILLER)


def test_edits_in_airtable_are_taken_or_listed_and_a_push_never_writes_over_them(
    airtable: tuple[FakeAirtable, Settings],
) -> None:
    # The review's repro: sync; generate (pushed); in AirTable change the Amount and the Due
    # Date and authorize it; sync; mark it paid here; push.
    server, settings = airtable
    made = generate(settings, NOVEMBER, actor=BILLER).created[0]
    number = str(made.number)
    assert in_airtable(server, made.invoice_key)["Status"] == "Draft"
    edit_in_airtable(
        server, made.invoice_key, Amount=1.23, **{"Due Date": "2027-03-01", "Status": "Authorized"}
    )
    run_sync(settings)
    row = here(settings, number)
    assert row["status"] == "Authorized"
    assert row["due_date"].date() == date(2027, 3, 1)  # taken: people may move a due date
    assert row["amount"] == made.amount  # the amount as billed stays, and is listed
    [conflict] = reconcile.conflicts(settings).to_dict("records")
    assert (conflict["number"], conflict["field"]) == (number, "Amount")
    assert (conflict["here"], conflict["there"]) == (f"{made.amount:.2f}", "1.23")
    assert "changed in AirTable" in conflict["problem"]

    change_status(settings, Change(number, "Paid", paid_date=TODAY), actor=BILLER, today=TODAY)
    outcome = pushed(settings)
    assert outcome.held == 1 and outcome.pushed == 0
    assert "Waits for a person" in str(here(settings, number)["push_error"])
    fields = in_airtable(server, made.invoice_key)
    assert (fields["Amount"], fields["Due Date"], fields["Status"]) == (
        1.23,
        "2027-03-01",
        "Authorized",
    )

    # Keeping this app's amount is a person's choice; the push then writes it, with the state.
    reconcile.resolve(settings, number, "here", actor=BILLER)
    assert reconcile.conflicts(settings).empty
    assert pushed(settings).pushed == 1
    fields = in_airtable(server, made.invoice_key)
    assert fields["Amount"] == float(made.amount)
    assert (fields["Status"], fields["Paid Date"]) == ("Paid", TODAY.isoformat())
    assert fields["Due Date"] == "2027-03-01"  # never sent again: AirTable's stands
    run_sync(settings)
    assert reconcile.conflicts(settings).empty
    assert here(settings, number)["push_state"] == "pushed"
    assert "resolve" in set(ledger.audit_log(settings)["action"])


def test_a_push_sends_only_what_changed_here(airtable: tuple[FakeAirtable, Settings]) -> None:
    server, settings = airtable
    made = generate(settings, NOVEMBER, actor=BILLER).created[0]
    server.clear_log()
    change_status(settings, Change(str(made.number), "Authorized"), actor=BILLER, today=TODAY)
    assert pushed(settings).pushed == 1
    [write] = [r for r in server.requests_for("Invoices", kind="write")]
    [record] = write.body["records"]
    assert set(record["fields"]) == {"Invoice Key", "Status"}


def test_an_edit_in_airtable_after_the_last_sync_is_never_overwritten(
    airtable: tuple[FakeAirtable, Settings],
) -> None:
    server, settings = airtable
    made = generate(settings, NOVEMBER, actor=BILLER).created[0]
    number = str(made.number)
    change_status(settings, Change(number, "Authorized"), actor=BILLER, today=TODAY)
    pushed(settings)
    run_sync(settings)
    change_status(
        settings, Change(number, "Void", reason="entered twice"), actor=BILLER, today=TODAY
    )
    edit_in_airtable(server, made.invoice_key, Status="Paid", **{"Paid Date": "2026-11-20"})
    # No sync in between: the push reads AirTable's state first and holds the invoice.
    outcome = pushed(settings)
    assert (outcome.pushed, outcome.held) == (0, 1)
    assert in_airtable(server, made.invoice_key)["Status"] == "Paid"
    found = {c["field"]: c for c in reconcile.conflicts(settings).to_dict("records")}
    assert set(found) == {"Status", "Paid Date", "Void Reason"}  # the state, as one
    assert {c["found_by"] for c in found.values()} == {"push"}
    assert (found["Status"]["here"], found["Status"]["there"]) == ("Void", "Paid")

    # The sync sees both sides changed (Void here, Paid there): still a conflict.
    run_sync(settings)
    conflicts = reconcile.conflicts(settings)
    assert set(conflicts["field"]) >= {"Status"} and set(conflicts["found_by"]) == {"sync"}
    assert here(settings, number)["status"] == "Void"
    assert pushed(settings).held == 1
    assert in_airtable(server, made.invoice_key)["Status"] == "Paid"

    # A person settles it for AirTable: the payment stands, the void here is dropped.
    reconcile.resolve(settings, number, "airtable", actor=BILLER)
    row = here(settings, number)
    assert (row["status"], row["paid_date"].date(), row["push_state"]) == (
        "Paid",
        date(2026, 11, 20),
        "pushed",
    )
    assert pushed(settings).attempted == 0
    run_sync(settings)
    assert reconcile.conflicts(settings).empty


def test_a_step_back_in_airtable_is_not_taken_and_is_listed_for_a_person(
    airtable: tuple[FakeAirtable, Settings],
) -> None:
    server, settings = airtable
    made = generate(settings, NOVEMBER, actor=BILLER).created[0]
    edit_in_airtable(server, made.invoice_key, Status="Paid", **{"Paid Date": "2026-11-20"})
    run_sync(settings)  # Draft here, Paid there: two allowed steps, taken
    edit_in_airtable(server, made.invoice_key, Status="Authorized")
    run_sync(settings)  # Paid here, Authorized there: a step back
    assert here(settings, str(made.number))["status"] == "Paid"
    [conflict] = reconcile.conflicts(settings).to_dict("records")
    assert conflict["field"] == "Status"
    assert f"{made.number} is Paid here and Authorized in AirTable" in conflict["problem"]
    assert [a for a in ledger.audit_log(settings)["action"] if a == "adopt"] == ["adopt"]
    with pytest.raises(BillingError, match="no conflict"):
        reconcile.resolve(settings, "INV-1999-0001", "here", actor=BILLER)


def test_airtable_further_along_wins_over_a_change_here_not_yet_pushed(
    airtable: tuple[FakeAirtable, Settings],
) -> None:
    server, settings = airtable
    made = generate(settings, NOVEMBER, actor=BILLER).created[0]
    number = str(made.number)
    change_status(settings, Change(number, "Authorized"), actor=BILLER, today=TODAY)  # not pushed
    edit_in_airtable(server, made.invoice_key, Status="Paid", **{"Paid Date": "2026-11-20"})
    run_sync(settings)
    row = here(settings, number)
    assert (row["status"], row["push_state"]) == ("Paid", "pushed")
    assert reconcile.conflicts(settings).empty
    details = list(ledger.audit_log(settings)["detail"])
    assert any(
        "the change here to Authorized, not yet in AirTable, is dropped" in str(d) for d in details
    )


def test_a_document_field_cannot_be_taken_from_airtable(
    airtable: tuple[FakeAirtable, Settings],
) -> None:
    server, settings = airtable
    made = generate(settings, NOVEMBER, actor=BILLER).created[0]
    edit_in_airtable(server, made.invoice_key, **{"Period Start": "2026-10-15"})
    run_sync(settings)
    with pytest.raises(BillingError, match="Period Start cannot be taken from AirTable"):
        reconcile.resolve(settings, str(made.number), "airtable", actor=BILLER)
    # Put back in AirTable, the conflict goes with the next sync.
    edit_in_airtable(server, made.invoice_key, **{"Period Start": made.period_start.isoformat()})
    run_sync(settings)
    assert reconcile.conflicts(settings).empty


def test_the_pages_list_a_conflict_and_a_biller_settles_it(
    airtable: tuple[FakeAirtable, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pathlib import Path

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    server, settings = airtable
    made = generate(settings, NOVEMBER, actor=BILLER).created[0]
    edit_in_airtable(server, made.invoice_key, Amount=1.23)
    run_sync(settings)
    use_in_environment(monkeypatch, server, settings)
    st.cache_data.clear()
    app = str(Path(__file__).resolve().parent.parent / "app.py")
    at = AppTest.from_file(app, default_timeout=90)
    at.run()
    at.switch_page("pages/data_health.py").run()
    assert any("1 field of invoices made here" in w.value for w in at.warning)
    [listed] = [d.value for d in at.dataframe if "found_by" in d.value.columns]
    assert list(listed["number"]) == [made.number]

    at.switch_page("pages/invoices.py").run()
    assert not at.exception
    assert any(
        "1 invoice made here conflicts with AirTable" in w.value for w in at.warning
    )  # any tab
    at.session_state["invoices_section"] = "Invoices made here"
    at.run()
    assert any("1 field of 1 invoice changed" in w.value for w in at.warning)
    at.button(key="keep_airtable").click().run()
    assert any("cannot be taken from AirTable" in e.value for e in at.error)
    assert not reconcile.conflicts(settings).empty  # nothing changed
    at.button(key="keep_here").click().run()
    assert any(f"{made.number}: this app's values stand" in s.value for s in at.success)
    assert reconcile.conflicts(settings).empty
    at.button(key="push").click().run()
    assert in_airtable(server, made.invoice_key)["Amount"] == float(made.amount)


def test_cli_lists_and_settles_conflicts_and_push_exits_1_while_one_holds(
    airtable: tuple[FakeAirtable, Settings],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import json

    from sales_core.cli import main

    server, settings = airtable
    made = generate(settings, NOVEMBER, actor=BILLER).created[0]
    edit_in_airtable(server, made.invoice_key, Currency="EUR")
    run_sync(settings)
    change_status(settings, Change(str(made.number), "Authorized"), actor=BILLER, today=TODAY)
    use_in_environment(monkeypatch, server, settings, SALES_OPERATOR="a@example.org")
    capsys.readouterr()
    assert main(["invoices", "conflicts", "--json"]) == 0
    [listed] = json.loads(capsys.readouterr().out)
    assert (listed["field"], listed["here"], listed["airtable"]) == (
        "Currency",
        made.currency,
        "EUR",
    )
    assert main(["invoices", "push"]) == 1
    assert "1 invoices wait for a person" in capsys.readouterr().err
    assert main(["invoices", "resolve", str(made.number), "--keep", "airtable"]) == 1
    assert "Currency cannot be taken from AirTable" in capsys.readouterr().err
    assert main(["invoices", "resolve", str(made.number), "--keep", "here"]) == 0
    assert main(["invoices", "push"]) == 0
    fields = in_airtable(server, made.invoice_key)
    assert (fields["Currency"], fields["Status"]) == (made.currency, "Authorized")
    assert main(["invoices", "conflicts"]) == 0
    assert "No conflict with AirTable." in capsys.readouterr().out


def sql(settings: Settings, text: str, params: list[Any] | None = None) -> list[Any]:
    from sales_core import store

    with store.write_transaction(settings.db_path) as con:
        return con.execute(text, params or []).fetchall()


def test_invoices_pushed_before_the_upgrade_agree_with_airtable_as_they_were(
    airtable: tuple[FakeAirtable, Settings],
) -> None:
    from sales_core.migrations import MIGRATIONS

    server, settings = airtable
    made = generate(settings, NOVEMBER, actor=BILLER).created[:3]
    voided, changed, edited = (str(m.number) for m in made)
    change_status(
        settings, Change(voided, "Void", reason="entered twice"), actor=BILLER, today=TODAY
    )
    pushed(settings)
    run_sync(settings)
    change_status(settings, Change(changed, "Authorized"), actor=BILLER, today=TODAY)  # pending
    # As release 10 left them: no agreed state, and AirTable never heard a Void Reason.
    records = server.records("Invoices")
    for record in records:
        record["fields"].pop("Void Reason", None)
    server.set_records("Invoices", records)
    sql(settings, "UPDATE generated_invoices SET airtable_seen = NULL")
    sql(settings, "UPDATE invoices SET void_reason = NULL")
    [migration] = [m for m in MIGRATIONS if m.version == 11]
    sql(settings, migration.statements[-1])

    edit_in_airtable(server, made[2].invoice_key, Amount=9.99)
    run_sync(settings)  # the first sync after the upgrade
    assert here(settings, voided)["void_reason"] == "entered twice"  # never wiped
    assert here(settings, changed)[["status", "push_state"]].tolist() == ["Authorized", "pending"]
    assert [
        (c["number"], c["field"]) for c in reconcile.conflicts(settings).to_dict("records")
    ] == [(edited, "Amount")]
    # The pending change goes out, and so does the void reason AirTable never had.
    assert pushed(settings).pushed == 2
    assert in_airtable(server, made[1].invoice_key)["Status"] == "Authorized"
    assert in_airtable(server, made[0].invoice_key)["Void Reason"] == "entered twice"
    assert in_airtable(server, made[2].invoice_key)["Amount"] == 9.99


def test_the_same_change_on_both_sides_is_agreement(
    airtable: tuple[FakeAirtable, Settings],
) -> None:
    server, settings = airtable
    made = generate(settings, NOVEMBER, actor=BILLER).created[0]
    change_status(settings, Change(str(made.number), "Authorized"), actor=BILLER, today=TODAY)
    edit_in_airtable(server, made.invoice_key, Status="Authorized")
    run_sync(settings)
    assert reconcile.conflicts(settings).empty
    assert here(settings, str(made.number))["push_state"] == "pushed"


def test_emptied_fields_a_lost_record_and_a_doubled_key_are_listed_never_taken(
    airtable: tuple[FakeAirtable, Settings],
) -> None:
    server, settings = airtable
    first, second, third = generate(settings, NOVEMBER, actor=BILLER).created[:3]
    edit_in_airtable(server, first.invoice_key, **{"Due Date": None, "Status": None})
    records = server.records("Invoices")
    [lost] = [r for r in records if r["fields"].get("Invoice Key") == second.invoice_key]
    server.delete_record("Invoices", lost["id"])
    [twice] = [
        r for r in server.records("Invoices") if r["fields"].get("Invoice Key") == third.invoice_key
    ]
    server.set_records("Invoices", [*server.records("Invoices"), {"fields": dict(twice["fields"])}])
    run_sync(settings)
    listed = {(c["number"], c["field"]) for c in reconcile.conflicts(settings).to_dict("records")}
    assert listed == {
        (first.number, "Due Date"),
        (first.number, "Status"),
        (second.number, "AirTable record"),
        (third.number, "AirTable record"),
    }
    assert here(settings, str(first.number))["due_date"].date() == first.due_date
    with pytest.raises(BillingError, match="AirTable's Due Date, Status is empty"):
        reconcile.resolve(settings, str(first.number), "airtable", actor=BILLER)

    # Keeping this app's values writes a lost invoice again, whole.
    reconcile.resolve(settings, str(second.number), "here", actor=BILLER)
    pushed(settings)
    fields = in_airtable(server, second.invoice_key)
    assert (fields["Invoice Number"], fields["Amount"]) == (second.number, float(second.amount))


def test_a_base_without_void_reason_refuses_the_void_only(
    airtable: tuple[FakeAirtable, Settings],
) -> None:
    server, settings = airtable
    first, second = generate(settings, NOVEMBER, actor=BILLER).created[:2]
    names = {k for r in server.records("Invoices") for k in r["fields"]} - {"Void Reason"}
    server.set_records("Invoices", server.records("Invoices"), names)
    voided = Change(str(first.number), "Void", reason="entered twice")
    change_status(settings, voided, actor=BILLER, today=TODAY)
    change_status(settings, Change(str(second.number), "Authorized"), actor=BILLER, today=TODAY)
    outcome = pushed(settings)
    assert (outcome.pushed, outcome.pending) == (1, 1)
    assert "UNKNOWN_FIELD_NAME" in str(outcome.error)
    assert in_airtable(server, second.invoice_key)["Status"] == "Authorized"


def test_a_push_cut_off_after_airtables_write_never_overwrites_later_edits(
    airtable: tuple[FakeAirtable, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    from sales_core import outbox

    class Killed(BaseException):
        pass

    def killed(*args: Any, **kwargs: Any) -> None:
        raise Killed

    server, settings = airtable
    monkeypatch.setattr(outbox, "_confirm", killed)
    with pytest.raises(Killed):
        generate(settings, NOVEMBER, actor=BILLER)
    monkeypatch.undo()
    [(key,)] = sql(settings, "SELECT invoice_key FROM generated_invoices ORDER BY number LIMIT 1")
    edit_in_airtable(server, key, Status="Authorized", **{"Due Date": "2027-02-02"})
    outcome = pushed(settings)
    assert outcome.reconciled > 0
    fields = in_airtable(server, key)
    assert (fields["Status"], fields["Due Date"]) == ("Authorized", "2027-02-02")
