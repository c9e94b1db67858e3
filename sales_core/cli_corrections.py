"""The corrections commands of the CLI: void (to bill again or to waive), credit notes, a PDF.

    sales-core invoices void NUMBER --reason TEXT (--rebill | --waive) [--as EMAIL]
    sales-core invoices credit NUMBER --amount X --reason TEXT [--as EMAIL]
    sales-core invoices pdf NUMBER --out FILE        (an invoice made here, or a credit note)

Each change is pushed to AirTable right away when it is configured (`--no-push` keeps it
here); a push that fails leaves it pending and exits 1, like every other command.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sales_core import corrections, ledger, money
from sales_core.cli_common import actor_of, require_synced
from sales_core.config import Settings
from sales_core.errors import SalesError


def _push(args: argparse.Namespace, settings: Settings, actor: Any) -> int:
    """Push the change when AirTable is configured; 1 when the push failed (it stays pending)."""
    if not settings.airtable_configured or args.no_push:
        return 0
    from sales_core.writeback import push_pending

    outcome = push_pending(settings, actor=actor)
    if outcome.error:
        print(f"Not yet in AirTable: {outcome.error} (the next push sends it).")
        return 1
    return 0


def cmd_void(args: argparse.Namespace, settings: Settings) -> int:
    require_synced(settings)
    actor = actor_of(args, settings)
    mode = corrections.VoidMode.WAIVE if args.waive else corrections.VoidMode.REBILL
    corrections.void(settings, args.number, reason=args.reason, mode=mode, actor=actor)
    then = (
        "its period and charges go back to the next run"
        if mode == corrections.VoidMode.REBILL
        else "its period and charges stay covered (waived)"
    )
    print(f"{args.number.strip()} is Void: {then}.")
    return _push(args, settings, actor)


def cmd_credit(args: argparse.Namespace, settings: Settings) -> int:
    require_synced(settings)
    actor = actor_of(args, settings)
    note = corrections.credit(
        settings, args.number, args.amount, reason=args.reason, actor=actor, today=date.today()
    )
    print(
        f"{note.number}: {money.text(note.amount, note.currency)} credited on "
        f"{note.credited_number}; it still holds {money.text(note.remaining, note.currency)}."
    )
    return _push(args, settings, actor)


def cmd_pdf(args: argparse.Namespace, settings: Settings) -> int:
    require_synced(settings)
    number = args.number.strip()
    if number.upper().startswith("CN-"):
        data = corrections.credit_note_pdf(settings, number)
    else:
        data = ledger.invoice_pdf(settings, number)
    out = Path(args.out)
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise SalesError(f"Could not write {out}: {exc.strerror or exc}.") from None
    print(f"Wrote {out} ({len(data):,} bytes).")
    return 0


def add_commands(sub: Any, actor_option: Callable[[argparse.ArgumentParser], None]) -> None:
    """Register void, credit and pdf under `sales-core invoices`."""

    void = sub.add_parser(
        "void",
        help="void an invoice made here: to bill it again (--rebill) or to waive it (--waive)",
        description="Void one invoice made here, with a reason. --rebill: its period and charges "
        "go back to the next run. --waive: nothing is owed; no run bills them again.",
    )
    void.add_argument("number", help="the invoice number, e.g. INV-2026-0042")
    void.add_argument("--reason", required=True, help="why (printed on the PDF)")
    mode = void.add_mutually_exclusive_group(required=True)
    mode.add_argument("--rebill", action="store_true", help="bill the period again")
    mode.add_argument("--waive", action="store_true", help="nothing is owed for the period")
    void.add_argument("--no-push", action="store_true", help="keep the change here for now")
    actor_option(void)
    void.set_defaults(handler=cmd_void)

    credit = sub.add_parser(
        "credit",
        help="issue a credit note (CN-YYYY-NNNN) against an Authorized or Paid invoice",
        description="Credit part or all of what an invoice still holds, with a reason.",
    )
    credit.add_argument("number", help="the invoice credited, e.g. INV-2026-0042")
    credit.add_argument("--amount", required=True, help="how much, in the invoice's currency")
    credit.add_argument("--reason", required=True, help="why (printed on the credit note)")
    credit.add_argument("--no-push", action="store_true", help="keep it here for now")
    actor_option(credit)
    credit.set_defaults(handler=cmd_credit)

    pdf = sub.add_parser(
        "pdf",
        help="write the PDF of an invoice made here, or of a credit note",
        description="Render the PDF from the invoice's current state.",
    )
    pdf.add_argument("number", help="INV-YYYY-NNNN or CN-YYYY-NNNN")
    pdf.add_argument("--out", required=True, help="the file to write")
    pdf.set_defaults(handler=cmd_pdf)
