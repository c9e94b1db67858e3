"""Time per invoice PDF by script, for this tree and an earlier commit, in one run.

    .venv/bin/python benchmarks/pdf_scripts.py [--before main] [--repeat 30] [--rounds 3]

For each tree (the commit `--before`, extracted with `git archive` into a temporary folder,
and this working tree), a fresh Python process renders the same invoices, whose Bill to name is
in one script each: the first render in that process (which opens the font files) and the
median of `--repeat` more. The trees take turns for `--rounds` rounds, and the lowest median of
each is printed, so that a busy neighbour on a shared machine weighs on both alike. The
Latin-only invoice is the common case and must not get slower.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

NAMES = {
    "Latin only": "Université de Montréal – Research Hub",
    "Greek": "Εθνικό Μετσόβιο Πολυτεχνείο",
    "Japanese": "東京大学 情報基盤センター",
    "Korean": "서울대학교 연구 허브",
    "Arabic": "جامعة القاهرة",
    "Hebrew": "האוניברסיטה העברית",
    "Japanese + Arabic": "東京大学 / جامعة القاهرة",
}


def measure(repeat: int) -> dict[str, list[float] | str]:
    """In this process, with `sales_core` from sys.path: first and median seconds per name."""
    from sales_core.invoice import Invoice, InvoiceLine
    from sales_core.pdf import Seller, render_invoice
    from sales_core.vocabulary import LineKind

    line = InvoiceLine(
        kind=LineKind.FEE,
        description="Hub service (research hub 2026), 2026-05-01 – 2026-05-31",
        amount=Decimal("1387.10"),
        period_start=date(2026, 5, 1),
        period_end=date(2026, 5, 31),
        days=31,
        detail="1 month",
    )
    base = Invoice(
        invoice_key="recBENCH/2026-05-01/2026-05-31",
        contract_id="recBENCH",
        number="INV-2026-0042",
        issue_date=date(2026, 5, 1),
        due_date=date(2026, 5, 31),
        community="",
        contract_name="Research hub 2026",
        billing_email="billing@example.org",
        period_start=date(2026, 5, 1),
        period_end=date(2026, 5, 31),
        currency="EUR",
        lines=(line,),
    )
    seller = Seller(
        name="Managed Hubs Collaborative",
        address="1 Example Street\nSpringfield",
        payment_instructions="IBAN XX00",
    )
    figures: dict[str, list[float] | str] = {}
    for script, name in NAMES.items():
        doc = replace(base, community=name)
        try:
            started = time.perf_counter()
            render_invoice(doc, seller)
            first = time.perf_counter() - started
            runs = []
            for _ in range(repeat):
                started = time.perf_counter()
                render_invoice(doc, seller)
                runs.append(time.perf_counter() - started)
            figures[script] = [first, statistics.median(runs)]
        except Exception as exc:  # the earlier tree may not print a script at all
            figures[script] = f"{type(exc).__name__}: {str(exc)[:60]}"
    return figures


def run_tree(tree: Path, repeat: int) -> dict[str, list[float] | str]:
    """`measure` in a fresh process that imports `sales_core` from `tree`."""
    done = subprocess.run(
        [sys.executable, __file__, "--measure", str(tree), "--repeat", str(repeat)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    figures: dict[str, list[float] | str] = json.loads(done.stdout)
    return figures


def extract(commit: str, folder: Path) -> Path:
    """The `sales_core` of `commit`, written under `folder`."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit, "sales_core"], capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def best(figures: list[list[float] | str]) -> list[float] | str:
    """The figure with the lowest median, or the failure when a tree cannot print it."""
    timed = [figure for figure in figures if not isinstance(figure, str)]
    return min(timed, key=lambda figure: figure[1]) if timed else figures[0]


def cell(figure: list[float] | str) -> str:
    if isinstance(figure, str):
        return f"{'fails':>22}"
    first, median = figure
    return f"{median * 1000:8.1f} ms (1st {first * 1000:5.0f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="main", help="the commit to compare with")
    parser.add_argument("--repeat", type=int, default=30, help="renders per median")
    parser.add_argument("--rounds", type=int, default=3, help="turns each tree takes")
    parser.add_argument("--measure", metavar="TREE", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        sys.path.insert(0, args.measure)
        print(json.dumps(measure(args.repeat)))
        return 0

    print(f"python {platform.python_version()}, {os.cpu_count()} cores; median of {args.repeat}")
    with tempfile.TemporaryDirectory() as tmp:
        trees = (extract(args.before, Path(tmp)), ROOT)
        rounds = [[run_tree(tree, args.repeat) for tree in trees] for _ in range(args.rounds)]
    before, after = (
        {script: best([turn[index][script] for turn in rounds]) for script in NAMES}
        for index in (0, 1)
    )
    print(f"{'Bill to name':<20}{'before (' + args.before + ')':>24}{'after (this tree)':>24}")
    for script in NAMES:
        print(f"{script:<20}{cell(before[script]):>24}{cell(after[script]):>24}")
    for script, figure in before.items():
        if isinstance(figure, str):
            print(f"  before, {script}: {figure}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
