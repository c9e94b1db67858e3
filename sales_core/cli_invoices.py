"""The `invoices` commands of the CLI (cli.py): the run, its states, payments, mail, export.

Each command parses its arguments, reads the settings and calls one library function; cli.py
turns a SalesError into one line on stderr and exit code 1. Corrections (void, credit notes,
a PDF) are in cli_corrections.py.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from decimal import Decimal
from typing import Any

from sales_core import burndown, cli_corrections, invoicing, ledger, money
from sales_core.billing import Month
from sales_core.cli_common import actor_of, month_of, require_synced
from sales_core.config import Settings
from sales_core.errors import BillingError, SalesError


def _month_and_date(args: argparse.Namespace) -> tuple[Month, date | None]:
    month = month_of(args.month, date.today())
    issue_date = None
    if args.issue_date:
        try:
            issue_date = date.fromisoformat(args.issue_date)
        except ValueError:
            raise BillingError(
                f"--issue-date '{args.issue_date}' is not a date: write YYYY-MM-DD."
            ) from None
    return month, issue_date


def _print_plan_text(data: dict[str, Any], numbered: bool) -> None:
    invoices, skipped = data["invoices"], data["skipped"]
    verb = "Made" if numbered else "Would make"
    print(f"{verb} {len(invoices)} invoices for {data['month']} (issue date {data['issue_date']}).")
    for inv in invoices:
        number = f"{inv['invoice_number']}  " if numbered else ""
        print(
            f"  {number}{inv['contract_name']}: "
            f"{inv['period_start']} – {inv['period_end']}  {inv['amount']} {inv['currency']}"
        )
    if skipped:
        print(f"Skipped {len(skipped)} contracts:")
        for item in skipped:
            print(f"  {item['contract_name']} ({item['contract_id']}): {item['reason']}")


def _add_excesses(data: dict[str, Any], excesses: dict[str, Decimal]) -> None:
    """Each invoice of the JSON gains `exceeds_contract_by`: the excess as text, or null."""
    for invoice in data["invoices"]:
        excess = excesses.get(invoice["invoice_key"])
        invoice["exceeds_contract_by"] = (
            None if excess is None else money.plain(excess, invoice["currency"])
        )


def cmd_invoices_preview(args: argparse.Namespace, settings: Settings) -> int:
    """Show what the run of a month would make, changing nothing."""
    month, issue_date = _month_and_date(args)
    require_synced(settings)
    plan = invoicing.preview(settings, month, issue_date)
    data = invoicing.plan_json(plan)
    _add_excesses(data, burndown.excesses(settings, plan))
    data["unbilled_months"] = invoicing.unbilled_months(settings, month)
    if args.json:
        print(json.dumps(data, ensure_ascii=False))
    else:
        _print_plan_text(data, numbered=False)
        over = [i for i in data["invoices"] if i["exceeds_contract_by"]]
        for invoice in over:
            print(
                f"Over its contract's Amount by {invoice['exceeds_contract_by']} "
                f"{invoice['currency']}: {invoice['contract_name']}"
            )
        if data["unbilled_months"]:
            print(f"Earlier months not yet billed: {', '.join(data['unbilled_months'])}")
    return 0


def cmd_invoices_generate(args: argparse.Namespace, settings: Settings) -> int:
    """Make the month's invoices (numbers, PDFs) and push them to AirTable.

    Exits 1 when the invoices are made but their PDFs or their push failed: cron must hear of it.
    """
    month, issue_date = _month_and_date(args)
    actor = actor_of(args, settings)
    require_synced(settings)
    if month > Month.of(date.today()) and not args.future:
        raise SalesError(
            f"{month} has not begun: billing it now gives it lower numbers than the months in "
            f"between; pass --future to bill it ahead of time."
        )
    gaps = invoicing.unbilled_months(settings, month)
    if gaps and not args.allow_gaps:
        raise SalesError(
            f"Earlier months are not billed yet: {', '.join(gaps)}. Bill them first (numbers "
            f"follow the order of the runs), or pass --allow-gaps to bill {month} anyway."
        )
    result = invoicing.generate(settings, month, issue_date, actor=actor, push=not args.no_push)
    data = result.to_json()
    if args.json:
        print(json.dumps(data, ensure_ascii=False))
    else:
        _print_plan_text(data, numbered=True)
        if result.pdfs:
            folder = next(iter(result.pdfs.values())).parent
            print(f"PDFs in {folder}")
    if result.repaired_pdfs:
        shown = ", ".join(result.repaired_pdfs[:5]) + (
            ", …" if len(result.repaired_pdfs) > 5 else ""
        )
        print(
            f"sales-core: also wrote {len(result.repaired_pdfs)} PDFs missing from earlier runs "
            f"({shown})",
            file=sys.stderr,
        )
    if result.pdf_error:
        print(f"sales-core: invoices kept, but {result.pdf_error}", file=sys.stderr)
    if result.push_error:
        print(
            f"sales-core: invoices kept, not yet in AirTable: {result.push_error}", file=sys.stderr
        )
    return 1 if result.push_error or result.pdf_error else 0


def cmd_invoices_push(args: argparse.Namespace, settings: Settings) -> int:
    """Send the invoices AirTable has not confirmed yet."""
    from sales_core.writeback import push_pending

    outcome = push_pending(settings, actor=actor_of(args, settings))
    if args.json:
        print(json.dumps(outcome.__dict__))
    else:
        print(f"Sent {outcome.pushed}; {outcome.pending} still pending.")
    if outcome.error:
        print(f"sales-core: push failed: {outcome.error}", file=sys.stderr)
        return 1
    if outcome.held:
        print(
            f"sales-core: {outcome.held} invoices wait for a person: they conflict with AirTable "
            f"(`sales-core invoices conflicts`).",
            file=sys.stderr,
        )
        return 1
    return 0


def cmd_invoices_authorize(args: argparse.Namespace, settings: Settings) -> int:
    """Authorize Drafts: the numbers given, or every Draft of a run month, then push."""
    from sales_core.writeback import push_pending

    require_synced(settings)
    if bool(args.numbers) == bool(args.month):
        raise BillingError("Give the invoice numbers to authorize, or --month M: one of the two.")
    month = str(month_of(args.month, date.today())) if args.month else None
    actor = actor_of(args, settings)
    done = ledger.authorize_many(settings, args.numbers, actor=actor, month=month)
    push = settings.airtable_configured and not args.no_push  # the demo keeps them here
    outcome = push_pending(settings, actor=actor) if push else None
    if args.json:
        print(json.dumps({"authorized": done, "pushed": outcome.pushed if outcome else 0}))
    else:
        print(f"Authorized {len(done)}: {', '.join(done)}")
    if outcome is not None and (outcome.error or outcome.held):
        why = outcome.error or "some conflict with AirTable (`sales-core invoices conflicts`)"
        print(f"sales-core: authorized, not yet all in AirTable: {why}", file=sys.stderr)
        return 1
    return 0


def cmd_invoices_pay(args: argparse.Namespace, settings: Settings) -> int:
    """Record a payment on an Authorized receivable and send the new balance to AirTable."""
    from sales_core import payments
    from sales_core.writeback import push_pending

    require_synced(settings)
    try:
        paid_on = date.fromisoformat(args.date)
    except ValueError:
        raise BillingError(f"--date '{args.date}' is not a date: write YYYY-MM-DD.") from None
    actor = actor_of(args, settings)
    amount = str(args.amount).strip()
    if not amount:
        raise BillingError("--amount is empty.")
    invoice_currency = payments.currency_of(settings, args.number)
    payment = payments.Payment(
        args.number, payments.parse_amount(amount, invoice_currency), paid_on, args.reference
    )
    done = payments.record(settings, payment, actor=actor, today=date.today())
    push = settings.airtable_configured and not args.no_push  # the demo keeps them here
    outcome = push_pending(settings, actor=actor) if push else None
    data = {
        "number": done.number,
        "currency": done.currency,
        "paid": str(done.paid),
        "amount_paid": str(done.amount_paid),
        "balance": str(done.balance),
        "status": done.status,
        "pushed": outcome is not None and outcome.error is None and not outcome.held,
    }
    if args.json:
        print(json.dumps(data))
    else:
        print(
            f"{done.number}: {done.paid} {done.currency} recorded; paid so far "
            f"{done.amount_paid}, balance {done.balance} ({done.status})."
        )
    if outcome is not None and (outcome.error or outcome.held):
        why = outcome.error or "it conflicts with AirTable (`sales-core invoices conflicts`)"
        print(f"sales-core: payment kept, not yet in AirTable: {why}", file=sys.stderr)
        return 1
    return 0


def cmd_invoices_export(args: argparse.Namespace, settings: Settings) -> int:
    """Write the month's invoices as Xero's or QuickBooks Online's import file."""
    from pathlib import Path

    from sales_core import accounting

    require_synced(settings)
    month = month_of(args.month, date.today())
    options = accounting.Options(
        account_code=args.account_code,
        tax_type=args.tax_type,
        item=args.item,
        date_format=args.date_format,
    )
    data = accounting.export(settings, month, args.format, options)
    out = Path(args.out)
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise BillingError(f"Could not write {out}: {exc.strerror or exc}.") from None
    rows = max(data.decode("utf-8-sig").count("\n") - 1, 0)
    print(f"Wrote {rows} lines of {month}'s invoices to {out} ({args.format}).")
    return 0


