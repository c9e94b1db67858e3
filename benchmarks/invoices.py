"""Invoice run figures: preview of 5,000 contracts, and generating 1,000 invoices with PDFs.

    .venv/bin/python benchmarks/invoices.py [--contracts 5000] [--invoices 1000] [--repeat 5]

Targets (issue 5): preview of 5,000 contracts <= 0.5 s; 1,000 invoices with their PDFs at >= 50
invoices per second end to end. Medians of --repeat runs, all measured in this one run.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sales_core import demogen, invoicing, ledger, pdf, store  # noqa: E402
from sales_core.access import Actor  # noqa: E402
from sales_core.billing import Month  # noqa: E402
from sales_core.config import Settings, load_settings  # noqa: E402
from sales_core.sync import load, validate  # noqa: E402


def timed(action: Callable[[], Any], repeat: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times


def settings_for(folder: Path) -> Settings:
    return load_settings(
        {"SALES_DB": str(folder / "bench.duckdb"), "INVOICE_DIR": str(folder / "invoices")},
        folder / "no-secrets.toml",
    )


def load_records(settings: Settings, raw: dict[str, list[dict[str, Any]]]) -> None:
    validated = validate(raw, settings.mapping)
    with store.write_transaction(settings.db_path) as con:
        load(con, validated, source="bench", started_at=store.utcnow(), requests=0)


def monthly_contracts(count: int) -> list[dict[str, Any]]:
    """`count` Active monthly contracts, all billable in 2026-12, in a few currencies."""
    currencies = ["USD"] * 6 + ["EUR", "GBP", "JPY", "USD"]
    return [
        {
            "id": f"recBENCH{i:09d}",
            "createdTime": "2025-01-01T00:00:00.000Z",
            "fields": {
                "Contract Name": f"Université {i} – Research Hub: Hub service",
                "Community": f"Université {i} – Research Hub",
                "Status": "Active",
                "Start Date": f"2026-{1 + i % 11:02d}-{1 + i % 27:02d}",
                "Monthly Fee": 99999 if currencies[i % 10] == "JPY" else 1000 + i % 700,
                "Currency": currencies[i % 10],
                "Billing Frequency": "Monthly",
                "Billing Email": f"billing{i}@example.org",
            },
        }
        for i in range(count)
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", type=int, default=5000, help="contracts for the preview")
    parser.add_argument("--invoices", type=int, default=1000, help="invoices to generate")
    parser.add_argument("--repeat", type=int, default=5, help="runs per median")
    args = parser.parse_args(argv)

    print(f"python {platform.python_version()}, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)

        # Preview of a demo base scaled to --contracts contracts (with its invoice history).
        scale = max(1, round(args.contracts / 60))
        raw = demogen.generate(scale=scale)
        preview_settings = settings_for(folder / "preview")
        load_records(preview_settings, raw)
        with store.connect(preview_settings.db_path) as con:
            contracts = con.execute("SELECT count(*) FROM contracts").fetchall()[0][0]
            known = con.execute("SELECT count(*) FROM invoices").fetchall()[0][0]
        month = Month(2026, 11)
        plan = invoicing.preview(preview_settings, month)
        median, runs = timed(lambda: invoicing.preview(preview_settings, month), args.repeat)
        print(
            f"preview: {contracts:,} contracts, {known:,} known invoices, "
            f"{len(plan.drafts):,} drafts, {len(plan.skipped):,} skipped"
        )
        print(
            f"  median {median:.3f} s  (runs: {', '.join(f'{t:.3f}' for t in runs)})"
            f"  target <= 0.5 s: {'met' if median <= 0.5 else 'NOT met'}"
        )

        # Generate --invoices invoices with PDFs, each run from the same fresh copy.
        template = settings_for(folder / "template")
        load_records(template, {"contracts": monthly_contracts(args.invoices)})
        december = Month(2026, 12)
        wall: list[float] = []
        made = 0
        for run in range(max(1, min(args.repeat, 3))):
            target = folder / f"run{run}"
            target.mkdir()
            shutil.copy(template.db_path, target / "bench.duckdb")
            settings = settings_for(target)
            started = time.perf_counter()
            result = invoicing.generate(
                settings, december, actor=Actor("bench", "biller"), push=False
            )
            wall.append(time.perf_counter() - started)
            made = len(result.created)
            assert len(result.pdfs) == made
        median_gen = statistics.median(wall)
        rate = made / median_gen
        print(f"generate: {made:,} invoices with PDFs")
        print(
            f"  median {median_gen:.2f} s  (runs: {', '.join(f'{t:.2f}' for t in wall)})"
            f"  = {rate:.0f} invoices/s  target >= 50/s: {'met' if rate >= 50 else 'NOT met'}"
        )

        # Where the time goes: one PDF in this process, sequentially.
        doc = replace(result.created[0], community="Université de Montréal – Research Hub")
        seller = ledger.seller(settings)
        one, _ = timed(lambda: pdf.render_invoice(doc, seller), 20)
        print(
            f"  one PDF, rendered alone: {one * 1000:.1f} ms "
            f"(sequential ceiling {1 / one:.0f}/s; workers: {min(4, os.cpu_count() or 1)})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
