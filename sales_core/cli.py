"""`python -m sales_core …` (also `sales-core …`): a thin face on the library for cron and scripts.

Each command parses its arguments, reads the settings and calls one library function. Success
exits 0; a failure prints one line saying why (to stderr) and exits 1; a wrong setting exits 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from sales_core import health, ledger
from sales_core.cli_common import print_json
from sales_core.cli_invoices import add_invoice_commands
from sales_core.config import Settings, load_settings
from sales_core.errors import ConfigError, SalesError
from sales_core.sync import run_sync

Command = Callable[[argparse.Namespace, Settings], int]


def cmd_sync(args: argparse.Namespace, settings: Settings) -> int:
    """Copy the source into the local database."""

    def progress(message: str) -> None:
        if not args.json:
            print(message, file=sys.stderr)

    result = run_sync(settings, args.source, progress=None if args.quiet else progress)
    if args.json:
        print_json(result.to_json())
    else:
        counts = ", ".join(f"{n:,} {table}" for table, n in result.counts.items())
        print(
            f"Synced from {result.source}: {counts}; {result.rejected} quarantined, "
            f"{result.warnings} warnings, {result.requests} requests."
        )
        if result.push_text:
            print(result.push_text)
        if result.missing_text:
            print(result.missing_text)
    return 0


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    """Say when the last sync ran and what the local copy holds."""
    status = health.sync_status(settings.db_path, lock_timeout=settings.lock_timeout)
    missing = ledger.missing_pdfs(settings) if status.has_data else []
    if args.json:
        print_json(
            {"configured_source": settings.source_name, **status.to_json(), "missing_pdfs": missing}
        )
        return 0
    print(f"Configured source: {settings.source_name}")
    if not status.has_data:
        print("No successful sync yet: run `sales-core sync`.")
    else:
        print(f"Last sync: {status.last_ok_at:%Y-%m-%d %H:%M:%S} UTC from {status.last_ok_source}")
        for table, count in status.counts.items():
            print(f"  {table}: {count:,}")
        print(f"Quarantined records: {status.rejected} (and {status.warnings} warnings)")
        waiting = ", ".join(f"{n} {what}" for what, n in status.pending_pushes.items() if n)
        if waiting:
            print(f"Not yet in AirTable: {waiting}")
        if status.conflicts:
            print(
                f"Conflicts with AirTable: {status.conflicts} (`sales-core invoices conflicts` "
                f"lists them)"
            )
    if missing:
        print(
            f"{len(missing)} invoice PDFs are missing from {settings.invoice_dir}; "
            f"the next `sales-core invoices generate` writes them."
        )
    if status.last_run_status == "failed":
        print(f"The latest sync failed: {status.last_run_error}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every command and its help."""
    parser = argparse.ArgumentParser(
        prog="sales-core",
        description="Sales and invoicing console: sync AirTable into DuckDB and report on it.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sync = commands.add_parser(
        "sync",
        help="copy the AirTable base (or the demo data) into the local database",
        description="Read every table, validate, quarantine bad records and write the rest in "
        "one transaction. On failure the previous data is kept and the reason is recorded.",
    )
    sync.add_argument(
        "--source",
        choices=["airtable", "demo"],
        help="where to read from (default: airtable when configured, else demo)",
    )
    sync.add_argument("--json", action="store_true", help="print the result as JSON")
    sync.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    sync.set_defaults(handler=cmd_sync)

    status = commands.add_parser(
        "status",
        help="show the last sync, the counts and the quarantined records",
        description="Show when the local copy was last synced, what it holds and how many "
        "records are quarantined.",
    )
    status.add_argument("--json", action="store_true", help="print the status as JSON")
    status.set_defaults(handler=cmd_status)
    add_invoice_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"sales-core: configuration error: {exc}", file=sys.stderr)
        return 2
    handler: Command = args.handler
    try:
        code = handler(args, settings)
        sys.stdout.flush()  # a closed pipe shows here, not at the interpreter's exit
        return code
    except BrokenPipeError:  # `sales-core … | head`: the reader left; not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except ConfigError as exc:  # e.g. SALES_DB naming a folder: a wrong setting
        print(f"sales-core: configuration error: {exc}", file=sys.stderr)
        return 2
    except SalesError as exc:
        print(f"sales-core: {exc}", file=sys.stderr)
        return 1