def _deliver(args: argparse.Namespace, settings: Settings, reminders: bool) -> int:
    from sales_core import delivery
    from sales_core.writeback import push_pending

    require_synced(settings)
    if reminders:
        messages, skipped = delivery.plan_reminders(settings, date.today())
    else:
        month = str(month_of(args.month, date.today())) if args.month else None
        messages, skipped = delivery.plan_sends(settings, month)
    if args.dry_run or not settings.delivery.configured:
        outcome = delivery.Outcome(skipped=skipped)
        plan = outcome.to_json() | {
            "would_send": [
                {
                    "numbers": list(m.numbers),
                    "step": m.step,
                    "to": m.recipient,
                    "subject": m.subject,
                    "attachment": m.attachment,
                }
                for m in messages
            ],
            "smtp_configured": settings.delivery.configured,
        }
        if args.json:
            print(json.dumps(plan, ensure_ascii=False))
        else:
            for m in messages:
                print(f"would send to {m.recipient}: {m.subject} [{m.attachment}]")
            for number, why in skipped:
                print(f"left out {number}: {why}")
            if not settings.delivery.configured:
                print("Nothing sent: SMTP is not configured (SMTP_HOST, INVOICE_FROM_EMAIL).")
        return 0
    actor = actor_of(args, settings)
    outcome = delivery.send(settings, messages, actor=actor, today=date.today())
    outcome.skipped.extend(skipped)
    pushed = push_pending(settings, actor=actor) if settings.airtable_configured else None
    if args.json:
        print(json.dumps(outcome.to_json(), ensure_ascii=False))
    else:
        print(
            f"Sent {len(outcome.sent)}; {len(outcome.failed)} failed; "
            f"{len(outcome.skipped)} left out; {len(outcome.busy)} taken by another run."
        )
        for number, why in outcome.skipped:
            print(f"left out {number}: {why}")
    for message, why in outcome.failed:
        print(f"sales-core: {', '.join(message.numbers)} not sent: {why}", file=sys.stderr)
    if pushed is not None and pushed.error:
        print(f"sales-core: Sent At not yet in AirTable: {pushed.error}", file=sys.stderr)
    return 1 if outcome.failed or (pushed is not None and pushed.error) else 0


