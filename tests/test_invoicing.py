"""The invoice run as a service: numbering, idempotence, concurrency, PDFs, write-back."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from sales_core import invoicing, ledger, store, writeback
from sales_core.access import Actor
from sales_core.billing import BillingError, Month
from sales_core.config import Settings, load_settings
from sales_core.invoicing import generate, preview
from sales_core.ledger import Change, change_status
from sales_core.pdf import InvoiceDocument, Seller, render_invoice
from sales_core.sync import run_sync
from tests.conftest import LoopbackSettings
from tests.fake_airtable import FakeAirtable

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
NOVEMBER = Month(2026, 11)
TOKEN = "test-token-0123456789"
BASE = "appTESTBASE000001"


@pytest.fixture
def demo(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The demo data synced into a fresh store; PDFs under tmp_path."""
    monkeypatch.setenv("INVOICE_DIR", str(tmp_path / "invoices"))
    configured = load_settings()
    run_sync(configured)
    return configured


def numbers_of(result: invoicing.RunResult) -> list[str]:
    return [d.invoice_number or "" for d in result.created]


def sequence(number: str) -> int:
    found = re.match(r"INV-2026-(\d+)$", number)
    assert found, number
    return int(found.group(1))


def test_generate__numbers_follow_the_highest_known_and_are_gapless(demo: Settings) -> None:
    planned = preview(demo, NOVEMBER)
    assert planned.drafts, "the demo has contracts to bill in November"
    with store.connect(demo.db_path) as con:
        synced = [r[0] for r in con.execute("SELECT number FROM invoices").fetchall()]
    highest = max(sequence(n) for n in synced if n and n.startswith("INV-2026-"))
    result = generate(demo, NOVEMBER, actor=Actor("ana@example.org", "biller"))
    assert [d.invoice_key for d in result.created] == [d.invoice_key for d in planned.drafts]
    assert [sequence(n) for n in numbers_of(result)] == list(
        range(highest + 1, highest + 1 + len(result.created))
    )
    order = [(d.community, d.contract_name, d.contract_id) for d in result.created]
    assert order == sorted(order)
    for path in result.pdfs.values():
        assert path.read_bytes().startswith(b"%PDF")
    log = ledger.audit_log(demo)
    assert log.iloc[0]["actor"] == "ana@example.org" and log.iloc[0]["action"] == "generate"
    assert list(log.iloc[0]["invoice_numbers"]) == numbers_of(result)


def test_generate__twice_makes_nothing_new(demo: Settings) -> None:
    first = generate(demo, NOVEMBER, actor=Actor("a", "biller"))
    second = generate(demo, NOVEMBER, actor=Actor("a", "biller"))
    assert second.created == []
    reasons = {s.contract_id: s.reason for s in second.plan.skipped}
    for draft in first.created:
        assert reasons[draft.contract_id].startswith(f"already invoiced: {draft.invoice_number}")
    assert second.to_json()["invoices"] == []


def test_generate__the_worked_example_contract_bills_half_a_month(demo: Settings) -> None:
    result = generate(demo, NOVEMBER, actor=Actor("a", "biller"))
    halves = [d for d in result.created if d.period_start == date(2026, 11, 16)]
    assert [(d.amount, d.proration) for d in halves] == [(Decimal("500.00"), "15 of 30 days")]


