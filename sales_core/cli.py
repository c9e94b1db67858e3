"""`python -m sales_core …` (also `sales-core …`): a thin face on the library for cron and scripts.

Each command parses its arguments, reads the settings and calls one library function. Success
exits 0; a failure prints one line saying why (to stderr) and exits 1; a wrong setting exits 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from sales_core import health
from sales_core.config import Settings, load_settings
from sales_core.errors import ConfigError, SalesError
from sales_core.sync import run_sync

Command = Callable[[argparse.Namespace, Settings], int]


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def cmd_sync(args: argparse.Namespace, settings: Settings) -> int:
    """Copy the source into the local database."""

    def progress(message: str) -> None:
        if not args.json:
            print(message, file=sys.stderr)

    result = run_sync(settings, args.source, progress=None if args.quiet else progress)
    if args.json:
        _print_json(result.to_json())
    else:
        counts = ", ".join(f"{n:,} {table}" for table, n in result.counts.items())
        print(
            f"Synced from {result.source}: {counts}; {result.rejected} quarantined, "
            f"{result.warnings} warnings, {result.requests} requests."
        )
    return 0


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    """Say when the last sync ran and what the local copy holds."""
    status = health.sync_status(settings.db_path, lock_timeout=settings.lock_timeout)
    if args.json:
        _print_json({"configured_source": settings.source_name, **status.to_json()})
        return 0
    print(f"Configured source: {settings.source_name}")
    if not status.has_data:
        print("No successful sync yet: run `sales-core sync`.")
    else:
        print(f"Last sync: {status.last_ok_at:%Y-%m-%d %H:%M:%S} UTC from {status.last_ok_source}")
        for table, count in status.counts.items():
            print(f"  {table}: {count:,}")
        print(f"Quarantined records: {status.rejected} (and {status.warnings} warnings)")
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
        return handler(args, settings)
    except SalesError as exc:
        print(f"sales-core: {exc}", file=sys.stderr)
        return 1
