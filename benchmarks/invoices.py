"""Invoice run figures: preview of 5,000 contracts, and generating 1,000 invoices with PDFs.

    .venv/bin/python benchmarks/invoices.py [--contracts 5000] [--invoices 1000] [--repeat 5]

Targets: preview of 5,000 contracts <= 0.5 s; 1,000 invoices with their PDFs at >= 50 invoices
per second end to end, both for Latin-only invoices of one fee line and for a mix: a third of
the invoices with charge lines (cloud costs, a discount) and 5% of the communities named in
Japanese, Korean, Chinese, Arabic, Hebrew or Greek. Medians of --repeat runs, all measured in
this one run.
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


# Names in the scripts the PDFs print besides Latin, for 5% of the mixed run's communities.
_NON_LATIN = (
    "京都大学 オープンサイエンスハブ",
    "서울대학교 데이터사이언스대학원",
    "清华大学 地球系统科学系",
    "جامعة الملك عبدالله للعلوم والتقنية",
    "האוניברסיטה העברית בירושלים",
    "Εθνικό Μετσόβιο Πολυτεχνείο",
)


def mixed_records(count: int) -> dict[str, list[dict[str, Any]]]:
    """The same contracts, 5% of them named in another script, a third of them with charges."""
    contracts = monthly_contracts(count)
    charges: list[dict[str, Any]] = []
    for i, record in enumerate(contracts):
        fields = record["fields"]
        if i % 20 == 7:
            name = _NON_LATIN[(i // 20) % len(_NON_LATIN)]
            fields["Community"] = name
            fields["Contract Name"] = f"{name}: Hub service"
        if i % 3 == 0:
            charges.append(
                {
                    "id": f"recCHARGE{i:08d}",
                    "createdTime": "2026-11-30T00:00:00.000Z",
                    "fields": {
                        "Description": "Cloud costs passed through at cost, November 2026",
                        "Contract": [record["id"]],
                        "Kind": "Pass-through",
                        "Amount": 12345 if fields["Currency"] == "JPY" else 123.45 + i % 50,
                        "Currency": fields["Currency"],
                        "Service Start": "2026-11-01",
                        "Service End": "2026-11-30",
                        "Bill In": "2026-12-01",
                    },
                }
            )
        if i % 9 == 0:
            charges.append(
                {
                    "id": f"recDISCOUNT{i:06d}",
                    "createdTime": "2026-11-30T00:00:00.000Z",
                    "fields": {
                        "Description": "Multi-year renewal discount",
                        "Contract": [record["id"]],
                        "Kind": "Discount",
                        "Amount": -100 if fields["Currency"] == "JPY" else -50,
                        "Currency": fields["Currency"],
                        "Bill In": "2026-12-01",
                    },
                }
            )
    return {"contracts": contracts, "charges": charges}


def generate_rate(
    folder: Path, name: str, raw: dict[str, list[dict[str, Any]]], repeat: int
) -> tuple[float, int, list[float], Any]:
    """Invoices per second of generating December from fresh copies of one loaded base."""
    template = settings_for(folder / f"template-{name}")
    load_records(template, raw)
    december = Month(2026, 12)
    wall: list[float] = []
    made = 0
    result: Any = None
    for run in range(max(1, min(repeat, 3))):
        target = folder / f"{name}-run{run}"
        target.mkdir()
        shutil.copy(template.db_path, target / "bench.duckdb")
        settings = settings_for(target)
        started = time.perf_counter()
        result = invoicing.generate(settings, december, actor=Actor("bench", "biller"), push=False)
        wall.append(time.perf_counter() - started)
        made = len(result.created)
        assert len(result.pdfs) == made, result.pdf_error
    return made / statistics.median(wall), made, wall, result


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

        # Generate --invoices invoices with PDFs, each run from the same fresh copy: Latin-only
        # invoices of one fee line, then the mix of lines and scripts.
        for name, raw_run in (
            ("latin", {"contracts": monthly_contracts(args.invoices)}),
            ("mixed", mixed_records(args.invoices)),
        ):
            rate, made, wall, result = generate_rate(folder, name, raw_run, args.repeat)
            lines = sum(len(d.lines) for d in result.created)
            print(f"generate ({name}): {made:,} invoices with PDFs, {lines:,} lines")
            print(
                f"  median {made / rate:.2f} s  (runs: {', '.join(f'{t:.2f}' for t in wall)})"
                f"  = {rate:.0f} invoices/s  target >= 50/s: {'met' if rate >= 50 else 'NOT met'}"
            )
        settings = settings_for(folder / "latin-run0")

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