def test_cli_json__exactly_billing_md_shape(
    demo: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    from sales_core.cli import main

    assert main(["invoices", "preview", "--month", "2026-12", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"month", "issue_date", "invoices", "skipped"}
    assert data["month"] == "2026-12" and data["issue_date"] == "2026-12-01"
    invoice = data["invoices"][0]
    assert set(invoice) == {
        "invoice_key",
        "contract_id",
        "contract_name",
        "community",
        "period_start",
        "period_end",
        "amount",
        "currency",
        "due_date",
        "description",
    }
    assert isinstance(invoice["amount"], str) and re.match(r"^\d+(\.\d\d)?$", invoice["amount"])
    assert set(data["skipped"][0]) == {"contract_id", "contract_name", "reason"}
    jpy = [i for i in data["invoices"] if i["currency"] == "JPY"]
    assert jpy and "." not in jpy[0]["amount"]

    assert main(["invoices", "generate", "--month", "2026-12", "--json", "--no-push"]) == 0
    made = json.loads(capsys.readouterr().out)
    assert [i["invoice_key"] for i in made["invoices"]] == [
        i["invoice_key"] for i in data["invoices"]
    ]
    assert all(re.match(r"^INV-2026-\d{4,}$", i["invoice_number"]) for i in made["invoices"])
    assert main(["invoices", "generate", "--month", "2026-12", "--json", "--no-push"]) == 0
    assert json.loads(capsys.readouterr().out)["invoices"] == []


def test_cli__bad_month_is_one_line(demo: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    from sales_core.cli import main

    assert main(["invoices", "preview", "--month", "2026-13"]) == 1
    err = capsys.readouterr().err
    assert "YYYY-MM" in err and len(err.strip().splitlines()) == 1


def test_transitions__guarded_and_audited(demo: Settings) -> None:
    result = generate(demo, NOVEMBER, actor=Actor("a", "biller"))
    first, second = numbers_of(result)[:2]
    today = date(2026, 11, 25)
    with pytest.raises(BillingError, match="Authorize"):
        change_status(
            demo, Change(first, "Paid", paid_date=today), actor=Actor("b", "biller"), today=today
        )
    change_status(demo, Change(first, "Authorized"), actor=Actor("b", "biller"), today=today)
    with pytest.raises(BillingError, match="future"):
        change_status(
            demo,
            Change(first, "Paid", paid_date=date(2026, 12, 1)),
            actor=Actor("b", "biller"),
            today=today,
        )
    with pytest.raises(BillingError, match="before the issue date"):
        change_status(
            demo,
            Change(first, "Paid", paid_date=date(2026, 10, 1)),
            actor=Actor("b", "biller"),
            today=today,
        )
    change_status(
        demo,
        Change(first, "Paid", paid_date=date(2026, 11, 20)),
        actor=Actor("b", "biller"),
        today=today,
    )
    with pytest.raises(BillingError, match="cannot change"):
        change_status(
            demo, Change(first, "Void", reason="oops"), actor=Actor("b", "biller"), today=today
        )
    with pytest.raises(BillingError, match="reason"):
        change_status(
            demo, Change(second, "Void", reason="  "), actor=Actor("b", "biller"), today=today
        )
    change_status(
        demo, Change(second, "Void", reason="wrong fee"), actor=Actor("c", "biller"), today=today
    )
    with pytest.raises(BillingError, match="No invoice"):
        change_status(
            demo, Change("INV-1999-0001", "Authorized"), actor=Actor("c", "biller"), today=today
        )
    table = ledger.generated_invoices(demo).set_index("number")
    assert table.loc[first, "status"] == "Paid"
    assert table.loc[first, "paid_date"].date() == date(2026, 11, 20)
    assert table.loc[second, "status"] == "Void" and table.loc[second, "void_reason"] == "wrong fee"
    actions = ledger.audit_log(demo)[["actor", "action"]].values.tolist()[:4]
    assert actions == [["c", "void"], ["b", "paid"], ["b", "authorized"], ["a", "generate"]]


def test_void_then_run_again__a_new_number_never_reused(demo: Settings) -> None:
    result = generate(demo, NOVEMBER, actor=Actor("a", "biller"))
    voided = result.created[0]
    assert voided.invoice_number is not None
    change_status(
        demo,
        Change(voided.invoice_number, "Void", reason="wrong"),
        actor=Actor("a", "biller"),
        today=date(2026, 11, 25),
    )
    note = preview(demo, NOVEMBER).drafts[0].note
    assert note == f"bills again the period of voided {voided.invoice_number}"
    again = generate(demo, NOVEMBER, actor=Actor("a", "biller"))
    # The voided invoice keeps its key; the new one for the same period gets a suffix.
    assert [d.invoice_key for d in again.created] == [f"{voided.invoice_key}/2"]
    assert sequence(numbers_of(again)[0]) == sequence(numbers_of(result)[-1]) + 1


def test_double_click__two_threads_one_invoice_each(demo: Settings) -> None:
    expected = len(preview(demo, NOVEMBER).drafts)
    results: list[invoicing.RunResult] = []
    barrier = threading.Barrier(2)

    def click() -> None:
        barrier.wait()
        results.append(generate(demo, NOVEMBER, actor=Actor("double", "biller")))

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(len(r.created) for r in results) == [0, expected]
    check_ledger(demo)


def check_ledger(settings: Settings) -> None:
    """One invoice per contract and period; numbers gapless per year."""
    frame = ledger.generated_invoices(settings)
    assert frame["invoice_key"].is_unique and frame["number"].is_unique
    seqs = sorted(sequence(n) for n in frame["number"])
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))


def test_two_processes_generating_the_same_month(demo: Settings, tmp_path: Path) -> None:
    expected = len(preview(demo, NOVEMBER).drafts)
    env = {**os.environ, "SALES_DB": str(demo.db_path), "INVOICE_DIR": str(tmp_path / "pdfs")}
    command = [
        sys.executable,
        "-m",
        "sales_core",
        "invoices",
        "generate",
        "--month",
        "2026-11",
        "--json",
        "--no-push",
    ]
    runs = [
        subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [o[1] for o in outputs]
    counts = sorted(len(json.loads(out)["invoices"]) for out, _ in outputs)
    assert counts == [0, expected]
    check_ledger(demo)
    assert len(ledger.generated_invoices(demo)) == expected


def golden_document() -> InvoiceDocument:
    return InvoiceDocument(
        number="INV-2026-0042",
        issue_date=date(2026, 5, 1),
        due_date=date(2026, 5, 31),
        payment_terms_days=30,
        community="Université de Montréal – Research Hub",
        contract_name="UdeM hub service 2026",
        billing_email="factures@umontreal.example",
        description=(
            "Hub service (UdeM hub service 2026), 2026-05-20 – 2026-06-30: 12 of 31 days + 1 month"
        ),
        period_start=date(2026, 5, 20),
        period_end=date(2026, 6, 30),
        days=42,
        proration="12 of 31 days + 1 month",
        amount=Decimal("1387.10"),
        currency="EUR",
    )


GOLDEN_SELLER = Seller(
    "Managed Hubs Collaborative",
    "1 Example Street\nSpringfield",
    "Pay to IBAN XX00 0000 (€ accepted).",
)


def test_pdf__golden_bytes() -> None:
    produced = render_invoice(golden_document(), GOLDEN_SELLER)
    golden = GOLDEN / "invoice-INV-2026-0042.pdf"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_bytes(produced)
    assert produced == golden.read_bytes(), "rerun with UPDATE_GOLDEN=1 after a deliberate change"
    assert render_invoice(golden_document(), GOLDEN_SELLER) == produced


def pdf_text(data: bytes, tmp_path: Path) -> str:
    source = tmp_path / "invoice.pdf"
    source.write_bytes(data)
    return subprocess.run(
        ["pdftotext", str(source), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_pdf__western_text_needs_no_embedded_font(tmp_path: Path) -> None:
    produced = render_invoice(golden_document(), GOLDEN_SELLER)
    assert b"/FontFile2" not in produced  # Windows-1252 covers é, – and €
    if shutil.which("pdftotext"):
        text = pdf_text(produced, tmp_path)
        assert "Université de Montréal – Research Hub" in text
        assert "EUR 1,387.10" in text and "€ accepted" in text


def test_pdf__other_scripts_embed_dejavu(tmp_path: Path) -> None:
    doc = replace(golden_document(), community="Uniwersytet Łódzki – Ελληνικό Ανοικτό Πανεπιστήμιο")
    produced = render_invoice(doc, GOLDEN_SELLER)
    assert b"/FontFile2" in produced and b"DejaVu" in produced
    if shutil.which("pdftotext"):
        assert "Uniwersytet Łódzki – Ελληνικό Ανοικτό" in pdf_text(produced, tmp_path)


# Write-back against the loopback AirTable ---------------------------------------------------


@pytest.fixture
def airtable(tmp_path: Path, loopback_settings: LoopbackSettings) -> Any:
    """A fake base serving the demo data, and settings pointing at it (synced once)."""
    with FakeAirtable(token=TOKEN, base_id=BASE) as server:
        for table in ("opportunities", "contracts", "invoices", "qualifications"):
            records = json.loads((ROOT / "data" / "demo" / f"{table}.json").read_text())["records"]
            server.set_records(table.capitalize(), records)
        settings = loopback_settings(
            server,
            AIRTABLE_REQUESTS_PER_SECOND="200",
            AIRTABLE_RATE_LIMIT_PENALTY="0.2",
            AIRTABLE_MAX_RETRIES="2",
            AIRTABLE_TIMEOUT=None,
        )
        run_sync(settings)
        yield server, settings
        assert not server.internal_errors


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
    assert sent["Invoice Number"] == draft.invoice_number
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

    monkeypatch.setattr(writeback, "_mark_pushed", crash)
    with pytest.raises(KeyboardInterrupt):
        writeback.push_pending(settings, actor=Actor("a", "biller"))
    monkeypatch.undo()
    table = ledger.generated_invoices(settings)
    assert set(table["push_state"]) == {"sending"}
    server.clear_log()
    outcome = writeback.push_pending(settings, actor=Actor("a", "biller"))
    assert outcome.reconciled == 10  # the first chunk reached AirTable before the crash
    assert outcome.pending == 0 and outcome.error is None
    reads = server.requests_for("Invoices", kind="list")
    assert reads and all(r.query.get("fields[]") in (["Invoice Key"], "Invoice Key") for r in reads)
    keys = airtable_keys(server)
    assert len(keys) == len(set(keys))
    assert set(table["invoice_key"]) <= set(keys)


def test_status_change_is_pushed(airtable: Any) -> None:
    server, settings = airtable
    result = generate(settings, NOVEMBER, actor=Actor("a", "biller"))
    number = result.created[0].invoice_number
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


# Found in review: AirTable is where people work on pushed invoices -------------------------


def set_airtable_status(
    server: FakeAirtable, key: str, status: str, paid: str | None = None
) -> None:
    for record in server.records("Invoices"):
        if record["fields"].get("Invoice Key") == key:
            record["fields"]["Status"] = status
            if paid:
                record["fields"]["Paid Date"] = paid
            server.set_records(
                "Invoices",
                [r if r["id"] != record["id"] else record for r in server.records("Invoices")],
            )
            return
    raise AssertionError(f"{key} not in AirTable")


def test_sync_adopts_paid_from_airtable_and_nothing_is_billed_or_voided_over_it(
    airtable: Any,
) -> None:
    server, settings = airtable
    result = generate(settings, NOVEMBER, actor=Actor("a", "biller"))
    paid, voided = result.created[0], result.created[1]
    set_airtable_status(server, paid.invoice_key, "Paid", "2026-11-20")
    set_airtable_status(server, voided.invoice_key, "Void")
    run_sync(settings)
    table = ledger.generated_invoices(settings).set_index("number")
    assert table.loc[paid.invoice_number, "status"] == "Paid"
    assert table.loc[voided.invoice_number, "status"] == "Void"
    with pytest.raises(BillingError, match="cannot change"):
        change_status(
            settings,
            Change(str(paid.invoice_number), "Void", reason="x"),
            actor=Actor("a", "biller"),
            today=date(2026, 11, 25),
        )
    again = generate(settings, NOVEMBER, actor=Actor("a", "biller"))
    # Only the period voided in AirTable is billed again, under a key of its own.
    assert [d.invoice_key for d in again.created] == [f"{voided.invoice_key}/2"]
    assert "adopt" in set(ledger.audit_log(settings)["action"])


def test_a_change_during_a_push_is_not_lost(airtable: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    server, settings = airtable
    result = generate(settings, NOVEMBER, actor=Actor("a", "biller"), push=False)
    late = result.created[-1]  # in the last chunk
    original = writeback._mark_pushed
    changed = []

    def change_then_mark(*args: Any) -> None:
        if not changed:
            change_status(
                settings,
                Change(str(late.invoice_number), "Authorized"),
                actor=Actor("b", "biller"),
                today=date(2026, 11, 25),
            )
            changed.append(True)
        original(*args)

    monkeypatch.setattr(writeback, "_mark_pushed", change_then_mark)
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


def test_contract_with_an_unreadable_fee_is_skipped_with_its_reason(demo: Settings) -> None:
    plan = preview(demo, Month(2026, 12))
    reasons = {s.contract_id: s.reason for s in plan.skipped}
    assert "no Monthly Fee" in reasons["recZBV5HUM246IoOO"]  # the demo's #ERROR! fee


def test_generate__pdf_failure_after_commit_is_reported_not_raised(
    demo: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the PDF folder should be")
    monkeypatch.setenv("INVOICE_DIR", str(blocker))
    result = generate(load_settings(), NOVEMBER, actor=Actor("a", "biller"))
    assert result.created and result.pdf_error and "saved" in result.pdf_error
    assert len(ledger.generated_invoices(demo)) == len(result.created)


def test_a_key_held_twice_in_airtable_blocks_only_itself(airtable: Any) -> None:
    server, settings = airtable
    result = generate(settings, NOVEMBER, actor=Actor("a", "biller"))
    doubled = result.created[3]
    assert doubled.invoice_number is not None
    copy = next(
        r
        for r in server.records("Invoices")
        if r["fields"].get("Invoice Key") == doubled.invoice_key
    )
    server.set_records("Invoices", [*server.records("Invoices"), {"fields": dict(copy["fields"])}])
    for draft in result.created[:12]:
        change_status(
            settings,
            Change(str(draft.invoice_number), "Authorized"),
            actor=Actor("a", "biller"),
            today=date(2026, 11, 25),
        )
    outcome = writeback.push_pending(settings, actor=Actor("a", "biller"))
    assert outcome.pushed == 11 and outcome.pending == 1
    assert outcome.error is not None and doubled.invoice_key in outcome.error


def test_dashboards_count_invoices_made_here(demo: Settings) -> None:
    from sales_core.metrics.overview import overview_tiles

    today = date(2026, 11, 25)
    before = overview_tiles(demo, today).set_index("currency")
    result = generate(demo, NOVEMBER, actor=Actor("a", "biller"))
    first = result.created[0]
    assert first.currency == "USD"
    change_status(
        demo,
        Change(str(first.invoice_number), "Authorized"),
        actor=Actor("a", "biller"),
        today=today,
    )
    after = overview_tiles(demo, today).set_index("currency")
    # A Draft is not invoiced yet; the authorized one is, and is owed.
    expected = (before.loc["USD", "invoiced_this_month"] or 0) + first.amount
    assert after.loc["USD", "invoiced_this_month"] == expected
    assert after.loc["USD", "receivables"] == before.loc["USD", "receivables"] + first.amount


def test_overview_counts_include_invoices_made_here(demo: Settings) -> None:
    from sales_core.health import sync_status

    before = sync_status(demo.db_path)
    result = generate(demo, NOVEMBER, actor=Actor("a", "biller"))
    after = sync_status(demo.db_path)
    assert after.counts["invoices"] == before.counts["invoices"]  # the synced copy
    assert after.total("invoices") == before.total("invoices") + len(result.created)
