"""The invoice run as a service: numbering, idempotence, concurrency, the CLI's JSON."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from sales_core import invoicing, ledger, store
from sales_core.access import Actor
from sales_core.billing import Month
from sales_core.cli import main as cli_main
from sales_core.config import Settings, load_settings
from sales_core.invoicing import generate, preview
from sales_core.sync import run_sync
from tests.conftest import NOVEMBER, ROOT, numbers_of, sequence
from tests.fake_airtable import FakeAirtable


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
        if draft.fee is not None:  # an invoice of charges alone leaves nothing to skip
            assert reasons[draft.contract_id].startswith(f"already invoiced: {draft.number}")
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
    assert set(data) == {"month", "issue_date", "invoices", "skipped", "unbilled_months"}
    assert data["month"] == "2026-12" and data["issue_date"] == "2026-12-01"
    # The demo leaves one contract unbilled in January and in May, and November unbilled.
    assert data["unbilled_months"] == ["2026-01", "2026-05", "2026-11"]
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
        "exceeds_contract_by",
        "lines",
    }
    assert isinstance(invoice["amount"], str) and re.match(r"^\d+(\.\d\d)?$", invoice["amount"])
    for each in data["invoices"]:
        lines = each["lines"]
        assert lines and all(
            set(line)
            == {
                "kind",
                "description",
                "period_start",
                "period_end",
                "quantity",
                "unit_price",
                "amount",
                "charge_id",
            }
            for line in lines
        )
        assert sum(Decimal(line["amount"]) for line in lines) == Decimal(each["amount"])
    assert set(data["skipped"][0]) == {"contract_id", "contract_name", "reason"}
    jpy = [i for i in data["invoices"] if i["currency"] == "JPY"]
    assert jpy and "." not in jpy[0]["amount"]

    assert (
        main(["invoices", "generate", "--month", "2026-12", "--json", "--no-push", "--allow-gaps"])
        == 0
    )
    made = json.loads(capsys.readouterr().out)
    assert [i["invoice_key"] for i in made["invoices"]] == [
        i["invoice_key"] for i in data["invoices"]
    ]
    assert all(re.match(r"^INV-2026-\d{4,}$", i["invoice_number"]) for i in made["invoices"])
    assert (
        main(["invoices", "generate", "--month", "2026-12", "--json", "--no-push", "--allow-gaps"])
        == 0
    )
    assert json.loads(capsys.readouterr().out)["invoices"] == []


def test_cli__bad_month_is_one_line(demo: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    from sales_core.cli import main

    assert main(["invoices", "preview", "--month", "2026-13"]) == 1
    err = capsys.readouterr().err
    assert "YYYY-MM" in err and len(err.strip().splitlines()) == 1


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
        "--allow-gaps",  # the demo has earlier months to bill
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


def test_one_absurd_payment_terms_never_stops_the_month(
    airtable: tuple[FakeAirtable, Settings], capsys: pytest.CaptureFixture[str]
) -> None:
    server, settings = airtable
    before = preview(settings, NOVEMBER)
    absurd = before.drafts[0].contract_id
    records = server.records("Contracts")
    for record in records:
        if record["id"] == absurd:
            record["fields"]["Payment Terms"] = 1_000_000_000
    server.set_records("Contracts", records)
    run_sync(settings)
    plan = preview(settings, NOVEMBER)
    assert {d.contract_id for d in plan.drafts} == {d.contract_id for d in before.drafts} - {absurd}
    [reason] = [s.reason for s in plan.skipped if s.contract_id == absurd]
    assert reason.startswith("Payment Terms of 1000000000 days is outside 0–365")
    made = generate(settings, NOVEMBER, actor=Actor("a", "biller"))
    assert len(made.created) == len(before.drafts) - 1 and made.push_error is None


def test_pdfs_missing_after_a_killed_run_are_found_and_written_by_the_next(
    demo: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    first = generate(demo, NOVEMBER, actor=Actor("a", "biller"))
    lost = sorted(first.pdfs)[:3]
    for number in lost:
        first.pdfs[number].unlink()  # as if the run had been killed after its commit
    assert ledger.missing_pdfs(demo) == lost
    assert cli_main(["status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["missing_pdfs"] == lost

    again = generate(demo, NOVEMBER, actor=Actor("a", "biller"))
    assert again.created == [] and again.repaired_pdfs == lost
    assert all(first.pdfs[n].read_bytes().startswith(b"%PDF") for n in lost)
    assert ledger.missing_pdfs(demo) == []


def test_generate__an_invoice_no_font_can_print_is_named_and_the_others_get_pdfs(
    airtable: tuple[FakeAirtable, Settings],
) -> None:
    server, settings = airtable
    records = server.records("Contracts")
    chosen = preview(settings, NOVEMBER).drafts[0].contract_id
    for record in records:
        if record["id"] == chosen:
            record["fields"]["Community"] = "Card club 🂡"
    server.set_records("Contracts", records)
    run_sync(settings)
    made = generate(settings, NOVEMBER, actor=Actor("a", "biller"), push=False)
    [bad] = [d.number for d in made.created if d.contract_id == chosen]
    assert made.pdf_error is not None
    assert f"{bad}: the Bill to name has characters no font can print: 🂡 (U+1F0A1)" in (
        made.pdf_error
    )
    written = {path.stem for path in settings.invoice_dir.rglob("*.pdf")}
    assert written == {d.number for d in made.created} - {bad}