def cmd_invoices_send(args: argparse.Namespace, settings: Settings) -> int:
    """Email each Authorized invoice not sent yet (or the month's, to the sponsor)."""
    return _deliver(args, settings, reminders=False)


def cmd_invoices_remind(args: argparse.Namespace, settings: Settings) -> int:
    """Email one reminder per overdue invoice and reminder step."""
    return _deliver(args, settings, reminders=True)


def cmd_invoices_conflicts(args: argparse.Namespace, settings: Settings) -> int:
    """List the fields of invoices made here that a person must settle with AirTable."""
    from sales_core import reconcile

    require_synced(settings)
    frame = reconcile.conflicts(settings)
    rows = [
        {
            "number": r["number"],
            "field": r["field"],
            "here": r["here"],
            "airtable": r["there"],
            "problem": r["problem"],
            "found_by": r["found_by"],
        }
        for r in frame.to_dict("records")
    ]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
    elif not rows:
        print("No conflict with AirTable.")
    else:
        for row in rows:
            print(row["problem"])
    return 0


def cmd_invoices_resolve(args: argparse.Namespace, settings: Settings) -> int:
    """Settle the conflicts of one invoice, keeping AirTable's values or this app's."""
    from sales_core import reconcile

    require_synced(settings)
    reconcile.resolve(settings, args.number, args.keep, actor=actor_of(args, settings))
    whose = "AirTable's" if args.keep == "airtable" else "this app's (sent by the next push)"
    print(f"{args.number}: {whose} values stand.")
    return 0


