"""The push of invoices made here to the loopback AirTable: upserts, retries, no loss."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from sales_core import ledger, outbox, writeback
from sales_core.access import Actor
from sales_core.airtable import AirtableSource
from sales_core.invoicing import generate
from sales_core.ledger import Change, change_status
from sales_core.sync import run_sync
from tests.conftest import NOVEMBER
from tests.fake_airtable import FakeAirtable
from tests.test_ledger import set_airtable_status


def airtable_keys(server: FakeAirtable) -> list[str]:
    return [
        r["fields"]["Invoice Key"]
        for r in server.records("Invoices")
        if "Invoice Key" in r["fields"]
    ]


def test_push__upserts_on_the_key_with_status_draft_and_contract_link(airtable: Any) -> None:
    server, settings = airtable
    before = len(server.records("Invoices"))
    result = generate(settings, NOVEMBER, actor=Actor("a", "biller"))
    assert result.push_error is None and result.pushed == len(result.created)
    rows = {r["fields"].get("Invoice Key"): r["fields"] for r in server.records("Invoices")}
    assert len(server.records("Invoices")) == before + len(result.created)
    draft = result.created[0]
    sent = rows[draft.invoice_key]
    assert sent["Status"] == "Draft" and sent["Contract"] == [draft.contract_id]
    assert sent["Invoice Number"] == draft.number
    assert Decimal(str(sent["Amount"])) == draft.amount
    writes = server.requests_for("Invoices", kind="write")
    assert all(r.body["performUpsert"] == {"fieldsToMergeOn": ["Invoice Key"]} for r in writes)
    assert all(len(r.body["records"]) <= 10 for r in writes)
    assert ledger.pending_push_count(settings) == 0
    # The next sync brings them back; a new run still makes nothing twice.
    run_sync(settings)
    assert generate(settings, NOVEMBER, actor=Actor("a", "biller")).created == []
    assert len(airtable_keys(server)) == len(set(airtable_keys(server)))


def test_push__429_then_success(airtable: Any) -> None:
    server, settings = airtable
    server.add_fault("Invoices", kind="write", on_request=1, status=429, times=1)
    result = generate(settings, NOVEMBER, actor=Actor("a", "biller"))
    assert result.push_error is None
    assert ledger.pending_push_count(settings) == 0
    assert server.count(status=429) == 1


def test_push__500_on_the_second_chunk_keeps_the_rest_pending(airtable: Any) -> None:
    server, settings = airtable
    server.add_fault("Invoices", kind="write", on_request=2, status=500, times=None)
    result = generate(settings, NOVEMBER, actor=Actor("a", "biller"))
    assert len(result.created) > 10
    assert result.push_error is not None and "500" in result.push_error
    assert result.pushed == 10
    assert ledger.pending_push_count(settings) == len(result.created) - 10
    table = ledger.generated_invoices(settings)
    assert set(table["push_state"]) == {"pushed", "pending"}
    server.clear_faults()
    outcome = writeback.push_pending(settings, actor=Actor("a", "biller"))
    assert outcome.error is None and outcome.pending == 0
    keys = airtable_keys(server)
    assert len(keys) == len(set(keys))
    assert {d.invoice_key for d in result.created} <= set(keys)


def test_push__crash_between_airtable_and_local_update_is_reconciled(
    airtable: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, settings = airtable
    generate(settings, NOVEMBER, actor=Actor("a", "biller"), push=False)

    def crash(*args: Any) -> None:
        raise KeyboardInterrupt("the process died here")

    monkeypatch.setattr(outbox, "_confirm", crash)
    with pytest.raises(KeyboardInterrupt):
        writeback.push_pending(settings, actor=Actor("a", "biller"))
    monkeypatch.undo()
    table = ledger.generated_invoices(settings)
    assert set(table["push_state"]) == {"sending"}
    server.clear_log()
    outcome = writeback.push_pending(settings, actor=Actor("a", "biller"))
    assert outcome.reconciled == 10  # the first chunk reached AirTable before the crash
    assert outcome.pending == 0 and outcome.error is None
    # The keys are read back (that field only), then the records found, before anything is
    # written over them (an edit made in AirTable since would be a conflict).
    reads = server.requests_for("Invoices", kind="list")
    assert reads and reads[0].query.get("fields[]") in (["Invoice Key"], "Invoice Key")
    keys = airtable_keys(server)
    assert len(keys) == len(set(keys))
    assert set(table["invoice_key"]) <= set(keys)


def test_status_change_is_pushed(airtable: Any) -> None:
    server, settings = airtable
    result = generate(settings, NOVEMBER, actor=Actor("a", "biller"))
    number = result.created[0].number
    assert number is not None
    change_status(
        settings,
        Change(number, "Void", reason="duplicate"),
        actor=Actor("a", "biller"),
        today=date(2026, 11, 25),
    )
    assert ledger.pending_push_count(settings) == 1
    writeback.push_pending(settings, actor=Actor("a", "biller"))
    row = next(r for r in server.records("Invoices") if r["fields"].get("Invoice Number") == number)
    assert row["fields"]["Status"] == "Void"
    assert len(airtable_keys(server)) == len(set(airtable_keys(server)))


def test_a_change_during_a_push_is_not_lost(airtable: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    server, settings = airtable
    result = generate(settings, NOVEMBER, actor=Actor("a", "biller"), push=False)
    late = result.created[-1]  # in the last chunk
    original = outbox._confirm
    changed = []

    def change_then_mark(*args: Any) -> set[str]:
        if not changed:
            change_status(
                settings,
                Change(str(late.number), "Authorized"),
                actor=Actor("b", "biller"),
                today=date(2026, 11, 25),
            )
            changed.append(True)
        return original(*args)

    monkeypatch.setattr(outbox, "_confirm", change_then_mark)
    writeback.push_pending(settings, actor=Actor("a", "biller"))
    monkeypatch.undo()
    assert ledger.pending_push_count(settings) == 1  # the change waits for the next push
    writeback.push_pending(settings, actor=Actor("a", "biller"))
    row = next(
        r for r in server.records("Invoices") if r["fields"].get("Invoice Key") == late.invoice_key
    )
    assert row["fields"]["Status"] == "Authorized"
    assert ledger.pending_push_count(settings) == 0


def test_two_pushes_at_once_send_each_invoice_once(airtable: Any) -> None:
    server, settings = airtable
    result = generate(settings, NOVEMBER, actor=Actor("a", "biller"), push=False)
    server.clear_log()
    outcomes: list[writeback.PushOutcome] = []
    threads = [
        threading.Thread(
            target=lambda: outcomes.append(
                writeback.push_pending(settings, actor=Actor("a", "biller"))
            )
        )
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(o.pushed for o in outcomes) == [0, len(result.created)]
    sent = sum(len(r.body["records"]) for r in server.requests_for("Invoices", kind="write"))
    assert sent == len(result.created)


def test_a_key_held_twice_in_airtable_blocks_only_itself(airtable: Any) -> None:
    server, settings = airtable
    result = generate(settings, NOVEMBER, actor=Actor("a", "biller"))
    doubled = result.created[3]
    assert doubled.number is not None
    copy = next(
        r
        for r in server.records("Invoices")
        if r["fields"].get("Invoice Key") == doubled.invoice_key
    )
    server.set_records("Invoices", [*server.records("Invoices"), {"fields": dict(copy["fields"])}])
    for draft in result.created[:12]:
        change_status(
            settings,
            Change(str(draft.number), "Authorized"),
            actor=Actor("a", "biller"),
            today=date(2026, 11, 25),
        )
    outcome = writeback.push_pending(settings, actor=Actor("a", "biller"))
    assert outcome.pushed == 11 and outcome.pending == 1
    assert outcome.error is not None and doubled.invoice_key in outcome.error


def test_a_row_adopted_from_airtable_between_read_and_claim_is_not_sent_stale(
    airtable: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, settings = airtable
    biller = Actor("a", "biller")
    made = generate(settings, NOVEMBER, actor=biller).created[0]
    change_status(
        settings, Change(str(made.number), "Authorized"), actor=biller, today=date(2026, 11, 25)
    )
    set_airtable_status(server, made.invoice_key, "Paid", "2026-11-20")
    read = outbox.pending_rows

    def read_then_a_sync(con: Any, queue: outbox.Queue) -> list[dict[str, Any]]:
        rows = read(con, queue)
        run_sync(settings)  # another session's sync adopts AirTable's Paid meanwhile
        return rows

    monkeypatch.setattr(outbox, "pending_rows", read_then_a_sync)
    outcome = writeback.push_pending(settings, actor=biller)
    assert (outcome.attempted, outcome.pushed, outcome.error) == (0, 0, None)
    [there] = [
        r for r in server.records("Invoices") if r["fields"].get("Invoice Key") == made.invoice_key
    ]
    assert there["fields"]["Status"] == "Paid"


def test_an_unexpected_error_mid_push_keeps_every_row_pending_with_the_reason(
    airtable: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, settings = airtable
    made = generate(settings, NOVEMBER, actor=Actor("a", "biller"), push=False).created

    def broken(*args: Any, **kwargs: Any) -> None:
        raise KeyError("Status")

    monkeypatch.setattr(AirtableSource, "upsert_by_key", broken)
    outcome = writeback.push_pending(settings, actor=Actor("a", "biller"))
    assert outcome.error == "Unexpected error KeyError: 'Status'"
    assert (outcome.attempted, outcome.pushed, outcome.pending) == (len(made), 0, len(made))
    table = ledger.generated_invoices(settings)
    assert set(table["push_state"]) == {"pending"}
    assert set(table["push_error"]) == {outcome.error}
    assert ledger.audit_log(settings).iloc[0]["action"] == "push"