def add_invoice_commands(commands: Any) -> None:
    invoices = commands.add_parser(
        "invoices",
        help="the monthly invoice run: preview, generate, push",
        description="The monthly invoice run from the contracts (rules: billing.md).",
    )
    sub = invoices.add_subparsers(dest="invoice_command", required=True, metavar="ACTION")

    def month_options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--month",
            required=True,
            help="the run's month: YYYY-MM, or current or previous (for cron)",
        )
        parser.add_argument("--issue-date", help="YYYY-MM-DD (default: the first day of the month)")
        parser.add_argument("--json", action="store_true", help="print billing.md's JSON")

    def actor_option(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--as",
            dest="actor",
            help="your email: checked against the access lists, recorded in the audit log "
            "(default: SALES_OPERATOR)",
        )

    preview = sub.add_parser(
        "preview",
        help="show the invoices a month's run would make, and the skipped contracts",
        description="Plan the run of a month without changing anything.",
    )
    month_options(preview)
    preview.set_defaults(handler=cmd_invoices_preview)

    generate = sub.add_parser(
        "generate",
        help="make a month's invoices: numbers, PDFs, push to AirTable",
        description="Make the month's invoices. Running it again makes nothing new.",
    )
    month_options(generate)
    generate.add_argument("--no-push", action="store_true", help="do not send to AirTable")
    generate.add_argument(
        "--allow-gaps",
        action="store_true",
        help="bill the month although an earlier month is not billed yet",
    )
    generate.add_argument(
        "--future", action="store_true", help="bill a month that has not begun yet"
    )
    actor_option(generate)
    generate.set_defaults(handler=cmd_invoices_generate)

    push = sub.add_parser(
        "push",
        help="send the invoices AirTable has not confirmed yet",
        description="Upsert every pending invoice into AirTable on its Invoice Key.",
    )
    push.add_argument("--json", action="store_true", help="print the outcome as JSON")
    actor_option(push)
    push.set_defaults(handler=cmd_invoices_push)

    authorize = sub.add_parser(
        "authorize",
        help="authorize Drafts made here: the numbers given, or every Draft of --month",
        description="Authorize Drafts in one step (all or nothing), then push them to AirTable.",
    )
    authorize.add_argument("numbers", nargs="*", metavar="NUMBER", help="e.g. INV-2026-0042")
    authorize.add_argument(
        "--month", help="every Draft of this run month: YYYY-MM, or current or previous"
    )
    authorize.add_argument("--no-push", action="store_true", help="do not send to AirTable now")
    authorize.add_argument("--json", action="store_true", help="print the outcome as JSON")
    actor_option(authorize)
    authorize.set_defaults(handler=cmd_invoices_authorize)

    pay = sub.add_parser(
        "pay",
        help="record a payment on an Authorized receivable (made here or synced)",
        description="Record a payment: partial payments add up, the invoice is Paid when its "
        "balance reaches zero, an overpayment is refused. Amount Paid (and Paid Date) go to "
        "AirTable.",
    )
    pay.add_argument("number", help="the invoice number, e.g. INV-2026-0042")
    pay.add_argument("--amount", required=True, help="the amount received, in its currency")
    pay.add_argument("--date", required=True, help="the day it arrived, YYYY-MM-DD")
    pay.add_argument("--reference", help="the bank's reference, optional")
    pay.add_argument("--no-push", action="store_true", help="do not send to AirTable now")
    pay.add_argument("--json", action="store_true", help="print the outcome as JSON")
    actor_option(pay)
    pay.set_defaults(handler=cmd_invoices_pay)

    export = sub.add_parser(
        "export",
        help="the month's invoices as Xero's or QuickBooks Online's import file (CSV)",
        description="One row per invoice line of the receivables issued in the month "
        "(Authorized or Paid) and its credit notes (negative), in the product's import columns.",
    )
    export.add_argument("--month", required=True, help="YYYY-MM, or current or previous")
    export.add_argument("--format", required=True, choices=["xero", "quickbooks"])
    export.add_argument("--out", required=True, help="the CSV file to write")
    export.add_argument("--account-code", default="200", help="Xero's revenue account code")
    export.add_argument("--tax-type", default="Tax Exempt", help="Xero's tax rate name")
    export.add_argument("--item", default="Hosting services", help="QuickBooks' product/service")
    export.add_argument(
        "--date-format",
        help="strftime format of the dates (default: Xero %%d/%%m/%%Y, QuickBooks %%m/%%d/%%Y)",
    )
    export.set_defaults(handler=cmd_invoices_export)

    send = sub.add_parser(
        "send",
        help="email each Authorized invoice not sent yet, with its PDF (SMTP settings)",
        description="Send every Authorized invoice made here and not sent yet, each once, "
        "also when two runs overlap; Sent At goes to AirTable. Exits 1 when one fails.",
    )
    send.add_argument("--month", help="only the invoices of this run month")
    send.add_argument("--dry-run", action="store_true", help="show what would go, send nothing")
    send.add_argument("--json", action="store_true", help="print the outcome as JSON")
    actor_option(send)
    send.set_defaults(handler=cmd_invoices_send)

    remind = sub.add_parser(
        "remind",
        help="email a reminder for each overdue invoice, once per reminder step",
        description="For each Authorized receivable with a balance past due by a step of "
        "REMINDER_DAYS, send one reminder with its community's statement. Exits 1 on a failure.",
    )
    remind.add_argument("--dry-run", action="store_true", help="show what would go, send nothing")
    remind.add_argument("--json", action="store_true", help="print the outcome as JSON")
    actor_option(remind)
    remind.set_defaults(handler=cmd_invoices_remind)

    conflicts = sub.add_parser(
        "conflicts",
        help="list what changed both here and in AirTable, for a person to settle",
        description="Fields of invoices made here that conflict with AirTable; their push waits.",
    )
    conflicts.add_argument("--json", action="store_true", help="print the list as JSON")
    conflicts.set_defaults(handler=cmd_invoices_conflicts)

    resolve = sub.add_parser(
        "resolve",
        help="settle an invoice's conflicts with AirTable",
        description="Keep AirTable's values (taken here) or this app's (written to AirTable by "
        "the next push) for every conflicting field of one invoice.",
    )
    resolve.add_argument("number", help="the invoice number, e.g. INV-2026-0042")
    resolve.add_argument("--keep", required=True, choices=["airtable", "here"])
    actor_option(resolve)
    resolve.set_defaults(handler=cmd_invoices_resolve)

    cli_corrections.add_commands(sub, actor_option)
